"""Staged emits merged into the committed order: by tick, then shard, then model order."""

from __future__ import annotations

import numpy as np

from connector.core.batch import EventColumns, Moves, TickBatch
from connector.core.columns import Column, ListColumn, StructColumn, to_python
from connector.core.staged import merge


def _emit(ids: list[int], shards: tuple[int, ...], bounds: tuple[int, ...] = (),
          transition: str = "t") -> EventColumns:
    """An emit whose every field is derived from its user ids (so the order is visible)."""
    u = np.array(ids, dtype=np.int64)
    items = ListColumn(np.arange(len(ids) + 1, dtype=np.int64) * 2, np.repeat(u, 2))
    fields: dict[str, Column] = {"id": u, "nested": StructColumn({"twice": u * 2}, len(ids)),
                                 "items": items}
    keys = np.array([f"k{i}" for i in ids], dtype=object)
    return EventColumns("topic", transition, u, u + 1000, fields, keys,
                        (("h", np.array([str(i) for i in ids], dtype=object)),), shards, bounds)


def test_grouped_emits_are_committed_shard_by_shard_in_model_order() -> None:
    """Rows of shards stepped together come out as if each shard had been stepped alone:
    tick by tick, shards ascending, each shard's emits in model order; every column follows."""
    first = _emit([10, 11, 20, 21, 22], (2, 1), (0, 2, 5))  # shard 2: 10, 11; shard 1: 20-22
    only_one = _emit([12], (2,), transition="u")  # a per-shard emit of the same tick
    second = _emit([13, 23], (2, 1), (0, 1, 2))
    later = _emit([30, 40], (1, 2), (0, 1, 2))  # the next tick
    rows = merge([(5, first), (5, only_one), (5, second), (6, later)])
    want = [20, 21, 22, 23, 10, 11, 12, 13, 30, 40]
    assert rows.user_ids.tolist() == want
    assert rows.timestamps.tolist() == [u + 1000 for u in want]
    assert to_python(rows.fields["id"]) == want
    assert to_python(rows.fields["nested"]) == [{"twice": 2 * u} for u in want]
    assert to_python(rows.fields["items"]) == [[u, u] for u in want]
    assert rows.keys is not None and to_python(rows.keys) == [f"k{u}" for u in want]
    assert [(n, v.tolist()) for n, v in rows.headers] == [("h", [str(u) for u in want])]
    assert rows.runs.ticks.tolist() == [5, 5, 6, 6]
    assert rows.runs.shards.tolist() == [1, 2, 1, 2]
    assert rows.runs.lengths.tolist() == [4, 4, 1, 1]
    assert rows.runs.tick_sizes().tolist() == [8, 2]
    assert rows.runs.positions().tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 0, 0]
    assert rows.runs.row_ticks().tolist() == [5] * 8 + [6, 6]


def test_rows_already_in_order_are_taken_as_they_are() -> None:
    """One shard's emits (or shards already in order) need no gather: the same arrays."""
    single = _emit([1, 2, 3], (0,))
    rows = merge([(0, single)])
    assert rows.user_ids is single.user_ids
    assert rows.runs.lengths.tolist() == [3]
    assert len(merge([])) == 0


def test_a_batch_seen_per_shard_is_what_that_shard_emitted() -> None:
    """TickBatch.of_shard gives one shard's rows of every emit and move, and nothing else."""
    batch = TickBatch((2, 1), 5, (_emit([10, 11, 20, 21, 22], (2, 1), (0, 2, 5)),
                                  _emit([12], (2,), transition="u")),
                      (Moves("t", np.array([10, 11, 20, 21, 22]), (2, 1), (0, 2, 5)),))
    one = batch.of_shard(1)
    assert one.shards == (1,)
    assert [e.user_ids.tolist() for e in one.events] == [[20, 21, 22]]
    assert to_python(one.events[0].fields["nested"]) == [{"twice": 2 * u} for u in (20, 21, 22)]
    assert [m.user_ids.tolist() for m in one.moves] == [[20, 21, 22]]
    two = batch.of_shard(2)
    assert [e.user_ids.tolist() for e in two.events] == [[10, 11], [12]]
    assert batch.of_shard(7).events == ()
