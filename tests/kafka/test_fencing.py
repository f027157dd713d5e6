"""Which transactional ids a task or a reset fences (pure; the fencing itself needs a broker)."""

from __future__ import annotations

from connector.kafka.fencing import TaskIdentity, earlier_owners


def test_a_task_fences_the_other_generations_owners_of_its_shards() -> None:
    """Task 0 of 3 (shards 0, 3, 6 of 8) fences the tasks of generations 2 and 4 that owned
    one of them, and leaves its own generation to its own init_transactions."""
    me = TaskIdentity("c", 0, 3, "g")
    assert earlier_owners(me, {2, 3, 4}, 8, [0, 3, 6]) == [
        "g-c-2-0", "g-c-2-1", "g-c-4-0", "g-c-4-2", "g-c-4-3"]


def test_a_reset_fences_every_task_of_every_generation() -> None:
    """Without shards (an offsets reset), every id of every generation is fenced."""
    anyone = TaskIdentity("c", 0, 0, "g")
    assert earlier_owners(anyone, {1, 2}, 4) == ["g-c-1-0", "g-c-2-0", "g-c-2-1"]
