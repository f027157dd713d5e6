"""Reading what the workers committed: every record of some topics at an isolation level,
once the transactions that were committed have their markers in the partitions."""
from __future__ import annotations

import time
import uuid
from typing import Any

import attrs
from confluent_kafka import Consumer, KafkaError, TopicPartition

from connector.kafka.log import watermarks


@attrs.frozen
class ReadRecord:
    topic: str
    partition: int
    offset: int
    key: bytes  # b"" for a null key (see null_key)
    value: bytes
    timestamp: int
    null_key: bool = False
    headers: tuple[tuple[str, bytes | None], ...] = ()


def read_all(bootstrap: str, topics: list[str], isolation: str = "read_committed",
             timeout_s: float = 60, settle_s: float = 30) -> list[ReadRecord]:
    """Every record of `topics` visible at this isolation level, up to each partition's end.

    The ends are taken when the read starts (the last stable offset for read_committed), so a
    topic that is still being written is read as it was then. A producer's commit returns
    before the coordinator has written the commit markers into the partitions, so for
    read_committed the read first waits up to `settle_s` for every open transaction to close.
    """
    if isolation == "read_committed":
        await_transaction_markers(bootstrap, topics, settle_s)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"r{uuid.uuid4().hex}",
                         "enable.auto.commit": False, "isolation.level": isolation,
                         "auto.offset.reset": "earliest", "enable.partition.eof": True})
    try:
        assignments, ends = [], {}
        for topic in topics:
            for p in partitions_of(consumer, topic):
                low, high = watermarks(consumer, TopicPartition(topic, p))
                if high > low:
                    assignments.append(TopicPartition(topic, p, low))
                    ends[(topic, p)] = high
        consumer.assign(assignments)
        out: list[ReadRecord] = []
        remaining = set(ends)
        deadline = time.monotonic() + timeout_s
        while remaining and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                # Passed the end (e.g. over a commit marker) while producers keep appending.
                for tp in consumer.position([TopicPartition(t, p) for t, p in remaining]):
                    if tp.offset >= ends[(tp.topic, tp.partition)]:
                        remaining.discard((tp.topic, tp.partition))
                continue
            error = msg.error()
            where = (str(msg.topic()), int(msg.partition() or 0))
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    remaining.discard(where)
                continue
            offset = int(msg.offset() or 0)
            if offset >= ends[where]:  # written after this read started
                remaining.discard(where)
                continue
            out.append(ReadRecord(where[0], where[1], offset, msg.key() or b"",
                                  msg.value() or b"", msg.timestamp()[1], msg.key() is None,
                                  _headers(msg.headers())))
            if offset + 1 >= ends[where]:
                remaining.discard(where)
        assert not remaining, f"did not reach the end of {sorted(remaining)}"
        return out
    finally:
        consumer.close()


def await_transaction_markers(bootstrap: str, topics: list[str], timeout_s: float) -> bool:
    """Wait until no partition of `topics` has an open transaction (its last stable offset has
    caught up with its high watermark); False if one is still open after `timeout_s`, as a
    producer killed mid-transaction leaves it until the broker's transaction timeout."""
    clients = {isolation: Consumer({"bootstrap.servers": bootstrap,
                                    "group.id": f"m{uuid.uuid4().hex}",
                                    "enable.auto.commit": False, "isolation.level": isolation})
               for isolation in ("read_committed", "read_uncommitted")}
    try:
        parts = [TopicPartition(t, p) for t in topics
                 for p in partitions_of(clients["read_committed"], t)]
        deadline = time.monotonic() + timeout_s
        while True:
            if all(watermarks(clients["read_committed"], tp)[1]
                   == watermarks(clients["read_uncommitted"], tp)[1] for tp in parts):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
    finally:
        for client in clients.values():
            client.close()


def _headers(raw: Any) -> tuple[tuple[str, bytes | None], ...]:
    """A consumed message's headers (a list of (name, value) pairs, or None)."""
    return tuple((str(name), value) for name, value in raw or ())


def partitions_of(consumer: Consumer, topic: str, timeout_s: float = 30) -> list[int]:
    """The topic's partitions, waiting while a topic created moments ago is not yet in the
    metadata this client gets (it would look like a topic without partitions)."""
    deadline = time.monotonic() + timeout_s
    while True:
        meta = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
        if meta is not None and meta.error is None and meta.partitions:
            return sorted(meta.partitions)
        if time.monotonic() > deadline:
            raise AssertionError(f"topic {topic} has no partitions in the metadata: "
                                 f"{meta.error if meta is not None else 'unknown topic'}")
        time.sleep(0.2)


def aborted(committed: list[ReadRecord], uncommitted: list[ReadRecord]) -> list[ReadRecord]:
    """Records a read_uncommitted reader saw that read_committed hides: aborted transactions."""
    visible = {(r.topic, r.partition, r.offset) for r in committed}
    return [r for r in uncommitted if (r.topic, r.partition, r.offset) not in visible]


def partition_counts(bootstrap: str, topics: list[str]) -> dict[str, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "meta"})
    try:
        meta = consumer.list_topics(timeout=30).topics
        return {t: len(meta[t].partitions) for t in topics}
    finally:
        consumer.close()
