"""Connector configs in Kafka Connect's format: `{"name": ..., "config": {...}}`, string values.

Unknown keys are errors (a typo must not silently change a run); numbers are accepted as well as
strings. The model is a path (relative to the config file) or an inline object.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import attrs

from connector.destinations.postgres.settings import POSTGRES_KEYS
from connector.errors import Problem, UserError
from connector.model.source import Document, load_file, parse_text
from connector.runtime.converters import (
    DATAGEN,
    Formats,
    inapplicable,
    is_format_key,
    parse_formats,
)

CONNECTOR_CLASSES = ("io.dogeconnect.DogeSourceConnector", "DogeSourceConnector", "DogeSource")
SUBJECT_STRATEGIES = {
    "TopicNameStrategy": "TopicNameStrategy",
    "RecordNameStrategy": "RecordNameStrategy",
    "TopicRecordNameStrategy": "TopicRecordNameStrategy",
}
BOUNDARIES = ("tick", "ticks", "interval")
# Like Kafka Connect (KIP-158): any other topic config of created topics, e.g. retention.ms.
TOPIC_CONFIG_PREFIX = "topic.creation.default."


@attrs.frozen
class ConfigKey:
    name: str
    default: str | None
    doc: str


KEYS: tuple[ConfigKey, ...] = (
    ConfigKey("connector.class", CONNECTOR_CLASSES[0], "Must name the doge source connector."),
    ConfigKey("tasks.max", "1", "How many tasks (processes) share the shards."),
    ConfigKey("model", None, "Path of the model file (relative to this config) or an inline "
              "model."),
    ConfigKey("users", None, "Initial population; default: the model's population.users, "
              "else 1000."),
    ConfigKey("shards", "8", "Fixed slices of the population, each with its own random streams and "
              "offset; part of the output's identity (changing it changes the output)."),
    ConfigKey("seed", "1", "Seed of every random stream."),
    ConfigKey("tick.ms", "60000", "Simulated time per tick, in milliseconds."),
    ConfigKey("start.time", "now", "Simulated time of tick 0: ISO-8601, epoch millis, or now "
              "(resolved once at the first start and kept in the offsets)."),
    ConfigKey("ticks", None, "How many ticks to simulate; absent: run forever."),
    ConfigKey("pace", None, "max (as fast as possible), realtime, or a speed-up factor such as 60; "
              "default: max when ticks is set, realtime otherwise."),
    ConfigKey("transaction.boundary", "tick", "tick: one transaction per tick; ticks: every "
              "transaction.boundary.ticks ticks; interval: every "
              "transaction.boundary.interval.ms."),
    ConfigKey("transaction.boundary.ticks", "1", "Ticks per transaction with boundary=ticks."),
    ConfigKey("transaction.boundary.interval.ms", "1000", "Wall time per transaction with "
              "boundary=interval (always cut on a tick boundary)."),
    ConfigKey("snapshot.interval.ticks", "100", "Ticks between state snapshots of each shard."),
    ConfigKey("topic.prefix", "", "Prefix of every Kafka topic name the model writes."),
    ConfigKey("topic.creation.default.partitions", "6", "Partitions of topics created if absent."),
    ConfigKey("topic.creation.default.replication.factor", "-1", "Replication factor of created "
              "topics (-1: the broker default)."),
    ConfigKey("value.format", None, "avro, json, json-schema or protobuf (default: avro with "
              "a schema registry, json without); or Connect's value.converter. A topic's own: "
              "topic.<topic>.value.format."),
    ConfigKey("key.format", "string", "string or json: the user id as UTF-8 digits; bytes: an "
              "8-byte big-endian long; avro-long or avro-string (avro = avro-long), json-schema, "
              "protobuf: a key registered in the Schema Registry; or Connect's key.converter."),
    ConfigKey("value.subject.name.strategy", "TopicNameStrategy", "TopicNameStrategy, "
              "RecordNameStrategy or TopicRecordNameStrategy (Confluent class names accepted)."),
    *(ConfigKey(name, default, doc) for name, default, doc in POSTGRES_KEYS),
)
KNOWN = {k.name: k for k in KEYS}


@attrs.frozen
class ConnectorConfig:
    name: str
    file: str | None
    model_document: Document
    model_dir: Path
    tasks_max: int
    users: int | None
    shards: int
    seed: int
    tick_ms: int
    start_time: str  # as configured; resolved by `resolve_start_ms`
    ticks: int | None
    pace: float | None  # None = max; 1.0 = realtime; k = k times faster than wall time
    boundary: str
    boundary_ticks: int
    boundary_interval_ms: int
    snapshot_interval_ticks: int
    topic_prefix: str
    partitions: int
    replication_factor: int
    key_format: str
    subject_strategy: str
    raw: dict[str, str]
    formats: Formats = attrs.field(factory=Formats)

    @property
    def topic_configs(self) -> dict[str, str]:
        """Topic configs for topics the connector creates (`topic.creation.default.*`)."""
        return {k.removeprefix(TOPIC_CONFIG_PREFIX): v for k, v in self.raw.items()
                if k.startswith(TOPIC_CONFIG_PREFIX) and k not in KNOWN}

    def kafka_topic(self, model_topic: str) -> str:
        return f"{self.topic_prefix}{model_topic}"


def load_connector(path: str | Path) -> ConnectorConfig:
    """Read a connector JSON file (Kafka Connect format)."""
    doc = load_file(path)
    return parse_connector(doc.data, doc.file, Path(path).resolve().parent, doc)


def parse_connector(data: Any, file: str | None, base_dir: Path,
                    doc: Document | None = None) -> ConnectorConfig:
    """Validate a connector config (from a file or a REST body) with every problem listed."""
    problems: list[Problem] = []

    def err(path: str, message: str) -> None:
        line = doc.line(path) if doc is not None else None
        problems.append(Problem(message, file=file, path=path or None, line=line))

    if not isinstance(data, dict) or "config" not in data:
        raise UserError([Problem('expected a JSON object {"name": ..., "config": {...}} '
                                 "(Kafka Connect format)", file=file)])
    for key in data:
        if key not in ("name", "config"):
            err(key, f"unknown top-level key '{key}'; expected name and config")
    name = data.get("name") or (data["config"].get("name") if isinstance(data["config"], dict)
                                else None)
    if not isinstance(name, str) or not name:
        err("name", "expected the connector's name as a non-empty string")
        name = "connector"
    config = data["config"]
    if not isinstance(config, dict):
        raise UserError([Problem("'config' must be an object of settings", file=file,
                                 path="config")])
    raw: dict[str, str] = {}
    for key, value in config.items():
        path = f"config.{key}"
        if key == "name":
            continue
        not_here = inapplicable(key)
        if not_here is not None:
            err(path, f"'{key}' does not apply: {not_here}")
            continue
        if key not in KNOWN and not key.startswith(TOPIC_CONFIG_PREFIX) and not is_format_key(key):
            err(path, f"unknown key '{key}'; known keys: {', '.join(sorted(KNOWN))}, and "
                f"{TOPIC_CONFIG_PREFIX}<topic config> (e.g. {TOPIC_CONFIG_PREFIX}retention.ms)")
            continue
        if key == "model" and (isinstance(value, dict) or _is_json_object(value)):
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            err(path, f"expected a string or number, got {type(value).__name__}")
            continue
        raw[key] = str(value)

    def get(key: str) -> str | None:
        return raw.get(key, KNOWN[key].default)

    def integer(key: str, minimum: int) -> int:
        text = get(key)
        try:
            value = int(str(text))
        except ValueError:
            err(f"config.{key}", f"expected a whole number, got {text!r}")
            return minimum
        if value < minimum:
            err(f"config.{key}", f"expected a whole number >= {minimum}, got {value}")
            return minimum
        return value

    if get("connector.class") == DATAGEN:
        err("config.connector.class", f"{DATAGEN} is kafka-connect-datagen; use "
            f"{CONNECTOR_CLASSES[0]} with a model (its quickstarts are models here)")
    elif get("connector.class") not in CONNECTOR_CLASSES:
        err("config.connector.class", f"expected one of {', '.join(CONNECTOR_CLASSES)}, "
            f"got {get('connector.class')!r}")
    model_doc, model_dir = _model(config.get("model"), file, base_dir, err)
    ticks = integer("ticks", 0) if get("ticks") is not None else None
    pace = _pace(raw.get("pace"), ticks, err)
    boundary = str(get("transaction.boundary"))
    if boundary not in BOUNDARIES:
        err("config.transaction.boundary", f"expected one of {', '.join(BOUNDARIES)}, "
            f"got {boundary!r}")
    strategy = str(get("value.subject.name.strategy")).rsplit(".", 1)[-1]
    if strategy not in SUBJECT_STRATEGIES:
        err("config.value.subject.name.strategy",
            f"expected one of {', '.join(SUBJECT_STRATEGIES)}, got {strategy!r}")
    formats = parse_formats(raw, lambda key, message: err(f"config.{key}", message))
    key_format = formats.key.value if formats.key is not None else "string"
    start = str(get("start.time"))
    if start != "now":
        try:
            parse_start_time(start)
        except ValueError as exc:
            err("config.start.time", str(exc))
    cfg = ConnectorConfig(
        name=name, file=file, model_document=model_doc, model_dir=model_dir,
        tasks_max=integer("tasks.max", 1),
        users=integer("users", 0) if get("users") is not None else None,
        shards=integer("shards", 1), seed=integer("seed", 0), tick_ms=integer("tick.ms", 1),
        start_time=start, ticks=ticks, pace=pace, boundary=boundary,
        boundary_ticks=integer("transaction.boundary.ticks", 1),
        boundary_interval_ms=integer("transaction.boundary.interval.ms", 1),
        snapshot_interval_ticks=integer("snapshot.interval.ticks", 1),
        topic_prefix=str(get("topic.prefix")),
        partitions=integer("topic.creation.default.partitions", 1),
        replication_factor=integer("topic.creation.default.replication.factor", -1),
        key_format=key_format, subject_strategy=strategy, raw=raw, formats=formats,
    )
    if problems:
        raise UserError(problems)
    return cfg


def _is_json_object(value: Any) -> bool:
    return isinstance(value, str) and value.lstrip().startswith("{")


def _model(value: Any, file: str | None, base_dir: Path, err: Any) -> tuple[Document, Path]:
    if _is_json_object(value):
        # Connect configs hold strings only: an inline model may arrive as JSON text.
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            err("config.model", f"inline model is not valid JSON: {exc.msg} (column "
                f"{exc.colno})")
            return Document({}, file, {}), base_dir
    if value is None:
        err("config.model", "missing 'model': a path to a model file or an inline model object")
        return Document({}, file, {}), base_dir
    if isinstance(value, dict):
        # Inline: re-parse its JSON text so model errors still carry line numbers of their own.
        return parse_text(json.dumps(value, indent=1), f"{file or 'connector'}#config.model"), \
            base_dir
    path = base_dir / str(value)
    if not path.is_file():
        err("config.model", f"model file {path} not found")
        return Document({}, file, {}), base_dir
    return load_file(path), path.resolve().parent


def _pace(text: str | None, ticks: int | None, err: Any) -> float | None:
    if text is None:
        return None if ticks is not None else 1.0
    if text == "max":
        return None
    if text == "realtime":
        return 1.0
    try:
        factor = float(text)
    except ValueError:
        factor = -1.0
    if factor <= 0:
        err("config.pace", f"expected max, realtime or a positive speed-up factor, got {text!r}")
        return None
    return factor


def parse_start_time(text: str) -> int:
    """Epoch milliseconds of an ISO-8601 time (UTC when no offset is given) or of epoch millis."""
    if text.strip().isdigit():
        return int(text)
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"expected an ISO-8601 time such as 2026-01-01T00:00:00Z, epoch "
                         f"milliseconds, or now; got {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


def resolve_start_ms(config: ConnectorConfig, stored: int | None = None) -> int:
    """Tick 0's time: the stored one on resume, else the configured one, else now (whole tick)."""
    if stored is not None:
        return stored
    if config.start_time != "now":
        return parse_start_time(config.start_time)
    now = int(time.time() * 1000)
    return now - now % config.tick_ms
