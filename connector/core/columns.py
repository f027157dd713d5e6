"""Columns for every Avro shape: how the engine hands n records' values to the encoders.

One value per row, whatever the shape, held so that encoders work per column (numpy), never
per record:

| Avro type | column |
| --- | --- |
| boolean, int, long, float, double | numpy array: bool, int64 (int too), float64 |
| string, uuid, enum | object array of `str` (an enum holds its symbols) |
| string holding the decimal text of integers | `DecimalTextColumn` of int64 (the user id) |
| bytes, fixed | object array of `bytes` (a `str` stands for its UTF-8 bytes) |
| date | int64 days since 1970-01-01 |
| time-millis, time-micros | int64 milliseconds / microseconds after midnight |
| timestamp-*, local-timestamp-* | int64 in the schema's unit (millis, micros or nanos) |
| decimal (bytes or fixed) | `DecimalColumn`: unscaled integers (value x 10**scale) and the scale |
| union of null and one type held in a numpy array | object array of values and `None` |
| record | `StructColumn`: one column per field, each with all n rows |
| array | `ListColumn`: n + 1 offsets and one flat column of all rows' items |
| map | `MapColumn`: n + 1 offsets, one flat column of keys (str) and one of values |
| any other union (records, arrays, maps, two or more non-null types) | `UnionColumn` |

A `DecimalTextColumn` stands for the `str` of each number without making one `str` object per
row: encoders that write text write its digits straight from the numbers, and every other
consumer reads it through `to_python` / `as_array`, which make the strings.

`to_python` is the one conversion of rows into plain Python values (dicts, lists, str, int,
float, bool, bytes, Decimal, None): for fastavro's record-by-record path, JSON and PostgreSQL.
`slice_rows` and `concat` keep a column's shape; nothing here knows a schema.
"""

from __future__ import annotations

import decimal
import itertools
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import attrs
import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
# Scaling a decimal must never round (Avro decimals may have up to 38+ digits).
_EXACT = decimal.Context(prec=decimal.MAX_PREC)


@attrs.frozen
class StructColumn:
    """A record per row: `fields[name]` is that field's column over the same n rows."""

    fields: Mapping[str, Column]
    length: int

    def __len__(self) -> int:
        return self.length


@attrs.frozen
class ListColumn:
    """An array per row: row i's items are `values[offsets[i]:offsets[i + 1]]`."""

    offsets: I64  # n + 1 ascending positions, offsets[0] == 0
    values: Column  # offsets[-1] items, rows after one another

    def __len__(self) -> int:
        return int(self.offsets.shape[0]) - 1


@attrs.frozen
class MapColumn:
    """A map per row: row i's entries are `keys[a:b]` -> `values[a:b]`, a, b = offsets[i:i+2]."""

    offsets: I64
    keys: npt.NDArray[np.object_]  # str
    values: Column

    def __len__(self) -> int:
        return int(self.offsets.shape[0]) - 1


@attrs.frozen
class UnionColumn:
    """A union per row: `branch[i]` is row i's position in the schema's union; `values[k]`
    holds the values of the rows on branch k, in row order: None exactly for the null branch,
    a column (maybe empty) for every other branch.

    `names[k]` names branch k as fastavro's tuple notation does: the type name of a primitive
    ("long"), "array" / "map", or the full name of a named type."""

    branch: npt.NDArray[np.int8]
    names: tuple[str, ...]
    values: tuple[Column | None, ...]

    def __len__(self) -> int:
        return int(self.branch.shape[0])

    def rows_of(self, k: int) -> I64:
        """The rows on branch k, ascending (row j of `values[k]` is row rows_of(k)[j])."""
        return np.flatnonzero(self.branch == k)


@attrs.frozen
class DecimalColumn:
    """Avro decimals: row i is `unscaled[i] / 10**scale` (int64, or object of int if wider)."""

    unscaled: npt.NDArray[Any]
    scale: int

    def __len__(self) -> int:
        return int(self.unscaled.shape[0])


@attrs.frozen
class DecimalTextColumn:
    """Strings that are the decimal text of int64 numbers: row i is `str(numbers[i])`."""

    numbers: I64

    def __len__(self) -> int:
        return int(self.numbers.shape[0])


Column: TypeAlias = (np.ndarray | StructColumn | ListColumn | MapColumn | UnionColumn
                     | DecimalColumn | DecimalTextColumn)


def column_length(column: Column) -> int:
    return len(column)


def to_python(column: Column, *, tagged: bool = False) -> list[Any]:
    """Each row's value as a plain Python object.

    With `tagged`, a `UnionColumn` value is `(branch name, value)` (fastavro's tuple notation,
    which names the branch to write instead of letting fastavro guess it); null stays None.
    """
    if isinstance(column, np.ndarray):
        values: list[Any] = column.tolist()
        return values
    if isinstance(column, StructColumn):
        names = list(column.fields)
        if not names:
            return [{} for _ in range(column.length)]
        lists = [to_python(column.fields[n], tagged=tagged) for n in names]
        return [dict(zip(names, row, strict=True)) for row in zip(*lists, strict=True)]
    if isinstance(column, ListColumn):
        items = to_python(column.values, tagged=tagged)
        return [items[a:b] for a, b in itertools.pairwise(column.offsets.tolist())]
    if isinstance(column, MapColumn):
        keys: list[str] = column.keys.tolist()
        items = to_python(column.values, tagged=tagged)
        return [dict(zip(keys[a:b], items[a:b], strict=True))
                for a, b in itertools.pairwise(column.offsets.tolist())]
    if isinstance(column, UnionColumn):
        out: list[Any] = [None] * len(column)
        for k, part in enumerate(column.values):
            if part is None:
                continue
            name = column.names[k]
            converted = to_python(part, tagged=tagged)
            for row, value in zip(column.rows_of(k).tolist(), converted, strict=True):
                out[row] = (name, value) if tagged else value
        return out
    if isinstance(column, DecimalColumn):
        exponent = -column.scale
        return [decimal.Decimal(u).scaleb(exponent, _EXACT) for u in column.unscaled.tolist()]
    if isinstance(column, DecimalTextColumn):
        return list(map(str, column.numbers.tolist()))
    raise TypeError(f"not a column: {type(column).__name__}")


def as_array(column: Column) -> np.ndarray:
    """A column as one numpy array: itself, or an object array of its rows' plain values."""
    if isinstance(column, np.ndarray):
        return column
    out = np.empty(len(column), dtype=object)
    out[:] = to_python(column)
    return out


def slice_rows(column: Column, start: int, stop: int) -> Column:
    """Rows start..stop-1 of a column, same shape (numpy views where the layout allows)."""
    if isinstance(column, np.ndarray):
        return column[start:stop]
    if isinstance(column, StructColumn):
        return StructColumn({n: slice_rows(c, start, stop) for n, c in column.fields.items()},
                            stop - start)
    if isinstance(column, ListColumn | MapColumn):
        offsets = column.offsets[start:stop + 1]
        lo, hi = int(offsets[0]), int(offsets[-1])
        shifted = offsets - lo
        if isinstance(column, ListColumn):
            return ListColumn(shifted, slice_rows(column.values, lo, hi))
        return MapColumn(shifted, column.keys[lo:hi], slice_rows(column.values, lo, hi))
    if isinstance(column, UnionColumn):
        branch = column.branch
        parts: list[Column | None] = []
        for k, part in enumerate(column.values):
            if part is None:
                parts.append(None)
                continue
            before = int(np.count_nonzero(branch[:start] == k))
            inside = int(np.count_nonzero(branch[start:stop] == k))
            parts.append(slice_rows(part, before, before + inside))
        return UnionColumn(branch[start:stop], column.names, tuple(parts))
    if isinstance(column, DecimalColumn):
        return DecimalColumn(column.unscaled[start:stop], column.scale)
    if isinstance(column, DecimalTextColumn):
        return DecimalTextColumn(column.numbers[start:stop])
    raise TypeError(f"not a column: {type(column).__name__}")


def concat(columns: Sequence[Column]) -> Column:
    """Columns of one shape one after another (the rows of several emits to one topic).

    Columns without rows are left out: an empty record column need not hold its fields."""
    first = columns[0] if columns else None
    if isinstance(first, np.ndarray):  # the common case first, with one cheap check a column
        same = [c for c in columns if isinstance(c, np.ndarray) and c.dtype == first.dtype]
        if len(same) == len(columns):
            return np.concatenate(same) if len(same) > 1 else first
    nonempty = [c for c in columns if len(c)]
    if len(nonempty) < len(columns):
        columns = nonempty or columns[:1]
    if len(columns) == 1:
        return columns[0]
    texts = [c for c in columns if isinstance(c, DecimalTextColumn)]
    if len(texts) == len(columns):
        return DecimalTextColumn(np.concatenate([t.numbers for t in texts]))
    if texts:  # beside strings of another emit: all as strings
        columns = [as_array(c) if isinstance(c, DecimalTextColumn) else c for c in columns]
    first = columns[0]
    if isinstance(first, np.ndarray):
        arrays = [_as(np.ndarray, c) for c in columns]
        return np.concatenate(arrays)
    if isinstance(first, StructColumn):
        structs = [_as(StructColumn, c) for c in columns]
        return StructColumn({n: concat([s.fields[n] for s in structs]) for n in first.fields},
                            sum(s.length for s in structs))
    if isinstance(first, ListColumn):
        lists = [_as(ListColumn, c) for c in columns]
        return ListColumn(_concat_offsets([c.offsets for c in lists]),
                          concat([c.values for c in lists]))
    if isinstance(first, MapColumn):
        maps = [_as(MapColumn, c) for c in columns]
        return MapColumn(_concat_offsets([c.offsets for c in maps]),
                         np.concatenate([c.keys for c in maps]), concat([c.values for c in maps]))
    if isinstance(first, UnionColumn):
        unions = [_as(UnionColumn, c) for c in columns]
        values: list[Column | None] = []
        for k, part in enumerate(first.values):
            present = [u.values[k] for u in unions]
            values.append(None if part is None else concat([p for p in present if p is not None]))
        return UnionColumn(np.concatenate([u.branch for u in unions]), first.names,
                           tuple(values))
    if isinstance(first, DecimalColumn):
        decimals = [_as(DecimalColumn, c) for c in columns]
        return DecimalColumn(np.concatenate([d.unscaled for d in decimals]), first.scale)
    raise TypeError(f"not a column: {type(first).__name__}")


def take(column: Column, index: npt.ArrayLike) -> Column:
    """Rows `index` of a column (any order, repeats allowed), same shape."""
    rows = np.asarray(index, dtype=np.int64)
    if isinstance(column, np.ndarray):
        return column[rows]
    if isinstance(column, StructColumn):
        return StructColumn({n: take(c, rows) for n, c in column.fields.items()},
                            int(rows.shape[0]))
    if isinstance(column, ListColumn | MapColumn):
        starts = column.offsets[:-1][rows]
        lengths = column.offsets[1:][rows] - starts
        offsets = list_offsets(lengths)
        items = np.repeat(starts - offsets[:-1], lengths) + np.arange(int(offsets[-1]))
        if isinstance(column, ListColumn):
            return ListColumn(offsets, take(column.values, items))
        return MapColumn(offsets, column.keys[items], take(column.values, items))
    if isinstance(column, UnionColumn):
        branch = column.branch
        position = np.zeros(branch.shape[0], dtype=np.int64)  # row -> place in its branch
        for k in range(len(column.values)):
            mine = np.flatnonzero(branch == k)
            position[mine] = np.arange(mine.shape[0])
        chosen = branch[rows]
        parts: list[Column | None] = []
        for k, part in enumerate(column.values):
            parts.append(None if part is None else take(part, position[rows[chosen == k]]))
        return UnionColumn(chosen, column.names, tuple(parts))
    if isinstance(column, DecimalColumn):
        return DecimalColumn(column.unscaled[rows], column.scale)
    if isinstance(column, DecimalTextColumn):
        return DecimalTextColumn(column.numbers[rows])
    raise TypeError(f"not a column: {type(column).__name__}")


def decimals(values: npt.ArrayLike, scale: int) -> DecimalColumn:
    """Numbers as decimals of `scale` digits after the point, rounded half to even; ValueError
    for NaN, infinities and values beyond 64-bit unscaled integers."""
    scaled = np.rint(np.asarray(values, dtype=np.float64) * 10.0**scale)
    if scaled.size and not np.isfinite(scaled).all():
        raise ValueError("a decimal cannot be NaN or infinite")
    if scaled.size and np.abs(scaled).max() >= 2.0**63:
        raise ValueError(f"a decimal value beyond {2**63 / 10**scale:.3g} (64-bit unscaled)")
    return DecimalColumn(scaled.astype(np.int64), scale)


def _as(kind: type[Any], column: Column) -> Any:
    if not isinstance(column, kind):
        raise TypeError(f"cannot concatenate a {type(column).__name__} with a {kind.__name__}")
    return column


def _concat_offsets(parts: Sequence[I64]) -> I64:
    out = [np.zeros(1, dtype=np.int64)]
    base = 0
    for offsets in parts:
        out.append(offsets[1:] + base)
        base += int(offsets[-1])
    return np.concatenate(out)


def list_offsets(lengths: npt.ArrayLike) -> I64:
    """Offsets of rows with these numbers of items (for ListColumn and MapColumn)."""
    counts = np.asarray(lengths, dtype=np.int64)
    offsets = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets
