"""Record values of every shape built as columns: the engine's side of model/fills.py.

A fill is compiled once into a builder; each transition calls it over its movers (a `Scope`).
Arrays and maps evaluate their items over all items of all rows at once (an item scope: one
row per item, the parent's columns repeated, `index` its position), so the cost is a few numpy
calls per field whatever the lengths. Random draws of items are split by shard like the rows'
(each shard's items draw from that shard's stream), so output does not depend on how shards
are grouped into tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import numpy.typing as npt

from connector.core.columns import (
    Column,
    ListColumn,
    MapColumn,
    StructColumn,
    UnionColumn,
    concat,
    decimals,
    list_offsets,
    take,
)
from connector.model import expr as ex
from connector.model import fills as F
from connector.model.avrotypes import AvroType, Kind
from connector.model.fills import convert_kind

_NONE = np.array(None, dtype=object)
_DAY_MS = 86_400_000
_I64 = np.iinfo(np.int64)


@attrs.frozen
class Scope:
    """The rows a value is built for: a transition's movers, or the items of their arrays.

    `bounds[k]:bounds[k+1]` are shard k's rows; `draw(site, bounds)` is the random generator of
    a call site splitting its draws that way."""

    size: int
    columns: Mapping[str, object]
    bounds: Sequence[int]
    draw: Callable[[int, Sequence[int]], np.random.Generator]
    tz: ZoneInfo
    # sequence(name, size, bounds): numbers of each shard's counter (rows only: validation
    # keeps sequence() out of items, whose count a silent replay could not know)
    sequence: Callable[[str, int, Sequence[int]], np.ndarray]

    def context(self) -> ex.EvalContext:
        bounds, draw, sequence = self.bounds, self.draw, self.sequence
        return ex.EvalContext(size=self.size, columns=self.columns,
                              rng=lambda site: draw(site, bounds), tz=self.tz,
                              sequence=lambda name, size: sequence(name, size, bounds))

    def items(self, lengths: npt.NDArray[np.int64]) -> Scope:
        """One row per item of rows with these many items each."""
        offsets = list_offsets(lengths)
        parent = np.repeat(np.arange(self.size), lengths)
        index = np.arange(int(offsets[-1]), dtype=np.int64) - offsets[:-1][parent]
        bounds = [int(offsets[b]) for b in self.bounds]
        return Scope(int(offsets[-1]), ItemColumns(self.columns, parent, index), bounds,
                     self.draw, self.tz, self.sequence)

    def at_index(self, position: int) -> Scope:
        """The same rows, `index` being `position` (the items of a fixed-length list)."""
        return attrs.evolve(self, columns=Overlay(self.columns, {F.INDEX: position}))


class Overlay(Mapping[str, object]):
    """Names on top of other names (a record's fields for its key, an item's index)."""

    def __init__(self, base: Mapping[str, object], top: Mapping[str, object]) -> None:
        self._base, self._top = base, top

    def __getitem__(self, name: str) -> object:
        return self._top[name] if name in self._top else self._base[name]

    def __iter__(self) -> Iterator[str]:
        return iter({*self._base, *self._top})

    def __len__(self) -> int:
        return len({*self._base, *self._top})


class ItemColumns(Mapping[str, object]):
    """The parent rows' columns repeated once per item, plus `index`."""

    def __init__(self, parent: Mapping[str, object], rows: npt.NDArray[np.intp],
                 index: npt.NDArray[np.int64]) -> None:
        self._parent, self._rows, self._index = parent, rows, index
        self._cache: dict[str, object] = {F.INDEX: index}

    def __getitem__(self, name: str) -> object:
        if name not in self._cache:
            value = self._parent[name]
            if isinstance(value, np.ndarray) and value.ndim == 1:
                value = value[self._rows]
            self._cache[name] = value
        return self._cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter({*self._parent, F.INDEX})

    def __len__(self) -> int:
        return len({*self._parent, F.INDEX})


Builder = Callable[[Scope], Column]


@attrs.frozen
class ScalarBuilder:
    """A scalar field: the expression's values (`raw`, what a key sees) made the field's."""

    type: AvroType
    compiled: ex.Compiled
    convert: str | None

    def raw(self, scope: Scope) -> np.ndarray:
        return self.compiled.evaluate_in_errstate(scope.context())

    def column(self, raw: np.ndarray) -> Column:
        return scalar_column(self.type, raw, self.convert)

    def __call__(self, scope: Scope) -> Column:
        return self.column(self.raw(scope))


def compile_fill(fill: F.Fill) -> Builder:
    """A builder of the fill's column for any scope."""
    if isinstance(fill, F.ScalarFill):
        return ScalarBuilder(fill.type, ex.compile_expr(fill.checked),
                             convert_kind(fill.type, fill.checked.type))
    if isinstance(fill, F.ConstFill):
        return _constant(fill.type, fill.value)
    if isinstance(fill, F.RecordFill):
        return _record(fill)
    if isinstance(fill, F.ArrayFill | F.MapFill):
        return _repeated(fill)
    if isinstance(fill, F.BranchFill):
        return _branch(fill)
    return _conditional(fill)


def _record(fill: F.RecordFill) -> Builder:
    parts = [(name, compile_fill(sub)) for name, sub in fill.fields]

    def record(scope: Scope) -> Column:
        return StructColumn({name: build(scope) for name, build in parts}, scope.size)

    return record


def _repeated(fill: F.ArrayFill | F.MapFill) -> Builder:
    """Arrays and maps: n rows of (key,) value items."""
    values = [compile_fill(v) for v in (fill.items if isinstance(fill, F.ArrayFill)
                                        else fill.values)]
    length = ex.compile_expr(fill.length) if fill.length is not None else None
    key = ex.compile_expr(fill.key) if isinstance(fill, F.MapFill) and fill.key else None
    fixed_keys = np.array(fill.keys, dtype=object) if isinstance(fill, F.MapFill) else None
    is_map = isinstance(fill, F.MapFill)

    def repeated(scope: Scope) -> Column:
        n = scope.size
        if length is None:  # a list of items or constant keys: the same count on every row
            k = len(values)
            columns = [build(scope.at_index(j)) for j, build in enumerate(values)]
            # Position-major (all rows' item 0, then item 1...) to row-major order.
            order = (np.arange(k)[None, :] * n + np.arange(n)[:, None]).reshape(-1)
            items = take(concat(columns), order) if k else _empty_items(fill, n)
            offsets = np.arange(n + 1, dtype=np.int64) * k
            if not is_map:
                return ListColumn(offsets, items)
            assert fixed_keys is not None
            return MapColumn(offsets, np.tile(fixed_keys, n), items)
        counts = np.clip(length.evaluate_in_errstate(scope.context()), 0, F.MAX_ITEMS)
        counts = counts.astype(np.int64)
        inner = scope.items(counts)
        offsets = list_offsets(counts)
        items = values[0](inner)
        if not is_map:
            return ListColumn(offsets, items)
        assert key is not None
        return MapColumn(offsets, key.evaluate_in_errstate(inner.context()), items)

    return repeated


def _empty_items(fill: F.ArrayFill | F.MapFill, n: int) -> Column:
    return empty_column(fill.type.items) if fill.type.items is not None else np.zeros(0)


def _branch(fill: F.BranchFill) -> Builder:
    inner = compile_fill(fill.inner)
    t, k, null = fill.type, fill.branch, fill.null_branch

    def branch(scope: Scope) -> Column:
        values = inner(scope)
        n = scope.size
        if null is None:
            return _union(t, np.full(n, k, dtype=np.int8), {k: values})
        assert isinstance(values, np.ndarray)
        absent = np.equal(values, _NONE) if values.dtype == object else np.zeros(n, bool)
        present = values[~absent]
        dtype = t.branches[k].value_type
        if dtype is not None and present.dtype == object and dtype.dtype != object:
            present = present.astype(dtype.dtype)
        return _union(t, np.where(absent, null, k).astype(np.int8), {k: present})

    return branch


def _conditional(fill: F.CondFill) -> Builder:
    condition = ex.compile_expr(fill.condition)
    then = _branch(fill.then)
    otherwise = _branch(fill.otherwise) if fill.otherwise is not None else None
    t, null = fill.type, fill.null_branch

    def conditional(scope: Scope) -> Column:
        holds = np.asarray(condition.evaluate_in_errstate(scope.context()), dtype=bool)
        yes, no = np.flatnonzero(holds), np.flatnonzero(~holds)
        first = take(then(scope), yes)
        if otherwise is not None:
            second = take(otherwise(scope), no)
        else:
            assert null is not None
            second = _union(t, np.full(no.shape[0], null, dtype=np.int8), {})
        # Then-rows followed by else-rows, put back in row order.
        return take(concat([first, second]), np.argsort(np.concatenate([yes, no]),
                                                         kind="stable"))

    return conditional


def _union(t: AvroType, branch: npt.NDArray[np.int8], parts: dict[int, Column]) -> UnionColumn:
    values = tuple(None if b.kind is Kind.NULL else parts.get(k, empty_column(b))
                   for k, b in enumerate(t.branches))
    return UnionColumn(branch, tuple(b.branch_name for b in t.branches), values)


def _constant(t: AvroType, value: object) -> Builder:
    """A schema default on every row (a null union goes to its null branch)."""

    def constant(scope: Scope) -> Column:
        n = scope.size
        if value is None and t.kind is Kind.UNION and t.nullable_of is None:
            null = next(k for k, b in enumerate(t.branches) if b.kind is Kind.NULL)
            return _union(t, np.full(n, null, dtype=np.int8), {})
        out = np.empty(n, dtype=object)
        out[:] = [value] * n
        return out

    return constant


def empty_column(t: AvroType) -> Column:
    """A column of no rows of type `t`."""
    if t.kind is Kind.RECORD:
        return StructColumn({}, 0)
    if t.kind in (Kind.ARRAY, Kind.MAP):
        offsets = np.zeros(1, dtype=np.int64)
        if t.kind is Kind.ARRAY:
            return ListColumn(offsets, np.zeros(0, dtype=object))
        return MapColumn(offsets, np.zeros(0, dtype=object), np.zeros(0, dtype=object))
    if t.kind is Kind.UNION:
        return _union(t, np.zeros(0, dtype=np.int8), {})
    if t.logical == "decimal":
        return decimals(np.zeros(0), t.scale)
    value_type = t.value_type
    return np.zeros(0, dtype=object if value_type is None else value_type.dtype)


def scalar_column(t: AvroType, values: np.ndarray, convert: str | None) -> Column:
    """An expression's values as a scalar field of type `t` holds them (core/columns.py):
    converted (`convert`, see validate.convert_kind); for a union of null and a decimal, a
    UnionColumn, else nulls stay None in an object array."""
    pair = t.nullable_of
    base = t if pair is None else pair[0]
    dtype = base.value_type.dtype if base.value_type is not None else np.dtype(object)
    if pair is None:
        return _converted(base, values if values.dtype == dtype else values.astype(dtype),
                          convert)
    if convert is None and base.logical != "decimal":
        return values
    absent = np.equal(values, _NONE) if values.dtype == object else np.zeros(len(values), bool)
    present = np.flatnonzero(~absent)
    inner = _converted(base, values[present].astype(dtype), convert)
    if isinstance(inner, np.ndarray):
        if not absent.any():
            return inner
        out = values.copy()
        out[present] = inner.astype(object)
        return out
    null = pair[1]
    branch = np.where(absent, null, 1 - null).astype(np.int8)
    return _union(t, branch, {1 - null: inner})


def _converted(t: AvroType, values: np.ndarray, convert: str | None) -> Column:
    if convert is None:
        return values
    if convert == "decimal":
        return decimals(values, t.scale)
    if convert == "timestamp-units":
        units, ints = t.units_per_ms, values.astype(np.int64)
        if ints.size and (ints.min() < _I64.min // units or ints.max() > _I64.max // units):
            bad = int(ints.max()) if ints.max() > 0 else int(ints.min())
            raise ValueError(f"time {bad} ms in {t.logical} overflows 64 bits")
        return ints * units
    if convert == "date":
        return np.floor_divide(values.astype(np.int64), _DAY_MS)
    if convert in ("time-millis", "time-micros"):
        millis = np.mod(values.astype(np.int64), _DAY_MS)
        return millis * 1000 if convert == "time-micros" else millis
    assert convert == "duration"  # fixed(12): months, days, milliseconds as uint32 LE
    block = np.zeros((values.shape[0], 12), dtype=np.uint8)
    block[:, 8:] = np.clip(values, 0, 2**32 - 1).astype("<u4").view(np.uint8).reshape(-1, 4)
    out = np.empty(values.shape[0], dtype=object)
    out[:] = [row.tobytes() for row in block]
    return out
