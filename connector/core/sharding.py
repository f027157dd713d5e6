"""How a connector's shards are split over its tasks (a pure function of shards and tasks.max)."""

from __future__ import annotations


def shards_of_task(shards: int, tasks: int, task: int) -> list[int]:
    """Shards owned by `task`: round-robin, so each task gets an even share."""
    return list(range(task, shards, tasks))
