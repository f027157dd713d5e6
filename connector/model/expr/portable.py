"""exp and pow from the C library, one value at a time: the same bytes on every CPU.

numpy picks its SIMD kernels by CPU at run time, and its AVX-512 float64 exp (and its SVML pow)
round some results differently from the C library its scalar path calls: `lognormal()`, `**` and
`round(x, n)` gave other bytes on an AVX-512 machine than on an AVX2 one, so a run's output
depended on the host (the iot example's golden digest differed). Python's `math` calls the C
library's exp and pow; ~50-100 ns a value, and these functions are rare in models.
"""

from __future__ import annotations

import math

import numpy as np

from connector.model.expr.ast import Binary, Call, Node, walk
from connector.model.expr.types import Value


def calls_portable_math(tree: Node) -> bool:
    """Whether an expression reaches exp or pow here: `lognormal()` (randoms.py), `**` and
    `round(x, n)` (ops.py). A run of a model that does is fingerprinted apart from runs made
    when numpy's CPU-dependent kernels computed them (engine/identity.py); a new caller of this
    module belongs in this list."""
    return any((isinstance(n, Call) and (n.name == "lognormal" or
                                          (n.name == "round" and len(n.args) == 2))) or
               (isinstance(n, Binary) and n.op == "**") for n in walk(tree))


# Above this exp overflows (math.exp raises; IEEE gives +inf).
_EXP_MAX = 709.782712893384


def exp(x: Value) -> Value:
    """e**x elementwise, float64, as the C library computes it (+inf where it overflows)."""
    values = np.asarray(x, dtype=np.float64)
    over = values > _EXP_MAX
    safe = np.where(over, 0.0, values)
    out = np.fromiter(map(math.exp, safe.ravel().tolist()), dtype=np.float64,
                      count=safe.size).reshape(safe.shape)
    out[over] = np.inf
    return out if out.ndim else out[()]


def power(a: Value, b: Value) -> Value:
    """a**b elementwise (broadcast), float64, as the C library computes it; where it has no
    finite answer (overflow, 0 to a negative power, a negative base to a fraction) the IEEE
    special value numpy gives (inf, nan), which is the same on every CPU."""
    base, exponent = np.broadcast_arrays(np.asarray(a, dtype=np.float64),
                                         np.asarray(b, dtype=np.float64))
    out = np.fromiter(map(_pow, base.ravel().tolist(), exponent.ravel().tolist()),
                      dtype=np.float64, count=base.size).reshape(base.shape)
    return out if out.ndim else out[()]


def _pow(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except (ValueError, OverflowError):
        with np.errstate(all="ignore"):
            return float(np.power(a, b))
