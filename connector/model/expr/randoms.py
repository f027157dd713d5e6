"""Random draws: one value per row from the call site's own generator.

Each function draws exactly `size` values whatever its arguments, so a site's numbers never depend
on which other sites exist or on which branch of an if() a row takes. Parameters may be scalars or
columns. Invalid parameters are clamped instead of raising mid-run (documented per function).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from connector.model.expr import portable
from connector.model.expr.ops import f64
from connector.model.expr.types import Value

# numpy's poisson() rejects larger rates; a rate this high is meaningless in a model anyway.
_POISSON_MAX = 1e18
# From this many options on, choice() bisects instead of counting thresholds.
_SEARCH_FROM = 16


def uniform(gen: np.random.Generator, size: int, a: Value, b: Value) -> Value:
    """Uniform DOUBLE in [a, b) (or (b, a] when b < a)."""
    lo, hi = f64(a), f64(b)
    return lo + (hi - lo) * gen.random(size)


def randint(gen: np.random.Generator, size: int, a: Value, b: Value) -> Value:
    """Uniform LONG in [a, b] inclusive; the bounds may come in either order."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return gen.integers(lo, hi, size=size, dtype=np.int64, endpoint=True)


def normal(gen: np.random.Generator, size: int, mean: Value, sd: Value) -> Value:
    """Normal DOUBLE; a negative sd counts as 0 (the value is the mean)."""
    return mean + np.maximum(sd, 0.0) * gen.standard_normal(size)


def lognormal(gen: np.random.Generator, size: int, mu: Value, sigma: Value) -> Value:
    """exp(normal(mu, sigma)); mu and sigma are of the underlying normal, sigma < 0 counts as 0."""
    return portable.exp(mu + np.maximum(sigma, 0.0) * gen.standard_normal(size))


def exponential(gen: np.random.Generator, size: int, mean: Value) -> Value:
    """Exponential DOUBLE with the given mean (not rate); a mean <= 0 gives 0."""
    return np.maximum(mean, 0.0) * gen.standard_exponential(size)


def poisson(gen: np.random.Generator, size: int, lam: Value) -> Value:
    """Poisson LONG with mean lam; lam < 0 or NaN gives 0."""
    rate = np.nan_to_num(np.clip(lam, 0.0, _POISSON_MAX), nan=0.0)
    return gen.poisson(rate, size).astype(np.int64, copy=False)


def bernoulli(gen: np.random.Generator, size: int, p: Value) -> Value:
    """BOOLEAN true with probability p; p <= 0 never, p >= 1 always, NaN never."""
    return gen.random(size) < p


def choice_index(
    gen: np.random.Generator, size: int, cumulative: npt.NDArray[np.float64]
) -> npt.NDArray[np.intp]:
    """Index of the chosen option per row; `cumulative` is the normalised cumulative weight,
    ending in exactly 1.0. Zero-weight options are never chosen (side='right')."""
    u = gen.random(size)
    last = len(cumulative) - 1
    if last >= _SEARCH_FROM:
        return np.minimum(np.searchsorted(cumulative, u, side="right"), last)
    # Few options: counting thresholds passed (= searchsorted 'right') is several times faster.
    idx = np.zeros(size, dtype=np.intp)
    for edge in cumulative[:last]:
        idx += u >= edge
    return idx
