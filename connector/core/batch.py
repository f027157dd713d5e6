"""The engine's output: one shard's events of one tick, as columns (never one object per event)."""

from __future__ import annotations

import attrs
import numpy as np
import numpy.typing as npt


@attrs.frozen
class EventColumns:
    """What one `emit` of one transition produced in one shard-tick.

    `fields` holds one column per field of the topic's Avro value schema (all of them, keyed by
    field name, each as long as `user_ids`): int64/float64/bool arrays for numeric fields, object
    arrays of `str` for strings, object arrays holding `None` where a nullable field is null.
    Rows are ordered by ascending user id.
    """

    topic: str
    transition: str
    user_ids: npt.NDArray[np.int64]
    timestamps: npt.NDArray[np.int64]  # event time, epoch milliseconds
    fields: dict[str, np.ndarray]

    def __len__(self) -> int:
        return int(self.user_ids.shape[0])


@attrs.frozen
class Moves:
    """The users of one shard that took one transition in one tick (its condition held), events
    or not: what counts transitions fired, silent ones included. Ascending user ids."""

    transition: str
    user_ids: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.user_ids.shape[0])


@attrs.frozen
class TickBatch:
    """All events of one shard in one tick, in the model's order (transition, then emit), and the
    moves behind them (also when the tick was replayed without building events)."""

    shard: int
    tick: int
    events: tuple[EventColumns, ...]
    moves: tuple[Moves, ...] = ()

    @property
    def event_count(self) -> int:
        return sum(len(e) for e in self.events)


def concat_fields(events: list[EventColumns]) -> dict[str, np.ndarray]:
    """The fields of several emits to one topic as one set of columns (for one encode call)."""
    if len(events) == 1:
        return events[0].fields
    return {name: np.concatenate([e.fields[name] for e in events]) for name in events[0].fields}
