"""The Kafka destination end to end: Avro records in the registry, keys, partitions, timestamps."""

from __future__ import annotations

import signal
import time

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from connector.serde.partitioner import partition
from tests.runtime.harness import KafkaRun, assert_exact, reference
from tests.runtime.reading import partition_counts, read_all

pytestmark = pytest.mark.integration


def test_banking_round_trip(kafka_run: KafkaRun) -> None:
    """Every record decodes with AvroDeserializer; keys, partitions, timestamps are the engine's."""
    connector = kafka_run.connector(ticks=200, tasks_max=2)
    assert kafka_run.run_worker(connector) == 0, kafka_run.logs()
    topics = kafka_run.topics(connector)
    records = read_all(kafka_run.bootstrap, topics)
    assert len(records) > 1000
    counts = partition_counts(kafka_run.bootstrap, topics)
    deserializer = AvroDeserializer(SchemaRegistryClient({"url": kafka_run.registry}))
    start = 1_704_067_200_000
    for r in records:
        value = deserializer(r.value, SerializationContext(r.topic, MessageField.VALUE))
        assert value is not None
        assert value["user_id"] == r.key.decode()
        assert int(value["timestamp"].timestamp() * 1000) == r.timestamp
        assert (r.timestamp - start) % 60_000 == 0 and start <= r.timestamp < start + 200 * 60_000
        assert r.partition == partition(r.key, counts[r.topic])  # Java client's murmur2
        if r.topic.endswith("loan"):
            assert value["loan"] == 10_000
    assert_exact(records, reference(connector, kafka_run.tmp, counts))


def test_aborted_records_are_invisible(kafka_run: KafkaRun) -> None:
    """read_committed sees exactly the reference even though runs were cut mid-transaction."""

    connector = kafka_run.connector(ticks=400, tasks_max=2)
    for delay in (4.0, 6.0):
        proc = kafka_run.start_worker(connector)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert kafka_run.run_worker(connector) == 0, kafka_run.logs()
    topics = kafka_run.topics(connector)
    counts = partition_counts(kafka_run.bootstrap, topics)
    assert_exact(read_all(kafka_run.bootstrap, topics), reference(connector, kafka_run.tmp, counts))
