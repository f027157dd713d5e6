"""Values of a record field made to fit its Avro type, where the model cannot promise it.

Most fields need nothing (a LONG expression into a long). Three kinds are checked per batch,
only where validation could not decide statically (model/validate.py `static_field_problem`):
Avro `int` (32 bits), enums (symbols), and timestamps in micro- or nanoseconds (converted from
the engine's milliseconds, refusing what overflows 64 bits).
"""

from __future__ import annotations

import numpy as np

from connector.core.types import ValueType
from connector.model import expr as ex
from connector.model.avro import FieldSpec
from connector.model.static_values import static_values

_I32 = np.iinfo(np.int32)
_I64 = np.iinfo(np.int64)
_NONE = np.array(None, dtype=object)  # a 0-d None, so the comparison is element-wise


def needs_fitting(f: FieldSpec, checked: ex.Checked) -> bool:
    """Whether `fit_field` has work for this field and expression."""
    if f.units_per_ms != 1 and f.value_type == ValueType.TIMESTAMP:
        return True
    return (f.avro_type == "int" or bool(f.symbols)) and static_values(checked) is None


def fit_field(values: np.ndarray, f: FieldSpec) -> np.ndarray:
    """`values` as the field holds them; ValueError saying what does not fit."""
    if values.dtype == object and f.nullable:
        present = ~np.equal(values, _NONE)
        if not present.all():
            out = values.copy()
            out[present] = fit_field(values[present].astype(_dtype(f)), f).astype(object)
            return out
        values = values.astype(_dtype(f))
    if f.symbols:
        outside = ~np.isin(values, np.asarray(f.symbols, dtype=object))
        if outside.any():
            raise ValueError(f"{values[outside][0]!r} is not a symbol of the enum "
                             f"({', '.join(f.symbols)})")
    elif f.avro_type == "int" and values.size:
        low, high = int(values.min()), int(values.max())
        if low < _I32.min or high > _I32.max:
            bad = low if low < _I32.min else high
            raise ValueError(f"{bad} is outside the range of an Avro int ({_I32.min} to "
                             f"{_I32.max})")
    if f.value_type == ValueType.TIMESTAMP and f.units_per_ms != 1 and values.size:
        units = f.units_per_ms
        low, high = int(values.min()), int(values.max())
        if low < _I64.min // units or high > _I64.max // units:
            raise ValueError(f"time {high if high > 0 else low} ms in {f.logical_type} "
                             "overflows 64 bits")
        values = values.astype(np.int64) * units
    return values


def _dtype(f: FieldSpec) -> type:
    return object if f.avro_type in ("enum", "string") else np.int64
