"""A topic's staged emits as one set of columns, in the committed order.

The engine steps a task's shards together and emits each transition's events once for all of
them (rows grouped by shard, see EventColumns.shards): one set of columns per emit rather than
one per shard, which is where a task holding many shards spent its time. What is committed
keeps one order, whatever the grouping: by tick, then by shard (ascending), then in the model's
order (transition, then emit), then by user id: each shard's records of a tick are contiguous,
as if the shards had been stepped one by one. `merge` puts the staged rows in that order with
one gather per column (no gather at all when they already are, as with one shard).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from itertools import repeat

import attrs
import numpy as np
import numpy.typing as npt

from connector.core.batch import EventColumns
from connector.core.columns import Column, concat, take

I64 = npt.NDArray[np.int64]


@attrs.frozen
class Runs:
    """The rows of one (tick, shard) each, contiguous, in committed order."""

    ticks: I64
    shards: I64
    lengths: I64

    def row_ticks(self) -> I64:
        """The tick of every row."""
        return np.repeat(self.ticks, self.lengths)

    def tick_sizes(self) -> I64:
        """The number of rows of each tick, in order."""
        if not self.ticks.shape[0]:
            return self.lengths
        return np.add.reduceat(self.lengths, _firsts(self.ticks))

    def positions(self) -> I64:
        """Every row's position among its (tick, shard)'s rows: 0, 1, 2, ... per run."""
        starts = _starts(self.lengths)
        total = int(self.lengths.sum())
        return np.arange(total, dtype=np.int64) - np.repeat(starts, self.lengths)


@attrs.frozen
class TopicRows:
    """Staged emits of one topic merged: the columns of EventColumns, in committed order."""

    fields: Mapping[str, Column]
    user_ids: I64
    timestamps: I64
    keys: Column | None  # None: every row's key is its user id
    headers: tuple[tuple[str, np.ndarray], ...]
    runs: Runs

    def __len__(self) -> int:
        return int(self.user_ids.shape[0])


def merge(staged: Sequence[tuple[int, EventColumns]]) -> TopicRows:
    """The rows of (tick, emit) pairs of one topic, staged in tick order, as one set of
    columns in committed order."""
    events = [e for _, e in staged]
    order, runs = _order(staged)

    def joined(parts: list[Column]) -> Column:
        column = parts[0] if len(parts) == 1 else concat(parts)
        return column if order is None else take(column, order)

    def array(parts: list[np.ndarray]) -> np.ndarray:
        column = joined(list(parts))
        assert isinstance(column, np.ndarray)
        return column

    if not events:
        empty = np.zeros(0, dtype=np.int64)
        return TopicRows({}, empty, empty, None, (), runs)
    fields = {name: joined([e.fields[name] for e in events]) for name in events[0].fields}
    given = [e.keys for e in events if e.keys is not None]
    if given and len(given) != len(events):
        raise ValueError("emits of one topic must all have keys or none")
    headers = tuple((name, array([dict(e.headers)[name] for e in events]))
                    for name, _ in events[0].headers)
    return TopicRows(fields, array([e.user_ids for e in events]),
                     array([e.timestamps for e in events]), joined(given) if given else None,
                     headers, runs)


def _order(staged: Sequence[tuple[int, EventColumns]]) -> tuple[I64 | None, Runs]:
    """The row permutation into committed order (None: already in it) and its runs."""
    ticks: list[int] = []
    shards: list[int] = []
    lengths: list[int] = []
    for tick, e in staged:  # per emit, not per segment: a tick of a task has hundreds
        if e.bounds:
            b = e.bounds
            lengths.extend(map(operator.sub, b[1:], b[:-1]))
        else:
            lengths.append(len(e))
        shards.extend(e.shards)
        ticks.extend(repeat(tick, len(e.shards)))
    tick_a = np.array(ticks, dtype=np.int64)
    shard_a = np.array(shards, dtype=np.int64)
    len_a = np.array(lengths, dtype=np.int64)
    # lexsort is stable: segments of one (tick, shard) keep the model's order.
    sort = np.lexsort((shard_a, tick_a))
    identity = bool((sort == np.arange(sort.shape[0])).all())
    order: I64 | None = None
    if not identity:
        sorted_len = len_a[sort]
        order = np.repeat(_starts(len_a)[sort] - _starts(sorted_len), sorted_len) + \
            np.arange(int(len_a.sum()), dtype=np.int64)
        tick_a, shard_a, len_a = tick_a[sort], shard_a[sort], sorted_len
    # Adjacent segments of one (tick, shard) form one run.
    if tick_a.shape[0]:
        first = _firsts(tick_a, shard_a)
        len_a = np.add.reduceat(len_a, first)
        tick_a, shard_a = tick_a[first], shard_a[first]
    return order, Runs(tick_a, shard_a, len_a)


def _starts(lengths: I64) -> I64:
    """Where each of consecutive blocks of these lengths starts."""
    return np.cumsum(lengths) - lengths


def _firsts(*keys: I64) -> npt.NDArray[np.intp]:
    """The index of the first of each run of equal keys (non-empty arrays)."""
    new = np.zeros(keys[0].shape[0], dtype=bool)
    new[0] = True
    for key in keys:
        new[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(new)
