"""Every Kafka format end to end: confluent-kafka's own deserializers read what the worker wrote,
and kill -9 mid-run still leaves exactly the uninterrupted run's records."""

from __future__ import annotations

import json
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from connector.runtime.config import parse_connector
from connector.runtime.simulation import prepare
from connector.serde.formats import Format
from tests.runtime.harness import KafkaRun, assert_exact, reference, value_format
from tests.runtime.reading import partition_counts, read_all
from tests.serde.protoc import compiled, message_class

pytestmark = pytest.mark.integration

START = 1_704_067_200_000
# Each format as a Connect user spells it (converter class names) or as ours (value.format).
CONFIGS: dict[str, dict[str, str]] = {
    "json-schema": {"value.converter": "io.confluent.connect.json.JsonSchemaConverter",
                    "key.converter": "org.apache.kafka.connect.storage.StringConverter"},
    "protobuf": {"value.converter": "io.confluent.connect.protobuf.ProtobufConverter"},
    "json": {"value.converter": "org.apache.kafka.connect.json.JsonConverter",
             "value.converter.schemas.enable": "false"},
    "json-envelope": {"value.converter": "org.apache.kafka.connect.json.JsonConverter",
                      "value.converter.schemas.enable": "true"},
    "avro": {"value.format": "avro"},
}


def _connector(run: KafkaRun, name: str, **extra: Any) -> dict[str, Any]:
    settings = {k.replace(".", "_"): v for k, v in CONFIGS[name].items()}
    return run.connector(**{**settings, **extra})


def _decoder(name: str, connector: dict[str, Any], registry: str) -> Any:
    """value bytes -> a dict of the record's fields, through the reference deserializer."""
    client = SchemaRegistryClient({"url": registry})
    if name == "avro":
        return AvroDeserializer(client)
    if name == "json-schema":
        return JSONDeserializer(None, schema_registry_client=client)
    if name == "json":
        return lambda data, ctx: json.loads(data)
    if name == "json-envelope":
        return lambda data, ctx: json.loads(data)["payload"]
    sim = prepare(parse_connector(connector, None, Path.cwd()))
    by_topic = {sim.config.kafka_topic(t): ProtobufDeserializer(
        message_class(s), {"use.deprecated.format": False}) for t, s in sim.model.schemas.items()}

    def protobuf(data: bytes, ctx: SerializationContext) -> dict[str, Any]:
        message = by_topic[ctx.topic](data, ctx)
        return {f.name: getattr(message, f.name) for f in message.DESCRIPTOR.fields}
    return protobuf


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_round_trip_through_reference_deserializers(kafka_run: KafkaRun, name: str) -> None:
    """Each format's records decode with confluent-kafka's deserializer (or a JSON parser) into
    the engine's values, and equal the reference run record for record."""
    connector = _connector(kafka_run, name, ticks=60, users=2000, tasks_max=2)
    assert kafka_run.run_worker(connector) == 0, kafka_run.logs()
    topics = kafka_run.topics(connector)
    records = read_all(kafka_run.bootstrap, topics)
    assert len(records) > 300
    decode = _decoder(name, connector, kafka_run.registry)
    for r in records:
        value = decode(r.value, SerializationContext(r.topic, MessageField.VALUE))
        assert value["user_id"] == r.key.decode()
        stamp = value["timestamp"]
        assert (int(stamp.timestamp() * 1000) if name == "avro" else stamp) == r.timestamp
        if r.topic.endswith("loan"):
            assert value["loan"] == 10_000
    if name == "json-envelope":
        schema = json.loads(records[0].value)["schema"]
        assert schema["type"] == "struct" and schema["fields"][0]["field"] == "user_id"
    counts = partition_counts(kafka_run.bootstrap, topics)
    assert_exact(records, reference(connector, kafka_run.tmp, counts), value_format(connector))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["json", "json-schema", "protobuf"])
def test_kill_9_exactly_once_per_format(kafka_run: KafkaRun, name: str) -> None:
    """kill -9 of the worker at random moments, then a resume: each format's records are
    byte-identical to an uninterrupted run's, none lost or duplicated."""
    connector = _connector(kafka_run, name, ticks=600, users=2000, pace=3000,
                           snapshot_interval_ticks=100)
    kafka_run.create_topics(connector)
    rng = random.Random(f"formats-{name}")
    for _ in range(4):
        proc = kafka_run.start_worker(connector)
        time.sleep(rng.uniform(2.0, 6.0))
        assert proc.poll() is None, kafka_run.logs()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    final = kafka_run.start_worker(connector)
    assert final.wait(240) == 0, kafka_run.logs()
    topics = kafka_run.topics(connector)
    counts = partition_counts(kafka_run.bootstrap, topics)
    assert_exact(read_all(kafka_run.bootstrap, topics),
                 reference(connector, kafka_run.tmp, counts), value_format(connector))


def test_json_needs_no_registry(kafka_run: KafkaRun) -> None:
    """Without schema.registry.url values default to plain JSON and the run needs no registry."""
    connector = kafka_run.connector(ticks=20, users=500, tasks_max=1)
    worker = kafka_run.worker_file()
    worker.write_text("".join(line + "\n" for line in worker.read_text().splitlines()
                              if not line.startswith("schema.registry.url")))
    assert value_format(connector, "") is Format.AVRO  # the harness's default has a registry
    proc = kafka_run.start_worker(connector, worker=worker)
    assert proc.wait(120) == 0, kafka_run.logs()
    records = read_all(kafka_run.bootstrap, kafka_run.topics(connector))
    assert records and all(json.loads(r.value)["user_id"] == r.key.decode() for r in records)


GIVEN_LOAN = """syntax = "proto3";
package team.loans;

// A team's own message for the loan topic: other numbers, one more field.
message LoanTaken {
  int64 timestamp = 1;
  string user_id = 4;
  int64 loan = 7;
  string branch = 9;
}
"""


def test_given_proto_through_the_registry(kafka_run: KafkaRun) -> None:
    """A .proto given for one topic is registered as written and its records decode with the
    class protoc generates from it; the other topics keep the derived .proto."""
    (kafka_run.tmp / "loan.proto").write_text(GIVEN_LOAN)
    connector = kafka_run.connector(ticks=60, users=2000, tasks_max=1, value_format="protobuf")
    connector["config"]["topic.loan.value.schema"] = "loan.proto"
    assert kafka_run.run_worker(connector) == 0, kafka_run.logs()
    client = SchemaRegistryClient({"url": kafka_run.registry})
    loan_topic = f"{kafka_run.prefix}loan"
    registered = client.get_latest_version(f"{loan_topic}-value").schema.schema_str
    assert (registered or "").strip() == GIVEN_LOAN.strip()
    cls = compiled(GIVEN_LOAN, "LoanTaken", "team_loan")
    decode = ProtobufDeserializer(cls, {"use.deprecated.format": False})
    records = read_all(kafka_run.bootstrap, [loan_topic])
    assert records
    for r in records:
        message = decode(r.value, SerializationContext(r.topic, MessageField.VALUE))
        assert message.user_id == r.key.decode() and message.loan == 10_000
        assert message.timestamp == r.timestamp and message.branch == ""
