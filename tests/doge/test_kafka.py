"""DOGE's Kafka sinks against the real broker and registry: the seed script's records, exactly
once, readable with read_committed and confluent_kafka's AvroDeserializer."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext, StringSerializer

from bench.doge_seed import (
    balance_value,
    clickstream_value,
    collecting_sinks,
    key_function,
    loan_value,
    trx_value,
)
from connector.doge import KafkaAvroSinkFactory, KafkaSinkFactory
from connector.serde.partitioner import partitions
from tests.doge.support import KEY_SCHEMA, run_seed, value_schema
from tests.runtime.reading import read_all

pytestmark = pytest.mark.integration


def test_seed_script_with_kafka_avro_sinks(kafka_bootstrap: str, registry_url: str,
                                           topic_factory: Callable[..., str]) -> None:
    """Kafka Avro sinks commit exactly the in-memory run's records, keyed, partitioned like Java."""
    topics = {name: topic_factory(3) for name in ("clickstream", "trx", "balance", "loan")}
    factory = KafkaAvroSinkFactory([kafka_bootstrap], registry_url, f"seed-{uuid.uuid4().hex}")
    values = {"clickstream": clickstream_value, "trx": trx_value, "balance": balance_value,
              "loan": loan_value}
    sinks = {name: factory.create(topics[name], key_function, KEY_SCHEMA, values[name],
                                  value_schema(name))
             for name in topics}
    run_seed(sinks, users=3000, ticks=240, seed=17)
    expected = collecting_sinks()
    run_seed(expected, users=3000, ticks=240, seed=17)

    registry = SchemaRegistryClient({"url": registry_url})
    decode_value, decode_key = AvroDeserializer(registry), AvroDeserializer(registry)
    for name, topic in topics.items():
        records = read_all(kafka_bootstrap, [topic])
        decoded = []
        for r in records:
            value = decode_value(r.value, SerializationContext(topic, MessageField.VALUE))
            value["timestamp"] = int(value["timestamp"].timestamp() * 1000)  # timestamp-millis
            key = decode_key(r.key, SerializationContext(topic, MessageField.KEY))
            assert key == {"key": value["user_id"]}
            assert r.timestamp == value["timestamp"]
            assert r.partition == int(partitions([r.key], 3)[0])
            decoded.append(tuple(sorted(value.items())))
        rows = [tuple(sorted(row.items())) for row in expected[name].rows]
        assert rows and Counter(decoded) == Counter(rows), name


def test_string_sinks_and_a_rerun(kafka_bootstrap: str, topic_factory: Callable[..., str]
                                  ) -> None:
    """String sinks write what the functions return; a rerun of the script appends a new run."""
    topic = topic_factory(2)
    client = f"strings-{uuid.uuid4().hex}"
    counts = []
    for _ in range(2):
        factory = KafkaSinkFactory([kafka_bootstrap], client)
        sink = factory.create(topic, lambda s, t: str(s.user_id),
                              lambda ts, s, t: f"{s.user_id}:{t.trigger}:{ts}",
                              StringSerializer(), StringSerializer())
        expected = collecting_sinks()
        run_seed({**expected, "clickstream": sink}, users=500, ticks=120, seed=17)
        records = read_all(kafka_bootstrap, [topic])
        counts.append(len(records))
        for r in records:
            user, trigger, ts = r.value.decode().split(":")
            assert r.key.decode() == user and int(ts) == r.timestamp
            assert trigger in {"login", "open_loan_screen ", "close_loan_screen", "take_loan"}
    assert counts[0] > 0 and counts[1] == 2 * counts[0]  # the same seeds: the same records
