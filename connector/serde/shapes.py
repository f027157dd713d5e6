"""Columnar Avro binary of every shape: a column of n values -> pieces of per-row bytes.

Recursive over the type tree (model/avrotypes.py) and the column representation
(core/columns.py): a record is its fields' pieces one after another, an array or map is a count
prefix, its items encoded as one flat column (items of all rows together) and a terminator,
a union is a branch index plus each branch's pieces spread over the rows on it. So a nested
record costs what its fields would cost flat. A column this module cannot write without Python
per row (Python dicts or lists in an object array, decimals wider than 64 bits) raises
`NotColumnar`, and the caller writes that field with fastavro instead (pyvalues.py).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from connector.core.columns import (
    Column,
    DecimalColumn,
    DecimalTextColumn,
    ListColumn,
    MapColumn,
    StructColumn,
    UnionColumn,
    as_array,
    decimals,
)
from connector.model.avrotypes import AvroType, FieldSpec, Kind
from connector.serde import pieces as P
from connector.serde.scalars import NONE, as_float64, enum_index, nulls, scalar_values

_I32MIN, _I32MAX = -(2**31), 2**31 - 1


class NotColumnar(TypeError):
    """This column is not held the way the columnar writer needs (use the slow path)."""


class EncodeError(ValueError):
    """A column that does not fit its schema field (the model validator should have caught it)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"field {field!r}: {message}")


def type_pieces(t: AvroType, column: Column, n: int, path: str) -> list[P.Piece]:
    """The pieces of n values of type `t`; raises NotColumnar or EncodeError (naming `path`)."""
    kind = t.kind
    if kind is Kind.NULL or n == 0:
        return []
    if isinstance(column, DecimalTextColumn):
        if kind is Kind.STRING:  # the digits straight from the numbers, no str per row
            digits = P.decimal_pieces(column.numbers)
            return [P.long_piece(P.total_lens(digits, n)), *digits]
        column = as_array(column)
    if kind is Kind.UNION:
        return _union_pieces(t, column, n, path)
    if kind is Kind.RECORD:
        if not isinstance(column, StructColumn):
            raise NotColumnar(path)
        out: list[P.Piece] = []
        for f in t.fields:
            out.extend(type_pieces(f.type, field_column(column, f, n, path), n,
                                   f"{path}.{f.name}"))
        return out
    if kind is Kind.ARRAY:
        if not isinstance(column, ListColumn):
            raise NotColumnar(path)
        item_type, items_column = t.items, column.values
        assert item_type is not None
        return _blocks(column.offsets, n, path,
                       lambda m: type_pieces(item_type, items_column, m, f"{path}[]"))
    if kind is Kind.MAP:
        if not isinstance(column, MapColumn):
            raise NotColumnar(path)
        value_type, keys, values = t.items, column.keys, column.values
        assert value_type is not None

        def entries(m: int) -> list[P.Piece]:
            if keys.dtype != object or not all(type(k) is str for k in keys.tolist()):
                raise EncodeError(path, "map keys must be strings")
            return [*P.string_pieces(keys), *type_pieces(value_type, values, m, f"{path}{{}}")]

        return _blocks(column.offsets, n, path, entries)
    if t.logical == "decimal":
        return _decimal_pieces(t, column, path)
    if not isinstance(column, np.ndarray):
        raise EncodeError(path, f"expected an array of {t.describe()} values, got a "
                          f"{type(column).__name__}")
    if column.dtype == object and n and _has_containers(column):
        raise NotColumnar(path)
    return _scalar_pieces(t, column, path)


def field_column(struct: StructColumn, f: FieldSpec, n: int, path: str) -> Column:
    """A record field's column, or its schema default on every row."""
    if f.name in struct.fields:
        return struct.fields[f.name]
    return default_column(f, n, f"{path}.{f.name}")


def default_column(f: FieldSpec, n: int, path: str) -> np.ndarray:
    """n copies of a field's default (for a missing column), as the slow path writes them."""
    if not f.has_default:
        raise EncodeError(path, "no column and the schema gives no default")
    value = f.default
    kind = f.type.branches[0].kind if f.type.kind is Kind.UNION else f.type.kind
    if isinstance(value, str) and kind in (Kind.BYTES, Kind.FIXED):
        value = value.encode("latin-1")  # Avro JSON holds bytes as code points 0-255
    col = np.empty(n, dtype=object)
    col[:] = [value] * n
    if f.type.is_scalar and value is not None and kind is not Kind.ENUM:
        return scalar_values(f.type, col, path)
    return col


def _has_containers(column: np.ndarray) -> bool:
    first = column[0]
    return isinstance(first, dict | list | tuple)


def _scalar_pieces(t: AvroType, column: np.ndarray, path: str) -> list[P.Piece]:
    values = scalar_values(t, column, path)
    kind = t.kind
    if kind in (Kind.INT, Kind.LONG):
        return [P.long_piece(values)]
    if kind is Kind.ENUM:
        return [P.long_piece(enum_index(t, values, path))]
    if kind is Kind.DOUBLE:
        return [P.fixed_piece(values, "<f8")]
    if kind is Kind.FLOAT:
        return [P.fixed_piece(values, "<f4")]
    if kind is Kind.BOOLEAN:
        return [P.fixed_piece(values, "u1")]
    if kind is Kind.STRING:
        return P.string_pieces(values)
    flat, lens = binary_values(t, values, path)
    if kind is Kind.FIXED:
        data = np.frombuffer(flat, dtype=np.uint8)
        return [P.Piece(len(lens), block=data.reshape(len(lens), t.size))]
    return P.bytes_pieces(flat, lens)


def binary_values(t: AvroType, values: np.ndarray, path: str) -> tuple[bytes, P.I64]:
    """The bytes or fixed values of a column joined, and each one's length (a fixed's checked
    to be its size)."""
    items = values.tolist()
    lens = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
    if t.kind is Kind.FIXED and lens.size and not (lens == t.size).all():
        bad = int(lens[lens != t.size][0])
        raise EncodeError(path, f"a fixed of {t.size} bytes got a value of {bad} bytes")
    return b"".join(items), lens


def _union_pieces(t: AvroType, column: Column, n: int, path: str) -> list[P.Piece]:
    if isinstance(column, UnionColumn):
        if len(column.values) != len(t.branches):
            raise EncodeError(path, f"a union of {len(t.branches)} types got "
                              f"{len(column.values)} branches")
        branch = column.branch.astype(np.int64)
        if branch.size and (branch.min() < 0 or branch.max() >= len(t.branches)):
            raise EncodeError(path, f"union branch outside 0..{len(t.branches) - 1}")
        out = [P.long_piece(branch)]
        for k, bt in enumerate(t.branches):
            part = column.values[k]
            rows = column.rows_of(k)
            if bt.kind is Kind.NULL or part is None or not rows.size:
                continue
            inner = type_pieces(bt, part, int(rows.shape[0]), path)
            out.extend(inner if rows.shape[0] == n else [P.expand(p, rows, n) for p in inner])
        return out
    pair = t.nullable_of
    if pair is None or not isinstance(column, np.ndarray):
        raise NotColumnar(path)
    base, null_branch = pair
    value_branch = bytes([2 * (1 - null_branch)])  # zigzag of the branch index
    null = nulls(column) if column.dtype == object else None
    if null is None or not null.any():
        return [P.constant(value_branch, n), *type_pieces(base, column, n, path)]
    tags = np.full(n, value_branch[0], dtype=np.uint8)
    tags[null] = 2 * null_branch
    rows = np.flatnonzero(~null)
    inner = type_pieces(base, column[rows], int(rows.shape[0]), path)
    return [P.Piece(n, block=tags.reshape(n, 1)), *(P.expand(p, rows, n) for p in inner)]


def _blocks(offsets: npt.NDArray[np.int64], n: int, path: str,
            items: Callable[[int], list[P.Piece]]) -> list[P.Piece]:
    """An array or map per row: count, the row's items (one flat encoding of all), a 0 end.

    fastavro writes one block: `count items 0` for a non-empty value, `0` for an empty one.
    `items(m)` gives the pieces of the m items of all rows."""
    counts = np.diff(offsets)
    if counts.shape[0] != n:
        raise EncodeError(path, f"offsets for {counts.shape[0]} rows, expected {n}")
    out = [P.long_piece(counts)]
    first, last = int(offsets[0]), int(offsets[-1])
    if last == first:
        return out
    buffer, item_offsets = P.assemble(items(last - first), last - first)
    starts = item_offsets[offsets[:-1] - first]
    lens = item_offsets[offsets[1:] - first] - starts
    out.append(P.Piece(n, flat=buffer, lens=lens))
    ends = counts > 0
    out.append(P.Piece(n, block=np.zeros((n, 1), dtype=np.uint8),
                       lens=None if ends.all() else ends.astype(np.int64)))
    return out


def _decimal_pieces(t: AvroType, column: Column, path: str) -> list[P.Piece]:
    """Big-endian two's complement of the unscaled values, as fastavro writes a Decimal:
    bytes with the fewest bytes that hold |u| plus a sign bit; fixed sign-extended to size."""
    unscaled = decimal_unscaled(t, column, path)
    n = int(unscaled.shape[0])
    magnitude = unscaled.astype(np.uint64)
    np.negative(magnitude, out=magnitude, where=unscaled < 0)  # |int64 min| fits a uint64
    if 0 < t.precision < 20 and n and int(magnitude.max()) >= 10**t.precision:
        raise EncodeError(path, f"a value has more than the {t.precision} digits of the "
                          "decimal's precision")
    big_endian = unscaled.astype(">i8").view(np.uint8).reshape(n, 8)
    sign = np.where(unscaled < 0, 0xFF, 0).astype(np.uint8).reshape(n, 1)
    if t.kind is Kind.FIXED:
        size = t.size
        if size < 8:
            low = -(1 << (8 * size - 1))
            if unscaled.size and not (low <= unscaled.min() and unscaled.max() < -low):
                raise EncodeError(path, f"a value does not fit the decimal's {size} bytes")
            return [P.Piece(n, block=np.ascontiguousarray(big_endian[:, 8 - size:]))]
        block = np.empty((n, size), dtype=np.uint8)
        block[:, :size - 8] = sign
        block[:, size - 8:] = big_endian
        return [P.Piece(n, block=block)]
    lens = P.signed_lengths(magnitude)  # fastavro: |u|, so -128 takes two bytes
    return [P.long_piece(lens), P.signed_bytes(unscaled, lens)]


def decimal_unscaled(t: AvroType, column: Column, path: str) -> npt.NDArray[np.int64]:
    """Unscaled int64 values of a decimal column (numbers are scaled and rounded half-even)."""
    if isinstance(column, DecimalColumn):
        if column.scale != t.scale:
            raise EncodeError(path, f"decimal of scale {column.scale} for a schema scale "
                              f"{t.scale}")
        if column.unscaled.dtype == object:
            raise NotColumnar(path)  # Python ints, maybe wider than 64 bits
        return column.unscaled.astype(np.int64, copy=False)
    if not isinstance(column, np.ndarray):
        raise EncodeError(path, f"expected decimals, got a {type(column).__name__}")
    if column.dtype.kind in "iu" and t.scale == 0:
        return column.astype(np.int64)
    numbers = as_float64(column)
    if numbers.size and np.isfinite(numbers).all() and \
            np.abs(numbers).max() * 10.0**t.scale >= 2.0**63:
        raise NotColumnar(path)  # wider than 64 bits: Python's exact decimals
    try:
        return decimals(numbers, t.scale).unscaled
    except ValueError as e:
        raise EncodeError(path, str(e)) from None


__all__ = ["NONE", "EncodeError", "NotColumnar", "decimal_unscaled", "default_column",
           "field_column", "type_pieces"]
