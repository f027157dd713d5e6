"""Which tasks a worker should run: a pure function of the connectors and the slots it owns.

Every task of every connector is mapped to a slot; in distributed mode Kafka's group protocol
gives each worker a set of slots (membership.py), in standalone mode the worker owns them all.
"""

from __future__ import annotations

from collections.abc import Mapping

TaskKey = tuple[str, int]  # (connector, task)


def task_keys(tasks_max: Mapping[str, int]) -> list[TaskKey]:
    """Every task of every connector, in (connector, task) order."""
    return sorted((name, task) for name, n in tasks_max.items() for task in range(n))


def assigned(tasks_max: Mapping[str, int], owned: set[int], slots: int) -> set[TaskKey]:
    """The tasks of `tasks_max` (connector -> its tasks.max) that fall in the `owned` slots.

    Tasks take consecutive slots in (connector, task) order: an even spread over workers."""
    ordered = task_keys(tasks_max)
    return {key for i, key in enumerate(ordered) if i % slots in owned}
