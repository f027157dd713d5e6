"""The engine's output: the events of one tick of a set of shards, as columns (never one object per
event)."""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import numpy as np
import numpy.typing as npt

from connector.core.columns import Column, DecimalTextColumn, as_array, slice_rows


@attrs.frozen
class EventColumns:
    """What one `emit` of one transition produced in one tick, for the shards stepped together.

    `fields` holds one column per field of the topic's Avro value schema (all of them, keyed by
    field name, each as long as `user_ids`), in the representation of `connector.core.columns`:

    - boolean/int/long/float/double: numpy bool/int64/float64 arrays; string, uuid and enum
      (its symbols): object arrays of `str` (a string field that is the user id as text: a
      `DecimalTextColumn` of the ids, so that no `str` is made per event); bytes and fixed:
      object arrays of `bytes` (a `str` stands for its UTF-8 bytes); date: int64 days since
      the epoch; time-millis/-micros: int64 after midnight; timestamps: int64 in the schema's
      unit;
    - a union of null and one such type: an object array holding `None` where the row is null;
    - a nested record: a `StructColumn` (one such column per field, recursively);
    - an array: a `ListColumn` (n + 1 offsets and one flat column of the items of all rows);
    - a map: a `MapColumn` (offsets, a flat object array of `str` keys, a flat value column);
    - any other union (of records, arrays or maps, or of two or more non-null types): a
      `UnionColumn` (the branch of each row and, per branch, the values of its rows in order);
    - decimal: a `DecimalColumn` (unscaled integers and the scale).

    `connector.core.columns.to_python` turns any of them into plain Python values (one function
    for fastavro's slow path, JSON and PostgreSQL). Rows are ordered by ascending user id.

    `keys` is None for the default key (the user id, `user_ids`); otherwise the key column of
    the topic's `key:` expression (a numpy array, None where the key is null) or, for a record
    key, a `StructColumn`. `headers` maps header names to object arrays of `str` (None: the
    header is sent without a value).
    """

    topic: str
    transition: str
    user_ids: npt.NDArray[np.int64]
    timestamps: npt.NDArray[np.int64]  # event time, epoch milliseconds
    fields: Mapping[str, Column]
    keys: Column | None = None
    headers: tuple[tuple[str, np.ndarray], ...] = ()
    shards: tuple[int, ...] = (0,)
    bounds: tuple[int, ...] = ()

    def __len__(self) -> int:
        return int(self.user_ids.shape[0])

    def of_shard(self, shard: int) -> EventColumns:
        """Only the rows of `shard` (none if it has no rows here)."""
        start, stop = _span(_segments(self.shards, self.bounds, len(self)), shard)
        return EventColumns(
            self.topic, self.transition, self.user_ids[start:stop],
            self.timestamps[start:stop],
            {name: slice_rows(c, start, stop) for name, c in self.fields.items()},
            None if self.keys is None else slice_rows(self.keys, start, stop),
            tuple((name, v[start:stop]) for name, v in self.headers), (shard,))

    def array(self, name: str) -> np.ndarray:
        """A field held as one numpy array (a scalar or nullable scalar field)."""
        column = self.fields[name]
        if isinstance(column, DecimalTextColumn):
            return as_array(column)
        if not isinstance(column, np.ndarray):
            raise TypeError(f"field {name!r} is a {type(column).__name__}, not an array")
        return column


@attrs.frozen
class Moves:
    """The users that took one transition in one tick (its condition held), events or not:
    what counts transitions fired, silent ones included. Grouped by shard as in EventColumns,
    ascending user ids in each group."""

    transition: str
    user_ids: npt.NDArray[np.int64]
    shards: tuple[int, ...] = (0,)
    bounds: tuple[int, ...] = ()

    def __len__(self) -> int:
        return int(self.user_ids.shape[0])

    def of_shard(self, shard: int) -> Moves:
        """Only the users of `shard` (none if it has no users here)."""
        start, stop = _span(_segments(self.shards, self.bounds, len(self)), shard)
        return Moves(self.transition, self.user_ids[start:stop], (shard,))


@attrs.frozen
class TickBatch:
    """All events of some shards stepped together in one tick, in the model's order (transition,
    then emit; each emit's rows grouped by shard), and the moves behind them (also when the
    tick was replayed without building events)."""

    shards: tuple[int, ...]
    tick: int
    events: tuple[EventColumns, ...]
    moves: tuple[Moves, ...] = ()

    @property
    def event_count(self) -> int:
        return sum(len(e) for e in self.events)

    def of_shard(self, shard: int) -> TickBatch:
        """What `shard` alone emitted and did (as if it had been stepped alone)."""
        events = (e.of_shard(shard) for e in self.events if shard in e.shards)
        return TickBatch((shard,), self.tick, tuple(e for e in events if len(e)),
                         tuple(m.of_shard(shard) for m in self.moves if shard in m.shards))


def _segments(shards: tuple[int, ...], bounds: tuple[int, ...], size: int
              ) -> list[tuple[int, int, int]]:
    """(shard, first row, end row) of each shard (no bounds: all rows are the first shard's)."""
    if not bounds:
        return [(shards[0], 0, size)]
    return [(shard, bounds[k], bounds[k + 1]) for k, shard in enumerate(shards)]


def _span(segments: list[tuple[int, int, int]], shard: int) -> tuple[int, int]:
    """The rows of `shard` among `segments` ((0, 0): none)."""
    return next(((start, stop) for s, start, stop in segments if s == shard), (0, 0))
