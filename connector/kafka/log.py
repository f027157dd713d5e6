"""The one compacted-topic reader/writer: every internal topic (configs, status, offsets) uses it.

A compacted topic is a table: the latest value of a key wins and a null value (tombstone)
deletes it. `CompactedLog` tails one partition from its start (the config and status stores
apply every record in order) and writes keyed records; `read_latest` scans a whole topic once
(offsets and snapshots at task start). One error policy for all of them: what librdkafka calls
retriable (a broker restarting, a leader moving) is logged and retried on the next poll; a
fatal error raises InfrastructureError. A closed log reads nothing and refuses writes, so a
worker stopping never trips over its own closed clients.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import structlog
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from connector.errors import InfrastructureError

log = structlog.get_logger(__name__)
Record = tuple[bytes, bytes | None, int]  # key, value (None: tombstone), offset


class CompactedLog:
    """One partition of a compacted topic: tail it in order, write keyed records."""

    def __init__(self, topic: str, producer_conf: dict[str, Any],
                 consumer_conf: dict[str, Any], *, partition: int = 0,
                 read_committed: bool = True) -> None:
        self.topic = topic
        self.partition = partition
        self.position = -1  # offset of the last record tail() returned
        self._producer = Producer({**producer_conf, "enable.idempotence": True, "acks": "all"})
        self._consumer = Consumer({
            **consumer_conf, "group.id": f"doge-log-{uuid.uuid4()}", "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed" if read_committed else "read_uncommitted"})
        self._consumer.assign([TopicPartition(topic, partition, 0)])
        self._closed = False

    def tail(self) -> list[Record]:
        """The records written since the last call, in order (never blocks)."""
        out: list[Record] = []
        while not self._closed:
            msg = self._consumer.poll(0)
            if msg is None:
                break
            error = msg.error()
            if error is not None:
                _check(error, self.topic)
                continue
            key = msg.key()
            self.position = msg.offset() or 0
            if key is not None:
                out.append((key, msg.value(), self.position))
        return out

    def write(self, key: bytes, value: bytes | None, timeout_s: float = 30.0) -> int:
        """Write one record and wait until the broker has it; returns its offset."""
        if self._closed:
            raise InfrastructureError(f"the log of {self.topic} is closed")
        offsets: list[int] = []

        def delivered(err: Any, msg: Any) -> None:
            if err is None:
                offsets.append(msg.offset())

        self._producer.produce(self.topic, value, key, self.partition, on_delivery=delivered)
        if self._producer.flush(timeout_s) != 0 or not offsets:
            raise InfrastructureError(f"could not write to {self.topic} in {timeout_s:.0f}s")
        return offsets[0]

    def publish(self, key: bytes, value: bytes | None) -> None:
        """Write one record without waiting (delivered by a later `write`, `flush` or close)."""
        if not self._closed:
            self._producer.produce(self.topic, value, key, self.partition)
            self._producer.poll(0)

    def flush(self, timeout_s: float = 5.0) -> None:
        if not self._closed:
            self._producer.flush(timeout_s)

    def close(self) -> None:
        """Deliver what was published (a few seconds at most), then release both clients."""
        if self._closed:
            return
        self._producer.flush(5)
        self._closed = True
        self._consumer.close()


def _check(error: KafkaError, topic: str) -> None:
    """The one error policy: fatal errors raise, the rest are logged (and retried by polling)."""
    if error.code() == KafkaError._PARTITION_EOF:
        return
    if error.fatal():
        raise InfrastructureError(f"reading {topic}: {error.str()}")
    log.warning("internal topic not readable, retrying", topic=topic, error=error.str())


# Errors of a partition whose leadership is still settling (a topic just created, a broker
# just restarted): the watermark query is asked again.
_SETTLING = frozenset({KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE,
                       KafkaError.UNKNOWN_TOPIC_OR_PART})


def watermarks(consumer: Consumer, tp: TopicPartition, timeout_s: float = 30
               ) -> tuple[int, int]:
    """(low, high) of a partition, asked again while its leadership settles."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            low, high = consumer.get_watermark_offsets(tp, timeout=timeout_s)
            return int(low), int(high)
        except KafkaException as exc:
            error = exc.args[0]
            if time.monotonic() > deadline or not (
                    error.code() in _SETTLING or error.retriable()):
                raise
            log.info("partition leadership settling, asking again", topic=tp.topic,
                     partition=tp.partition, error=error.str())
            time.sleep(0.2)


def read_latest(consumer_conf: dict[str, Any], topic: str, prefix: bytes,
                timeout_s: float = 60.0, complete: bool = False) -> dict[bytes, bytes]:
    """The latest committed value of every key starting with `prefix` (tombstones drop keys).

    By default it reads up to the last stable offset: what is committed and readable now. A
    transaction of another producer that is still open hides every record after its start, even
    records committed later. `complete=True` reads up to the high watermark instead, waiting for
    such transactions to end, so nothing committed before the call is missed: a task needs this
    after fencing its predecessor, whose last commits may lie beyond another task's open
    transaction (a worker killed mid-commit leaves those open until their owners are fenced).
    """
    conf = {**consumer_conf, "group.id": consumer_conf.get("group.id", "doge-offset-reader"),
            "enable.auto.commit": False, "isolation.level": "read_committed",
            "auto.offset.reset": "earliest", "enable.partition.eof": True}
    consumer = Consumer(conf)
    # A read_committed client's watermark query answers the last stable offset; the high
    # watermark needs a read_uncommitted one.
    marks = Consumer({**conf, "isolation.level": "read_uncommitted"}) if complete else consumer
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s).topics[topic]
        if metadata.error is not None:
            return {}
        partitions = [TopicPartition(topic, p) for p in metadata.partitions]
        ends = {}
        for tp in partitions:
            low, high = watermarks(marks, tp, timeout_s)
            if high > low:
                ends[tp.partition] = high
                tp.offset = low
        consumer.assign([tp for tp in partitions if tp.partition in ends])
        latest: dict[bytes, bytes] = {}
        deadline = time.monotonic() + timeout_s
        remaining = set(ends)
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic} did not reach its end in {timeout_s:.0f}s "
                                   "(an open transaction of another producer?)")
            # A short poll: the log ends in a commit marker, which yields no message, and a
            # resuming task waits for this read (0.5 s here cost every restart ~0.5 s per topic).
            msg = consumer.poll(0.05)
            if msg is None:
                _drop_finished(consumer, remaining, ends, topic)
                continue
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    _drop_finished(consumer, remaining, ends, topic)
                    continue
                _check(error, topic)
                continue
            key = msg.key()
            if key is not None and key.startswith(prefix):
                value = msg.value()
                if value is None:
                    latest.pop(key, None)
                else:
                    latest[key] = value
            partition, offset = msg.partition() or 0, msg.offset() or 0
            if offset + 1 >= ends[partition]:
                remaining.discard(partition)
        return latest
    finally:
        consumer.close()
        if marks is not consumer:
            marks.close()


def _drop_finished(consumer: Consumer, remaining: set[int], ends: dict[int, int],
                   topic: str) -> None:
    """Partitions whose position passed their end (control records count as read)."""
    for tp in consumer.position([TopicPartition(topic, p) for p in list(remaining)]):
        if tp.offset >= ends[tp.partition]:
            remaining.discard(tp.partition)
