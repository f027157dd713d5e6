"""Partitioning matches Kafka's Java client, so topics co-partition with Java and Streams ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from confluent_kafka import Message, Producer

from connector.serde.keys import KeySerializer
from connector.serde.partitioner import murmur2, murmur2_many, partition, partitions

DATA = Path(__file__).resolve().parent / "data"

# Kafka's UtilsTest.testMurmur2 vectors.
KAFKA_VECTORS = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}


def java_vectors() -> list[tuple[bytes, int, int]]:
    """(key, murmur2, partition of 12) computed by kafka-clients' own Utils (see data/*.java)."""
    out = []
    for line in (DATA / "murmur2_java.txt").read_text().splitlines():
        if line.startswith("#"):
            continue
        key, h, p = line.split()
        out.append((bytes.fromhex(key[1:]), int(h), int(p)))
    return out


@pytest.mark.parametrize(("key", "expected"), KAFKA_VECTORS.items())
def test_murmur2_matches_kafka_utils_test(key: bytes, expected: int) -> None:
    """murmur2 returns Kafka's signed 32-bit hash for the vectors in Kafka's own test."""
    assert murmur2(key) == expected


def test_murmur2_matches_kafka_clients_jar_output() -> None:
    """Scalar and vectorised murmur2 and the partition agree with kafka-clients on 215 keys."""
    vectors = java_vectors()
    assert len(vectors) == 215
    keys = [k for k, _, _ in vectors]
    assert [murmur2(k) for k in keys] == [h for _, h, _ in vectors]
    assert murmur2_many(keys).tolist() == [h for _, h, _ in vectors]
    assert [partition(k, 12) for k in keys] == [p for _, _, p in vectors]
    assert partitions(keys, 12).tolist() == [p for _, _, p in vectors]


def test_partition_uses_to_positive_not_abs() -> None:
    """Negative hashes map through `h & 0x7fffffff` (Java's toPositive), not abs()."""
    assert partition(b"foobar", 50) == 16
    assert partition(b"21", 7) == (-973932308 & 0x7FFFFFFF) % 7


def test_vectorised_partitions_of_user_id_keys() -> None:
    """Partitions computed over a whole batch of user-id keys equal the per-key Java formula."""
    ids = np.concatenate([np.arange(0, 5000), np.array([10**9, 2**40, -5])]).astype(np.int64)
    keys = KeySerializer().encode(ids)
    expected = [partition(str(i).encode(), 24) for i in ids.tolist()]
    assert partitions(keys, 24).tolist() == expected
    assert partitions(list(keys.values()), 24).tolist() == expected


def test_empty_and_invalid() -> None:
    """No keys give no partitions; a non-positive partition count is refused."""
    assert partitions([], 3).tolist() == []
    with pytest.raises(ValueError):
        partition(b"k", 0)
    with pytest.raises(ValueError):
        partitions([b"k"], 0)


@pytest.mark.integration
def test_librdkafka_murmur2_random_agrees_on_a_real_topic(
    kafka_bootstrap: str, topic_factory: Callable[..., str]
) -> None:
    """A producer with partitioner=murmur2_random puts each user-id key where we compute it."""

    topic = topic_factory(partitions=12)
    ids = np.arange(0, 3000, 7, dtype=np.int64)
    keys = KeySerializer().encode(ids).values()
    expected = partitions(keys, 12).tolist()
    got: dict[bytes, int] = {}

    def delivered(err: object, msg: Message) -> None:
        key, part = msg.key(), msg.partition()
        assert err is None and isinstance(key, bytes) and part is not None, err
        got[key] = part

    producer = Producer({"bootstrap.servers": kafka_bootstrap, "partitioner": "murmur2_random"})
    for key in keys:
        producer.produce(topic, value=b"", key=key, on_delivery=delivered)
    assert producer.flush(30) == 0
    assert [got[k] for k in keys] == expected
