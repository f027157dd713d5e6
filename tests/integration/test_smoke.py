"""Smoke tests proving the local infra is real: Kafka transactions and a Confluent-API registry."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

pytestmark = pytest.mark.integration

TIMEOUT_S = 30.0
SCHEMA = json.dumps(
    {
        "type": "record",
        "name": "SmokeEvent",
        "namespace": "doge.smoke",
        "fields": [
            {"name": "seq", "type": "long"},
            {"name": "state", "type": "string"},
        ],
    }
)


def _producer(bootstrap: str, transactional_id: str) -> Producer:
    return Producer(
        {
            "bootstrap.servers": bootstrap,
            "transactional.id": transactional_id,
            "transaction.timeout.ms": 60_000,
            "linger.ms": 5,
            "retry.backoff.ms": 20,
        }
    )


def _consume_all(bootstrap: str, topic: str, isolation: str) -> list[bytes]:
    """Every visible value of a one-partition topic, read from the start up to its end."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"smoke-{uuid.uuid4().hex}",
            "isolation.level": isolation,
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": 20,
        }
    )
    values: list[bytes] = []
    deadline = time.monotonic() + TIMEOUT_S
    try:
        # Known leader first (else librdkafka retries the offset query after 500 ms), then a
        # plain assignment: no group rebalance to wait for.
        consumer.list_topics(topic, timeout=TIMEOUT_S)
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    return values
                raise KafkaException(err)
            value = msg.value()
            assert value is not None
            values.append(value)
    finally:
        consumer.close()
    pytest.fail(f"no end of partition on {topic} within {TIMEOUT_S}s ({len(values)} read)")


def test_read_committed_hides_aborted_avro_records(
    kafka_bootstrap: str, registry_url: str, topic_factory: Callable[..., str]
) -> None:
    """A read_committed consumer sees exactly the committed transaction; aborted records exist."""
    topic = topic_factory()
    registry = SchemaRegistryClient({"url": registry_url})
    serialize = AvroSerializer(registry, SCHEMA)
    ctx = SerializationContext(topic, MessageField.VALUE)
    # Serialize (and so register the schema) before any transaction begins, as the runtime does.
    committed = [serialize({"seq": i, "state": "committed"}, ctx) for i in range(10)]
    aborted = [serialize({"seq": 100 + i, "state": "aborted"}, ctx) for i in range(10)]
    # Confluent wire format: magic byte 0, then the id registered for the subject "<topic>-value".
    schema_id = registry.get_latest_version(f"{topic}-value").schema_id
    assert schema_id is not None
    assert committed[0][:5] == b"\x00" + schema_id.to_bytes(4, "big")

    producer = _producer(kafka_bootstrap, f"smoke-{uuid.uuid4().hex}")
    producer.init_transactions(TIMEOUT_S)
    producer.begin_transaction()
    for value in committed:
        producer.produce(topic, value=value, key=b"user-1")
    producer.commit_transaction(TIMEOUT_S)
    producer.begin_transaction()
    for value in aborted:
        producer.produce(topic, value=value, key=b"user-1")
    producer.flush(TIMEOUT_S)  # the aborted records really reach the log before the abort
    producer.abort_transaction(TIMEOUT_S)

    # A fresh client: the deserializer resolves the wire-format id through /schemas/ids/{id}.
    deserialize = AvroDeserializer(SchemaRegistryClient({"url": registry_url}))

    def decode(values: list[bytes]) -> list[dict[str, Any]]:
        return [deserialize(v, ctx) for v in values]

    read_committed = decode(_consume_all(kafka_bootstrap, topic, "read_committed"))
    assert read_committed == [{"seq": i, "state": "committed"} for i in range(10)]

    read_uncommitted = decode(_consume_all(kafka_bootstrap, topic, "read_uncommitted"))
    assert [r["seq"] for r in read_uncommitted] == [*range(10), *range(100, 110)]
    assert {r["state"] for r in read_uncommitted[10:]} == {"aborted"}


def test_same_transactional_id_fences_the_older_producer(
    kafka_bootstrap: str, topic_factory: Callable[..., str]
) -> None:
    """A second producer with the same transactional.id fences the first, whose commit fails."""
    topic = topic_factory()
    transactional_id = f"smoke-fence-{uuid.uuid4().hex}"
    zombie = _producer(kafka_bootstrap, transactional_id)
    zombie.init_transactions(TIMEOUT_S)
    zombie.begin_transaction()
    zombie.produce(topic, value=b"from-zombie")
    zombie.flush(TIMEOUT_S)

    successor = _producer(kafka_bootstrap, transactional_id)
    successor.init_transactions(TIMEOUT_S)  # bumps the epoch and aborts the zombie's transaction

    with pytest.raises(KafkaException) as excinfo:
        zombie.commit_transaction(TIMEOUT_S)
    error = excinfo.value.args[0]
    assert error.code() == KafkaError._FENCED
    assert error.fatal()

    successor.begin_transaction()
    successor.produce(topic, value=b"from-successor")
    successor.commit_transaction(TIMEOUT_S)
    assert _consume_all(kafka_bootstrap, topic, "read_committed") == [b"from-successor"]
