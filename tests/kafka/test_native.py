"""The one-call C produce path writes exactly the records produce() writes, on a real broker."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest
from confluent_kafka import Consumer, KafkaError, Producer

from connector.destinations.kafka import KafkaDestination
from connector.kafka import native
from connector.serde.encoder import EncodedBatch
from connector.serde.keybatch import KeyBatch
from connector.serde.records import Records

pytestmark = pytest.mark.integration

Record = tuple[int | None, bytes | None, bytes | None, int]  # partition, key, value, time


def _records(topic: str, n: int, partitions: int) -> Records:
    """Values of varied sizes (empty and 0.5 MB ones too), null, empty and ordinary keys."""
    rng = np.random.default_rng(7)
    values = [rng.bytes(int(size)) for size in rng.integers(0, 300, n)]
    values[1], values[2] = b"", rng.bytes(500_000)
    keys: list[bytes | None] = [None if i % 5 == 0 else b"u%d" % i for i in range(n)]
    keys[3] = b""
    parts = rng.integers(0, partitions, n).tolist()
    stamps = (1_600_000_000_000 + rng.integers(0, 10**9, n)).tolist()
    return Records.from_lists(topic, values, keys, parts, stamps)


def _read(bootstrap: str, topic: str, n: int) -> list[Record]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"read-{topic}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    got: list[Record] = []
    try:
        for _ in range(600):
            if len(got) >= n:
                break
            for m in consumer.consume(1000, 0.5):
                assert m.error() is None, m.error()
                got.append((m.partition(), m.key(), m.value(), m.timestamp()[1]))
    finally:
        consumer.close()
    return sorted(got, key=lambda r: (r[0] or 0, r[3], r[1] or b"", r[2] or b""))


def _reference(producer: Producer, topic: str, records: Records) -> None:
    """The same records into `topic` one by one through Producer.produce."""
    for value, key, part, stamp in records:
        producer.produce(topic, value, key, part, timestamp=stamp)
    assert producer.flush(30) == 0


@pytest.fixture
def producer(kafka_bootstrap: str) -> Iterator[Producer]:
    p = Producer({"bootstrap.servers": kafka_bootstrap, "linger.ms": 5})
    yield p
    p.flush(30)


def test_the_c_path_is_available_for_the_installed_client(producer: Producer) -> None:
    """The extension is built by the install and accepted for confluent-kafka's Producer (else
    every task would silently take the slower record-by-record path)."""
    assert native.unavailable(producer) is None


def test_the_c_path_writes_what_produce_writes(
        kafka_bootstrap: str, topic_factory: Callable[..., str], producer: Producer) -> None:
    """Same partitions, keys (null, empty, ordinary), values and timestamps, record for record,
    as producing the same records one by one with Producer.produce."""
    ours, theirs = topic_factory(3), topic_factory(3)
    records = _records(ours, 3000, 3)
    assert native.produce(producer, records) == (3000, 0)
    _reference(producer, theirs, records)
    got, reference = _read(kafka_bootstrap, ours, 3000), _read(kafka_bootstrap, theirs, 3000)
    assert len(got) == 3000
    assert got == reference


def test_a_full_queue_is_waited_out_and_nothing_is_lost_or_doubled(
        kafka_bootstrap: str, topic_factory: Callable[..., str], producer: Producer) -> None:
    """With room for 50 records in librdkafka's queue, 2,000 go in through the C path, which
    stops at the first record that does not fit; the destination polls and resumes there."""
    topic, theirs = topic_factory(2), topic_factory(2)
    small = Producer({"bootstrap.servers": kafka_bootstrap, "queue.buffering.max.messages": 50,
                      "linger.ms": 0})
    records = _records(topic, 2000, 2)
    stopped, error = native.produce(small, records)
    assert 0 < stopped < 2000 and error == KafkaError._QUEUE_FULL
    small.flush(30)
    KafkaDestination._produce_natively(small, records_from(records, stopped))
    assert small.flush(30) == 0
    _reference(producer, theirs, records)
    got = _read(kafka_bootstrap, topic, 2000)
    assert len(got) == 2000
    assert got == _read(kafka_bootstrap, theirs, 2000)


def records_from(records: Records, first: int) -> Records:
    """The records from `first` on."""
    return Records.from_lists(records.topic, records.values[first:], records.keys[first:],
                              records.partitions[first:], records.timestamps[first:])


def test_bounds_outside_the_buffers_are_refused_before_anything_is_produced(
        producer: Producer, topic_factory: Callable[..., str]) -> None:
    """A start or length beyond its buffer is a ValueError and the queue stays empty (no read
    outside Python's memory)."""
    topic = topic_factory(1)
    good = _records(topic, 10, 1)
    keys = good.key_batch
    bad_keys = KeyBatch(keys.buffer, keys.starts, keys.lengths + len(keys.buffer))
    bad = Records(topic, good.value_batch, bad_keys, good.partition_array, good.timestamp_array)
    short = Records(topic, EncodedBatch(b"abc", np.array([0, 2, 9] + [9] * 8, dtype=np.int64)),
                    keys, good.partition_array, good.timestamp_array)
    for records in (bad, short):
        with pytest.raises(ValueError, match="outside its buffer"):
            native.produce(producer, records)
    assert len(producer) == 0


def test_the_switch_turns_the_c_path_off(producer: Producer,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """DOGE_KAFKA_NATIVE=0 sends every task back to produce() record by record."""
    monkeypatch.setenv(native.SWITCH, "0")
    native._library.cache_clear()
    try:
        assert native.unavailable(producer) == "DOGE_KAFKA_NATIVE=0"
    finally:
        monkeypatch.delenv(native.SWITCH)
        native._library.cache_clear()
    assert native.available(producer)
