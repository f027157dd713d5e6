"""Scalar columns checked against their Avro type, in the one dtype each type is written from.

Shared by the columnar writer (shapes.py) and the record-by-record path (pyvalues.py), so both
accept and refuse the same values.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from connector.model.avrotypes import AvroType, FieldSpec, Kind

NONE = np.array(None, dtype=object)  # a 0-d None, so comparisons are element-wise
_I32MIN, _I32MAX = -(2**31), 2**31 - 1


def scalar_values(t: AvroType, column: np.ndarray, path: str) -> np.ndarray:
    """The column in the dtype type `t` is written from; ValueError/TypeError if it cannot be:
    int64 for int/long, float64, bool, object arrays of str (string, enum symbols or positions
    as int64) and of bytes (bytes, fixed; a str gives its UTF-8 bytes)."""
    kind = t.kind
    if kind in (Kind.INT, Kind.LONG):
        values = as_int64(column)
        if kind is Kind.INT and values.size and not _I32MIN <= values.min() <= values.max() <= \
                _I32MAX:
            raise ValueError(f"{path}: value outside the 32-bit range of an Avro int")
        return values
    if kind in (Kind.DOUBLE, Kind.FLOAT):
        return as_float64(column)
    if kind is Kind.BOOLEAN:
        return as_bool(column)
    if kind is Kind.STRING:
        if column.dtype.kind == "U":
            return column.astype(object)
        if column.dtype != object:
            raise TypeError(f"expected str values, got a {column.dtype} column")
        return column
    if kind is Kind.ENUM:
        return column if column.dtype.kind in "iu" else column.astype(object)
    if kind in (Kind.BYTES, Kind.FIXED):
        items = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in column.tolist()]
        out = np.empty(len(items), dtype=object)
        out[:] = items
        return out
    raise TypeError(f"{t.describe()} is not a scalar type")


def nulls(column: np.ndarray) -> npt.NDArray[np.bool_]:
    """Where an object column holds None (one C comparison per value)."""
    null: npt.NDArray[np.bool_] = np.equal(column, NONE)
    return null


def as_int64(column: np.ndarray) -> npt.NDArray[np.int64]:
    if column.dtype == object:
        column = np.array(column.tolist()) if column.size else np.zeros(0, dtype=np.int64)
    if column.dtype.kind in "ib":
        return column.astype(np.int64, copy=False)
    if column.dtype.kind == "u":
        if column.size and int(column.max()) > np.iinfo(np.int64).max:
            raise ValueError("value above the 64-bit range of an Avro long")
        return column.astype(np.int64)
    raise TypeError(f"expected integers, got a {column.dtype} column")


def as_float64(column: np.ndarray) -> npt.NDArray[np.float64]:
    if column.dtype == object:
        column = np.array(column.tolist()) if column.size else np.zeros(0)
    if column.dtype.kind in "fiub":
        return column.astype(np.float64, copy=False)
    raise TypeError(f"expected numbers, got a {column.dtype} column")


def as_bool(column: np.ndarray) -> npt.NDArray[np.bool_]:
    if column.dtype == object:
        column = np.array(column.tolist()) if column.size else np.zeros(0, dtype=bool)
    if column.dtype.kind == "b":
        return column
    raise TypeError(f"expected booleans, got a {column.dtype} column")


def enum_index(t: AvroType, column: np.ndarray, path: str) -> npt.NDArray[np.int64]:
    """Symbol positions of an enum column given as symbols or as positions."""
    symbols = t.symbols
    if column.dtype.kind in "iu":
        index = column.astype(np.int64)
    else:
        position = {s: i for i, s in enumerate(symbols)}
        items = column.tolist()
        try:
            index = np.fromiter(map(position.__getitem__, items), dtype=np.int64, count=len(items))
        except (KeyError, TypeError) as e:
            raise ValueError(f"{e.args[0]!r} is not a symbol of the enum {list(symbols)}") from None
    if index.size and (index.min() < 0 or index.max() >= len(symbols)):
        raise ValueError(f"enum position outside 0..{len(symbols) - 1}")
    return index


def normalised(spec: FieldSpec, column: np.ndarray) -> np.ndarray:
    """A scalar field's column checked and in its writing dtype (enums as symbol positions)."""
    values = scalar_values(spec.base, column, spec.name)
    return enum_index(spec.base, values, spec.name) if spec.base.kind is Kind.ENUM else values
