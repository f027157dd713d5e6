"""Vectorised primitives shared by operators and functions.

Every function takes and returns whole columns (or numpy scalars / 0-d arrays for values constant
over the batch); none loops over rows in Python. Callers run under np.errstate(all="ignore"), so
overflow and division by zero follow the documented results without warnings.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from connector.model.expr import portable
from connector.model.expr.errors import ValueLimitError
from connector.model.expr.types import Value
from connector.model.limits import MAX_STRING_CHARS

# Largest doubles that still fit int64 (2**63 itself does not), for saturating conversion.
_LONG_MAX_F = 9223372036854774784.0
_LONG_MIN_F = -9223372036854775808.0
# numpy >= 2 has variable-width StringDType and np.strings (faster); 1.26 has '<U' and np.char.
_STRING_DTYPE: Any = getattr(np.dtypes, "StringDType", lambda: np.dtype(str))()
_TEXT: Any = getattr(np, "strings", np.char)


def f64(v: Value) -> Value:
    """As float64 (LONG -> DOUBLE promotion)."""
    if isinstance(v, np.ndarray):
        return v.astype(np.float64, copy=False)
    return np.float64(v)


def to_long(x: Value) -> Value:
    """DOUBLE -> LONG truncating toward zero; NaN -> 0, out-of-range saturates."""
    clipped = np.clip(x, _LONG_MIN_F, _LONG_MAX_F)
    out = clipped.astype(np.int64)  # NaN casts to garbage (silently, under errstate) ...
    nan = np.isnan(clipped)
    if nan.any():  # ... so patch those rows; cheaper than nan_to_num's extra copy
        if out.ndim == 0:
            return np.int64(0)
        out[nan] = 0
    return out


def round_half_away(x: Value) -> Value:
    """Round to the nearest integer, halves away from zero (2.5 -> 3, -2.5 -> -3), as DOUBLE.

    Uses trunc + exact fraction rather than floor(x + 0.5), which misrounds 0.49999999999999994.
    """
    t = np.trunc(x)
    return t + np.copysign(np.abs(x - t) >= 0.5, x)


def round_long(x: Value) -> Value:
    return to_long(round_half_away(x))


def long_of(fn: Callable[[Value], Value], x: Value) -> Value:
    """A DOUBLE function (floor, ceil) whose result becomes a LONG."""
    return to_long(fn(x))


def as_int64(x: Value) -> Value:
    return np.asarray(x, dtype=np.int64)


def scale_long(factor: int, x: Value) -> Value:
    return x * np.int64(factor)


def scale_double(factor: int, x: Value) -> Value:
    return to_long(round_half_away(x * float(factor)))


def fold(fn: Callable[[Value, Value], Value], *values: Value) -> Value:
    """min/max of any number of arguments by pairwise ufunc."""
    return functools.reduce(fn, values)


def clip(x: Value, lo: Value, hi: Value) -> Value:
    """min(max(x, lo), hi): with lo > hi the result is hi."""
    return np.minimum(np.maximum(x, lo), hi)


def compare_text(fn: Callable[[Value, Value], Value], a: Value, b: Value) -> Value:
    """String comparison: object arrays compare element-wise, never as '<U' arrays."""
    return fn(obj(a), obj(b))


def power(a: Value, b: Value) -> Value:
    """'**' is always DOUBLE (so negative exponents need no special case)."""
    return portable.power(f64(a), f64(b))


# 10.0**n for n in -308..308, from the C library once (portable.py): a gather per row, not a pow.
_POW10 = portable.power(10.0, np.arange(-308, 309, dtype=np.float64))


def round_digits(x: Value, digits: Value) -> Value:
    """round(x, n) as DOUBLE: half away from zero at n decimal places (n may be negative)."""
    scale = _POW10[np.clip(digits, -308, 308) + 308]
    scaled = f64(x) * scale
    rounded = round_half_away(scaled) / scale
    # Where scaling overflowed the value has no digits to drop at that precision.
    return np.where(np.isfinite(scaled), rounded, x)


def obj(v: Value) -> Value:
    """A STRING (or nullable) value as an object array (0-d for a scalar), so numpy never turns
    text into fixed-width '<U' arrays."""
    if isinstance(v, np.ndarray):
        return v if v.dtype == object else v.astype(object)
    out = np.empty((), dtype=object)
    out[()] = v
    return out


def concat(a: Value, b: Value) -> Value:
    """'+' of STRINGs, refusing results longer than MAX_STRING_CHARS before building them."""
    if _longest(a) + _longest(b) > MAX_STRING_CHARS:
        raise ValueLimitError(f"a string would be longer than {MAX_STRING_CHARS:,} characters "
                              f"(the limit of a string value)")
    if isinstance(a, str) and isinstance(b, str):
        return a + b
    return np.add(obj(a), obj(b))


def _longest(v: Value) -> int:
    if isinstance(v, str):
        return len(v)
    items = np.asarray(v, dtype=object).ravel().tolist()
    return max(map(len, items), default=0)


_NONE = np.empty((), dtype=object)  # a 0-d None, so equality is element-wise


def is_null(v: Value) -> Value:
    if v is None:
        return np.True_
    if isinstance(v, np.ndarray) and v.dtype == object:
        return np.equal(v, _NONE)
    return np.False_


def not_null(v: Value) -> Value:
    return np.logical_not(is_null(v))


def where(cond: Value, a: Value, b: Value) -> Value:
    """np.where that keeps text and nulls in object arrays."""
    if _needs_obj(a) or _needs_obj(b):
        return np.where(cond, obj(a), obj(b))
    return np.where(cond, a, b)


def _needs_obj(v: Value) -> bool:
    return v is None or isinstance(v, str) or (isinstance(v, np.ndarray) and v.dtype == object)


def coalesce_as(dtype: np.dtype[Any], *values: Value) -> Value:
    """coalesce() whose result cannot be null: back to a typed array."""
    return np.asarray(coalesce(*values)).astype(dtype)


def coalesce(*values: Value) -> Value:
    out = values[-1]
    for v in reversed(values[:-1]):
        out = where(is_null(v), out, v)
    return out


def to_string(kind: str, v: Value) -> Value:
    """Vectorised text of a LONG/DOUBLE/BOOLEAN/TIMESTAMP value (kind is its ExprType name)."""
    arr: npt.NDArray[Any] = np.asarray(v)
    if kind == "BOOLEAN":
        text = np.where(arr, "true", "false")
    elif kind == "TIMESTAMP":
        iso = np.datetime_as_string(arr.astype("datetime64[ms]"), unit="ms")
        text = _TEXT.add(iso, "Z")
    else:
        # Via StringDType: same shortest-repr text as str(), twice as fast as '<U' arrays.
        text = arr.astype(_STRING_DTYPE)
    text = np.asarray(text)  # np.strings.add of 0-d arrays gives a scalar, not a 0-d array
    if text.ndim == 0:
        return str(text[()])
    return text.astype(object)


def str_len(v: Value) -> Value:
    if isinstance(v, str):
        return np.int64(len(v))
    return _TEXT.str_len(np.asarray(v, dtype=_STRING_DTYPE)).astype(np.int64)


def str_lower(v: Value) -> Value:
    if isinstance(v, str):
        return v.lower()
    return _TEXT.lower(np.asarray(v, dtype=_STRING_DTYPE)).astype(object)


def str_upper(v: Value) -> Value:
    if isinstance(v, str):
        return v.upper()
    return _TEXT.upper(np.asarray(v, dtype=_STRING_DTYPE)).astype(object)
