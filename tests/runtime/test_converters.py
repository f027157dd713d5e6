"""Connect's converter vocabulary maps onto our formats; keys that do not apply get one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.errors import UserError
from connector.runtime.config import parse_connector
from connector.runtime.converters import CONVERTERS, Formats, parse_formats
from connector.runtime.worker_config import worker_config_from
from connector.serde.formats import Format
from connector.serde.keys import KeyFormat
from tests.helpers import ROOT, banking_model

# kafka-connect-datagen's config/connector_pageviews.config, verbatim (Apache License 2.0).
DATAGEN_PAGEVIEWS = """{
  "name": "datagen-pageviews",
  "config": {
    "connector.class": "io.confluent.kafka.connect.datagen.DatagenConnector",
    "kafka.topic": "pageviews",
    "quickstart": "pageviews",
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "producer.interceptor.classes": "io.confluent.monitoring.clients.interceptor.MonitoringProducerInterceptor",
    "max.interval": 100,
    "iterations": 10000000,
    "tasks.max": "1"
  }
}
"""  # noqa: E501


def _problems(data: dict[str, Any]) -> dict[str | None, str]:
    with pytest.raises(UserError) as info:
        parse_connector(data, "c.json", ROOT)
    return {p.path: p.message for p in info.value.problems}


def test_datagen_quickstart_gets_one_line_per_key() -> None:
    """A datagen quickstart config, verbatim: one line per key that does not fit, saying what to
    use instead, and no list of every known key; its converters are accepted."""
    problems = _problems(json.loads(DATAGEN_PAGEVIEWS))
    assert set(problems) == {"config.connector.class", "config.kafka.topic", "config.quickstart",
                             "config.producer.interceptor.classes", "config.max.interval",
                             "config.iterations", "config.model"}
    assert "io.dogeconnect.DogeSourceConnector" in problems["config.connector.class"]
    assert "topic.prefix" in problems["config.kafka.topic"]
    assert "ticks" in problems["config.iterations"]
    assert "tick.ms" in problems["config.max.interval"]
    assert all("known keys" not in m for m in problems.values())
    assert all("\n" not in m for m in problems.values())


def test_datagen_quickstart_runs_with_what_the_lines_say(tmp_path: Path) -> None:
    """The same config with the keys the lines name runs, and keeps its converters' formats."""
    data = json.loads(DATAGEN_PAGEVIEWS)
    config = data["config"]
    for key in ("kafka.topic", "quickstart", "producer.interceptor.classes", "max.interval",
                "iterations"):
        del config[key]
    config.update({"connector.class": "io.dogeconnect.DogeSourceConnector",
                   "model": banking_model(), "ticks": "10", "topic.prefix": "pageviews-"})
    config["topic.loan.value.schema"] = "loan.proto"
    parsed = parse_connector(data, "c.json", ROOT)
    assert parsed.formats.schema_files == {"loan": "loan.proto"}
    assert parsed.formats.value is Format.JSON
    assert parsed.formats.envelope()  # JsonConverter's default: schemas.enable=true
    assert parsed.formats.key is KeyFormat.STRING


@pytest.mark.parametrize(("key", "word"), [
    ("transforms", "transforms"), ("transforms.Route.type", "transforms"),
    ("predicates", "condition"), ("errors.tolerance", "error handling"),
    ("errors.deadletterqueue.topic.name", "error handling"), ("header.converter", "headers")])
def test_inapplicable_connect_keys(key: str, word: str) -> None:
    """SMTs, predicates, errors.* and header.converter each get one line saying they do not
    apply."""
    data = {"name": "c", "config": {"model": banking_model(), key: "x"}}
    message = _problems(data)[f"config.{key}"]
    assert message.startswith(f"'{key}' does not apply") and word in message


@pytest.mark.parametrize(("cls", "fmt"), sorted(CONVERTERS.items()))
def test_every_converter_class_maps_onto_a_format(cls: str, fmt: Format) -> None:
    """Each Confluent and Apache converter class names one of our formats, for keys and values."""
    formats = parse_formats({"key.converter": cls}, _fail)
    assert formats.key is not None and formats.key.format is fmt
    if fmt in (Format.STRING, Format.BYTES):
        problems: list[str] = []
        parse_formats({"value.converter": cls}, lambda k, m: problems.append(m))
        assert problems and "JsonConverter" in problems[0]
    else:
        assert parse_formats({"value.converter": cls}, _fail).value is fmt


def test_converter_sub_keys() -> None:
    """schemas.enable, the registry URL and credentials, and the subject strategy are read; a
    sub-key that does not apply gets its own line."""
    formats = parse_formats({
        "value.converter": "io.confluent.connect.avro.AvroConverter",
        "value.converter.schema.registry.url": "http://r:8081",
        "value.converter.basic.auth.credentials.source": "USER_INFO",
        "value.converter.basic.auth.user.info": "u:secret",
        "value.converter.value.subject.name.strategy":
            "io.confluent.kafka.serializers.subject.RecordNameStrategy",
        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "key.converter.schemas.enable": "false",
        "topic.loan.value.format": "protobuf", "topic.loan.value.schema": "loan.proto"}, _fail)
    assert formats.value is Format.AVRO and formats.strategy == "RecordNameStrategy"
    assert formats.registry["url"] == "http://r:8081"
    assert "secret" not in repr(formats)
    assert formats.key is KeyFormat.JSON and not formats.envelope(key=True)
    assert formats.value_format("loan", True) is Format.PROTOBUF
    assert formats.value_format("balance", True) is Format.AVRO
    assert formats.schema_files == {"loan": "loan.proto"}
    problems: list[tuple[str, str]] = []
    parse_formats({"value.converter.enhanced.avro.schema.support": "true"},
                  lambda k, m: problems.append((k, m)))
    assert [k for k, _ in problems] == ["value.converter.enhanced.avro.schema.support"]


def test_defaults_follow_the_registry() -> None:
    """Without any format setting, values are avro with a registry and json without one."""
    assert Formats().value_format("t", True) is Format.AVRO
    assert Formats().value_format("t", False) is Format.JSON
    assert Formats().key_format("t") is KeyFormat.STRING


def test_worker_converters_are_defaults_the_connector_overrides() -> None:
    """A worker's converters apply to every connector; a connector's own settings win."""
    worker = worker_config_from({
        "bootstrap.servers": "b:9092",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "io.confluent.connect.json.JsonSchemaConverter",
        "value.converter.schema.registry.url": "http://r:8081"}, "w.properties")
    assert worker.formats().value is Format.JSON_SCHEMA
    assert worker.registry()["url"] == "http://r:8081"
    own = parse_formats({"value.format": "protobuf"}, _fail).over(worker.formats())
    assert own.value is Format.PROTOBUF and own.key is KeyFormat.STRING


def test_worker_accepts_inapplicable_keys_with_one_warning_each() -> None:
    """A Connect worker.properties starts as it is: header.converter and plugin.path each get
    one warning line (logged at start-up), not an error."""
    worker = worker_config_from({"bootstrap.servers": "b:9092", "header.converter": "x",
                                 "plugin.path": "/usr/share/java"}, "w.properties")
    assert [(p.path, p.severity) for p in worker.warnings] == [
        ("header.converter", "warning"), ("plugin.path", "warning")]


def test_topic_format_for_an_unknown_topic() -> None:
    """A per-topic format naming a topic the model does not write is reported with the topics."""
    formats = parse_formats({"topic.nope.value.format": "json"}, _fail)
    problems: list[str] = []
    formats.check_topics(["loan", "balance"], lambda k, m: problems.append(m))
    assert problems == ["the model writes no topic 'nope'; its topics: balance, loan"]


def _fail(key: str, message: str) -> None:
    raise AssertionError(f"{key}: {message}")
