"""The assignment function: which tasks a worker runs, from the connectors and its slots."""

from __future__ import annotations

from connector.runtime.assignment import assigned, task_keys


def test_one_worker_owning_every_slot_runs_every_task() -> None:
    """Standalone: all slots owned, every task of every connector assigned."""
    assert assigned({"a": 2, "b": 1}, set(range(64)), 64) == {("a", 0), ("a", 1), ("b", 0)}


def test_two_workers_split_the_tasks_evenly_and_disjointly() -> None:
    """Round-robin slots spread consecutive tasks over workers; together they cover all."""
    connectors = {"a": 3, "b": 2, "c": 1}
    first = assigned(connectors, {0, 2}, 4)
    second = assigned(connectors, {1, 3}, 4)
    assert first.isdisjoint(second) and first | second == set(task_keys(connectors))
    assert len(first) == len(second) == 3


def test_more_tasks_than_slots_wrap_around() -> None:
    """Slots are reused once every slot has a task: task i takes slot i % slots."""
    assert assigned({"a": 5}, {1}, 2) == {("a", 1), ("a", 3)}


def test_no_owned_slots_no_tasks() -> None:
    """A worker that lost its membership runs nothing."""
    assert assigned({"a": 4}, set(), 8) == set()
