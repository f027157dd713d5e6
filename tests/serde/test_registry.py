"""Schema registration: subject names, retries, clear refusals, records readable back."""

from __future__ import annotations

import base64
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from connector.errors import UserError
from connector.model.avro import LoadedSchema, schema_from_dict
from connector.serde.encoder import RecordEncoder
from connector.serde.keys import KeyFormat, KeySerializer
from connector.serde.registry import (
    RegistryError,
    RegistryUnavailableError,
    RetryNotice,
    RetryPolicy,
    SchemaIncompatibleError,
    SchemaRegistry,
    TopicSchemas,
    register_all,
    registry_conf,
)
from connector.serde.subjects import SubjectNameStrategy, parse_strategy, subject_name

NO_WAIT = RetryPolicy(attempts=3, initial_backoff_s=0.0)


def unique_schema(fields: list[dict[str, Any]] | None = None) -> LoadedSchema:
    """A record in a namespace of its own, so runs never collide in the shared registry."""
    namespace = f"test.serde.r{uuid.uuid4().hex[:10]}"
    data = {
        "type": "record",
        "name": "Balance",
        "namespace": namespace,
        "fields": fields
        or [
            {"name": "user_id", "type": "string"},
            {"name": "balance", "type": "long"},
            {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        ],
    }
    return schema_from_dict(data, "schemas/balance.avsc")


def unique_topic() -> str:
    return f"serde-{uuid.uuid4().hex[:10]}"


# --- naming and config ------------------------------------------------------------------------


def test_subject_names_per_strategy() -> None:
    """Subjects follow Confluent's three strategies for values and keys."""
    name = "io.dogeconnect.banking.Balance"
    assert subject_name(SubjectNameStrategy.TOPIC, "balance", name) == "balance-value"
    assert subject_name(SubjectNameStrategy.TOPIC, "balance", "long", key=True) == "balance-key"
    assert subject_name(SubjectNameStrategy.RECORD, "balance", name) == name
    assert subject_name(SubjectNameStrategy.TOPIC_RECORD, "balance", name) == f"balance-{name}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TopicNameStrategy", SubjectNameStrategy.TOPIC),
        ("io.confluent.kafka.serializers.subject.RecordNameStrategy", SubjectNameStrategy.RECORD),
        ("topic_record", SubjectNameStrategy.TOPIC_RECORD),
        ("record", SubjectNameStrategy.RECORD),
    ],
)
def test_parse_strategy(text: str, expected: SubjectNameStrategy) -> None:
    """Strategies are accepted by short name, class name or Java class name."""
    assert parse_strategy(text) is expected


def test_parse_strategy_unknown_lists_choices() -> None:
    """A misspelt strategy is a user error listing the valid ones."""
    with pytest.raises(UserError, match="TopicNameStrategy, RecordNameStrategy"):
        parse_strategy("TopicNameStrat")


def test_registry_conf_from_worker_properties() -> None:
    """Worker properties map onto the client config; basic auth passes through untouched."""
    conf = registry_conf(
        {
            "bootstrap.servers": "k:9092",
            "schema.registry.url": "http://r:8081",
            "schema.registry.basic.auth.user.info": "u:p",
            "schema.registry.basic.auth.credentials.source": "USER_INFO",
        }
    )
    assert conf == {"url": "http://r:8081", "basic.auth.user.info": "u:p"}
    with pytest.raises(UserError, match=r"schema\.registry\.url is not set"):
        registry_conf({"bootstrap.servers": "k:9092"})


# --- behaviour against a scripted HTTP endpoint (no registry needed) ---------------------------


class Scripted:
    """A tiny HTTP server answering registrations from a script of (status, body) replies."""

    def __init__(self, replies: list[tuple[int, dict[str, Any]]]) -> None:
        self.replies = replies
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((self.path, dict(self.headers), body))
                status, reply = outer.replies.pop(0) if outer.replies else (500, {})
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted() -> Iterator[type[Scripted]]:
    servers: list[Scripted] = []

    class Tracked(Scripted):
        def __init__(self, replies: list[tuple[int, dict[str, Any]]]) -> None:
            super().__init__(replies)
            servers.append(self)

    yield Tracked
    for s in servers:
        s.close()


def test_retries_server_errors_then_succeeds(scripted: type[Scripted]) -> None:
    """A 503 is retried with backoff, each retry reported, and the eventual id returned."""
    server = scripted([(503, {"error_code": 50301, "message": "busy"}), (200, {"id": 42})])
    notices: list[RetryNotice] = []
    registry = SchemaRegistry({"url": server.url}, retry=NO_WAIT, on_retry=notices.append)
    assert registry.register("t-value", '"long"') == 42
    assert [(n.subject, n.attempt, n.attempts) for n in notices] == [("t-value", 1, 3)]
    assert "503" in notices[0].error and "busy" in notices[0].error
    registry.close()


def test_incompatible_schema_is_a_user_error_with_registry_message(
    scripted: type[Scripted],
) -> None:
    """A 409 becomes SchemaIncompatibleError carrying the registry's own words and the file."""
    server = scripted([(409, {"error_code": 409, "message": "Schema being registered is bad"})])
    with (
        SchemaRegistry({"url": server.url}, retry=NO_WAIT) as registry,
        pytest.raises(SchemaIncompatibleError) as e,
    ):
        registry.register("t-value", '"long"', schema_file="schemas/t.avsc")
    assert isinstance(e.value, UserError) and e.value.subject == "t-value"
    assert e.value.registry_message == "Schema being registered is bad"
    assert "schemas/t.avsc" in str(e.value) and "subject t-value" in str(e.value)


def test_auth_refusal_is_not_retried(scripted: type[Scripted]) -> None:
    """A 401 fails at once with a hint about basic.auth.user.info, which is sent as Basic auth."""
    server = scripted([(401, {"error_code": 401, "message": "Unauthorized"})])
    conf = {"url": server.url, "basic.auth.user.info": "alice:s3cret"}
    with SchemaRegistry(conf, retry=NO_WAIT) as registry, pytest.raises(RegistryError) as e:
        registry.register("t-value", '"long"')
    assert e.value.status == 401 and "basic.auth.user.info" in str(e.value)
    assert len(server.requests) == 1
    auth = server.requests[0][1]["Authorization"]
    assert auth == "Basic " + base64.b64encode(b"alice:s3cret").decode()


def test_unreachable_registry_fails_after_retries() -> None:
    """A registry nobody listens on is retried, then reported as a user error naming the URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    notices: list[RetryNotice] = []
    with pytest.raises(RegistryUnavailableError, match=rf"{url} failed 3 times"):
        register_all(
            {"url": url},
            [TopicSchemas("t", unique_schema())],
            retry=NO_WAIT,
            on_retry=notices.append,
        )
    assert [n.attempt for n in notices] == [1, 2]


def test_errors_never_show_url_credentials() -> None:
    """A password embedded in the registry URL does not appear in error messages."""
    registry = SchemaRegistry({"url": "http://bob:hunter2@127.0.0.1:1"}, retry=RetryPolicy(1))
    with pytest.raises(RegistryUnavailableError) as e:
        registry.register("t-value", '"long"')
    assert "hunter2" not in str(e.value) and "http://***@127.0.0.1:1" in str(e.value)


def test_retry_backoff_grows_and_caps() -> None:
    """Backoff doubles per attempt up to its cap."""
    policy = RetryPolicy(attempts=10, initial_backoff_s=0.5, max_backoff_s=3.0)
    assert [policy.backoff(a) for a in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_bad_client_config_is_a_user_error() -> None:
    """A registry URL without a scheme is reported as configuration, not a traceback."""
    with pytest.raises(UserError, match="bad schema registry configuration"):
        SchemaRegistry({"url": "registry:8081"})


# --- against the real registry -------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize(
    "strategy",
    [SubjectNameStrategy.TOPIC, SubjectNameStrategy.RECORD, SubjectNameStrategy.TOPIC_RECORD],
)
def test_register_all_under_each_strategy(registry_url: str, strategy: SubjectNameStrategy) -> None:
    """register_all puts value and key schemas under the strategy's subjects; returns their ids."""
    topic, schema = unique_topic(), unique_schema()
    topics = [TopicSchemas(topic, schema, key_schema='"long"')]
    ids = register_all({"url": registry_url}, topics, strategy, SubjectNameStrategy.TOPIC)
    got = ids[topic]
    expected_value = {
        SubjectNameStrategy.TOPIC: f"{topic}-value",
        SubjectNameStrategy.RECORD: schema.fullname,
        SubjectNameStrategy.TOPIC_RECORD: f"{topic}-{schema.fullname}",
    }[strategy]
    assert (got.value_subject, got.key_subject) == (expected_value, f"{topic}-key")
    client = SchemaRegistryClient({"url": registry_url})
    # By name, not in get_subjects(): the shared registry lists only its first 1000 subjects.
    assert client.get_latest_version(expected_value).schema_id == got.value_schema_id
    assert client.get_latest_version(f"{topic}-key").schema_id == got.key_schema_id
    # Registering again (a restart) finds the same ids.
    assert register_all({"url": registry_url}, topics, strategy)[topic].value_schema_id == (
        got.value_schema_id
    )


@pytest.mark.integration
def test_incompatible_evolution_is_rejected_with_registry_message(registry_url: str) -> None:
    """Under BACKWARD, adding a required field is refused with the registry's own message."""
    topic, v1 = unique_topic(), unique_schema()
    fields = json.loads(v1.schema_str)["fields"]
    v2_data = {**json.loads(v1.schema_str), "fields": [*fields, {"name": "pin", "type": "string"}]}
    v2 = schema_from_dict(v2_data, "schemas/balance_v2.avsc")
    with SchemaRegistry({"url": registry_url}) as registry:
        registry.register_all([TopicSchemas(topic, v1)])
        registry.client.set_compatibility(f"{topic}-value", "BACKWARD")
        with pytest.raises(SchemaIncompatibleError) as e:
            registry.register_all([TopicSchemas(topic, v2)])
    assert e.value.subject == f"{topic}-value"
    assert "ncompatib" in e.value.registry_message
    assert "balance_v2.avsc" in str(e.value) and e.value.registry_message in str(e.value)


@pytest.mark.integration
def test_encoded_records_decode_with_confluent_deserializer(registry_url: str) -> None:
    """Records and Avro keys we encode are read back by confluent-kafka's AvroDeserializer."""
    topic, schema = unique_topic(), unique_schema()
    ids = register_all({"url": registry_url}, [TopicSchemas(topic, schema, key_schema='"long"')])[
        topic
    ]
    user_ids = np.array([0, 7, 123456, 2**40], dtype=np.int64)
    columns = {
        "user_id": np.array([str(u) for u in user_ids.tolist()], dtype=object),
        "balance": np.array([0, -5, 10**12, -(2**63)], dtype=np.int64),
        "timestamp": np.array([1_644_549_708_000 + i for i in range(4)], dtype=np.int64),
    }
    values = RecordEncoder(schema, ids.value_schema_id).encode(columns).values()
    keys = KeySerializer(KeyFormat.AVRO_LONG, ids.key_schema_id).encode(user_ids).values()
    client = SchemaRegistryClient({"url": registry_url})
    read_value = AvroDeserializer(client, from_dict=lambda d, _ctx: d)
    read_key = AvroDeserializer(client)
    value_ctx = SerializationContext(topic, MessageField.VALUE)
    key_ctx = SerializationContext(topic, MessageField.KEY)
    for i, (key, value) in enumerate(zip(keys, values, strict=True)):
        record = read_value(value, value_ctx)
        assert record["user_id"] == columns["user_id"][i]
        assert record["balance"] == columns["balance"][i]
        assert int(record["timestamp"].timestamp() * 1000) == columns["timestamp"][i]
        assert read_key(key, key_ctx) == user_ids[i]
