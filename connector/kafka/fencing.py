"""Transactional ids and fencing: the one place that says who may commit a connector's output.

A task's transactional id is stable per (group, connector, tasks.max generation, task). Calling
`init_transactions` with an id fences every earlier producer that used it: its open transaction
is aborted and it can never commit again. A task fences the ids of earlier generations that
owned one of its shards before it reads offsets; an offsets reset fences every id ever used.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs
import structlog
from confluent_kafka import Producer

from connector.core.sharding import shards_of_task
from connector.kafka.errors import retrying

log = structlog.get_logger(__name__)


@attrs.frozen
class TaskIdentity:
    """Who a task is, for its transactional id."""

    connector: str
    task: int
    tasks_max: int
    group_id: str

    def transactional_id(self, tasks_max: int | None = None, task: int | None = None) -> str:
        """Stable per (group, connector, tasks.max generation, task)."""
        gen = self.tasks_max if tasks_max is None else tasks_max
        return f"{self.group_id}-{self.connector}-{gen}-{self.task if task is None else task}"


def earlier_owners(identity: TaskIdentity, generations: Iterable[int], shard_count: int,
                   shards: Iterable[int] | None = None) -> list[str]:
    """The transactional ids of other generations' tasks that owned one of `shards` (all of a
    generation's tasks when `shards` is None); the identity's own generation is left out."""
    mine = None if shards is None else set(shards)
    out = []
    for gen in sorted(set(generations)):
        if gen == identity.tasks_max and mine is not None:
            continue  # our own id: fenced by our own init_transactions
        for task in range(gen):
            if mine is None or mine & set(shards_of_task(shard_count, gen, task)):
                out.append(identity.transactional_id(gen, task))
    return out


def fence(producer_conf: dict[str, Any], transactional_ids: Iterable[str],
          timeout_s: float) -> None:
    """init_transactions on each id (retried while retriable): their owners can never commit."""
    for transactional_id in transactional_ids:
        fencer = Producer({**producer_conf, "transactional.id": transactional_id})
        retrying(fencer.init_transactions, timeout_s, timeout_s=timeout_s * 5)
        fencer.flush(0)
        log.info("fenced older generation", transactional_id=transactional_id)
