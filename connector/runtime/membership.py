"""Which tasks this worker runs: all of them (standalone) or those Kafka's group protocol gives it.

Distributed mode: every task of every connector is mapped to a slot (a partition of an internal,
empty topic); workers sharing `group.id` subscribe to that topic as one consumer group with the
round-robin assignor, so Kafka itself decides which worker owns which slots, and moves them when
a worker joins, leaves, or stops heartbeating for `session.timeout.ms`. No coordinator of ours.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

import structlog
from confluent_kafka import Consumer, KafkaError, TopicPartition

from connector.errors import Problem, UserError

log = structlog.get_logger(__name__)

# What the group coordinator answers when it will never let this worker in as configured: the
# worker setting to change, and how. librdkafka retries these forever, silently.
REFUSED = {
    KafkaError.INVALID_SESSION_TIMEOUT: (
        "session.timeout.ms", "set it within the broker's group.min.session.timeout.ms and "
        "group.max.session.timeout.ms (6000 and 1800000 by default)"),
    KafkaError.GROUP_AUTHORIZATION_FAILED: (
        "group.id", "grant this worker's principal READ on the group '<group.id>-workers'"),
    KafkaError.INVALID_GROUP_ID: ("group.id", "set a non-empty group.id"),
    KafkaError.TOPIC_AUTHORIZATION_FAILED: (
        "slots.topic", "grant this worker's principal DESCRIBE and READ on the slots topic"),
}


class Membership(Protocol):
    def poll(self) -> None:
        """Keep the membership alive (heartbeats, rebalances)."""

    def owned_slots(self) -> set[int] | None:
        """Slots this worker owns now; None while a rebalance is in progress."""

    def generation(self) -> int:
        """Changes whenever ownership changed (for logs and status)."""

    def close(self) -> None:
        """Leave the group."""


class StandaloneMembership:
    """Owns everything."""

    def __init__(self, slots: int) -> None:
        self._slots = set(range(slots))

    def poll(self) -> None:
        return None

    def owned_slots(self) -> set[int] | None:
        return self._slots

    def generation(self) -> int:
        return 0

    def close(self) -> None:
        return None


class GroupMembership:
    """A consumer group over the slots topic; assignments arrive through rebalance callbacks."""

    def __init__(self, topic: str, group_id: str, consumer_conf: dict[str, Any],
                 session_timeout_ms: int, heartbeat_ms: int, file: str | None = None) -> None:
        self._file = file  # the worker config, named in errors
        self._warned: set[int] = set()  # error codes logged already (the client retries them)
        self._lock = threading.Lock()
        self._owned: set[int] | None = None
        self._generation = 0
        self._closed = False
        self._consumer = Consumer({
            **consumer_conf, "group.id": f"{group_id}-workers",
            "partition.assignment.strategy": "roundrobin",
            "session.timeout.ms": session_timeout_ms, "heartbeat.interval.ms": heartbeat_ms,
            "max.poll.interval.ms": max(300_000, session_timeout_ms),
            "enable.auto.commit": False, "auto.offset.reset": "latest"})
        self._consumer.subscribe([topic], on_assign=self._on_assign, on_revoke=self._on_revoke,
                                 on_lost=self._on_lost)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        with self._lock:
            self._owned = {tp.partition for tp in partitions}
            self._generation += 1
        log.info("slots assigned", slots=sorted(self._owned))

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Eager protocol: everything is revoked, then reassigned. Keep running meanwhile; a task
        # that ends up elsewhere is fenced by its new owner before that owner reads offsets.
        with self._lock:
            self._owned = None

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.warning("group membership lost (session timed out); releasing every task")
        with self._lock:
            self._owned = set()
            self._generation += 1

    def poll(self) -> None:
        """Serve the group protocol. UserError when the coordinator refuses this worker's
        settings (the client would retry forever and the worker never get a slot)."""
        if self._closed:
            return
        event = self._consumer.poll(0)  # the slots topic holds no records: only errors come
        error = event.error() if event is not None else None
        if error is None:
            return
        refused = REFUSED.get(error.code())
        if refused is not None:
            key, fix = refused
            raise UserError([Problem(f"the Kafka group coordinator refuses this worker: "
                                     f"{error.str()}; {fix}", file=self._file, path=key)])
        if error.code() not in self._warned:
            self._warned.add(error.code())
            log.warning("group membership: the Kafka client reports an error; it retries",
                        error=error.str())

    def owned_slots(self) -> set[int] | None:
        with self._lock:
            return None if self._owned is None else set(self._owned)

    def generation(self) -> int:
        with self._lock:
            return self._generation

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._consumer.close()
