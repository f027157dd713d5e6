"""Connector configs in Kafka Connect's format: `{"name": ..., "config": {...}}`, string values.

Unknown keys are errors (a typo must not silently change a run); numbers are accepted as well as
strings. The model is a path (relative to the config file) or an inline object.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import attrs

from connector.destinations.postgres.settings import POSTGRES_KEYS
from connector.errors import Problem, UserError
from connector.model import limits
from connector.model.numbers import is_whole_number, parse_whole_number, shorten
from connector.model.source import (
    Document,
    check_model_path,
    load_file,
    outside_problem,
    parse_text,
)
from connector.runtime.configdef import ConfigDef, ConfigKey, ConfigPrefix, ConfigType, Importance
from connector.runtime.converters import (
    CONVERTER_PREFIXES,
    DATAGEN,
    Formats,
    inapplicable,
    is_format_key,
    parse_formats,
)
from connector.runtime.names import name_problem
from connector.serde.keys import KeyFormat
from connector.serde.subjects import SubjectNameStrategy, parse_strategy

T = TypeVar("T")

CONNECTOR_CLASSES = ("io.dogeconnect.DogeSourceConnector", "DogeSourceConnector", "DogeSource")
# Like Kafka Connect (KIP-158): any other topic config of created topics, e.g. retention.ms.
TOPIC_CONFIG_PREFIX = "topic.creation.default."


class DestinationKind(enum.Enum):
    """Where a worker's tasks write (`doge run` takes -o / --to instead)."""

    KAFKA = "kafka"  # the worker's Kafka: transactions, topics created, schemas registered
    POSTGRESQL = "postgresql"  # one table per topic, offsets in the same database


class Boundary(enum.Enum):
    """Where transactions are cut (always on a tick boundary)."""

    TICK = "tick"  # one transaction per tick
    TICKS = "ticks"  # every transaction.boundary.ticks ticks
    # Every transaction.boundary.interval.ms of wall time, and whenever the pacer would wait
    # with ticks uncommitted (so a paced or realtime run commits each tick as it is due).
    INTERVAL = "interval"


# Kafka Connect's own spellings (KIP-618): `poll` is one transaction per poll, here one tick;
# `connector` lets the connector define the boundaries, and this one cuts every
# `transaction.boundary.ticks` ticks.
BOUNDARY_ALIASES = {"poll": Boundary.TICK, "connector": Boundary.TICKS}


STR, INT, LONG, CLASS = ConfigType.STRING, ConfigType.INT, ConfigType.LONG, ConfigType.CLASS
PASSWORD = ConfigType.PASSWORD
HIGH, LOW = Importance.HIGH, Importance.LOW
CONNECTOR_CONFIG = ConfigDef((
    ConfigKey("connector.class", CLASS, CONNECTOR_CLASSES[0],
              "Must name the doge source connector.", HIGH),
    ConfigKey("tasks.max", INT, "1", "How many tasks (processes) share the shards.", HIGH,
              minimum=1, validator=limits.check_tasks_max),
    ConfigKey("model", STR, None, "Path of the model file (relative to the config file; over REST "
              "to the worker's `models.dir`) or an inline model object.", HIGH, required=True),
    ConfigKey("users", LONG, None, "Initial population.", minimum=0,
              shown_default="the model's `population.users`, else 1000",
              validator=limits.check_users),
    ConfigKey("shards", INT, "8", "Fixed slices of the population, each with its own random "
              "streams and offset. Part of the output's identity. Choose at least the largest "
              "`tasks.max` you will ever use. Each shard a task holds adds fixed work to each "
              "of its ticks, so a task holding fewer shards sends more events/s (see "
              "Performance): for the most per task, choose the `tasks.max` you will run.",
              minimum=1, validator=limits.check_shards),
    ConfigKey("seed", LONG, "1", "Seed of every random stream.", minimum=0,
              validator=limits.check_seed),
    ConfigKey("tick.ms", LONG, "60000", "Simulated time per tick, in milliseconds.", minimum=1,
              validator=limits.check_tick_ms),
    ConfigKey("start.time", STR, "now", "Time of tick 0: ISO-8601, epoch millis, or `now` "
              "(resolved at the first start and kept in the offsets)."),
    ConfigKey("ticks", LONG, None, "How many ticks to simulate; absent: run forever.", minimum=0),
    ConfigKey("pace", STR, None, "`max` (backfill), `realtime` (a tick is committed once its "
              "event time has passed), or a speed-up factor such as `60`. Live runs report how "
              "far they lag.", shown_default="`max` if `ticks` is set, else `realtime`"),
    ConfigKey("transaction.boundary", STR, Boundary.INTERVAL.value, "`interval`: commit every "
              "`transaction.boundary.interval.ms` of wall time, and before waiting for a tick "
              "that is not due yet (a realtime run commits every tick); `tick` (= Connect's "
              "`poll`): one transaction per tick; `ticks` (= Connect's `connector`): every "
              "`transaction.boundary.ticks` ticks. Always cut on tick boundaries; the events "
              "are the same whichever is chosen."),
    ConfigKey("transaction.boundary.ticks", INT, "1", "Ticks per transaction with "
              "`transaction.boundary=ticks` (or `connector`).", LOW, minimum=1),
    ConfigKey("transaction.boundary.interval.ms", LONG, "1000", "Wall time per transaction with "
              "`transaction.boundary=interval`.", LOW, minimum=1),
    # 500: a snapshot is ~17 bytes per user, as much as ~140 ticks of the banking model's events;
    # every 100 ticks it more than doubled what a backfill writes (-10 % events/s, bench/kafka.py),
    # every 500 it adds ~30 %, and the replay it bounds stays under a second at 1e6 users.
    ConfigKey("snapshot.interval.ticks", INT, "500", "Ticks between state snapshots of a shard "
              "(bounds the replay after a restart).", LOW, minimum=1),
    ConfigKey("topic.prefix", STR, "", "Prefix of the Kafka topic names."),
    ConfigKey("topic.creation.default.partitions", INT, "6", "Partitions of topics created if "
              "absent.", minimum=1),
    ConfigKey("topic.creation.default.replication.factor", INT, "-1", "Replication of created "
              "topics (-1: broker default).", LOW, minimum=-1),
    ConfigKey("value.format", STR, None, "`avro`, `json`, `json-schema` or `protobuf`; or "
              "Connect's `value.converter`. A topic's own: `topic.<topic>.value.format`.",
              shown_default="`avro` with a schema registry, `json` without"),
    ConfigKey("key.format", STR, KeyFormat.STRING.value, "`string` or `json`: the user id as "
              "UTF-8 digits; `bytes`: an 8-byte big-endian long; `avro-long` (= `avro`), "
              "`avro-string`, `json-schema`, `protobuf`: a key registered in the Schema Registry; "
              "or Connect's `key.converter`. A topic's own: `topic.<topic>.key.format`."),
    ConfigKey("value.subject.name.strategy", CLASS, SubjectNameStrategy.TOPIC.value,
              "`TopicNameStrategy`, `RecordNameStrategy`, `TopicRecordNameStrategy` (Confluent "
              "class names accepted)."),
    ConfigKey("destination", STR, DestinationKind.KAFKA.value, "`kafka`: the worker's Kafka "
              "(topics created, schemas registered, transactions); `postgresql`: one table per "
              "topic in PostgreSQL with the offsets in the same database (`postgres.*` keys; "
              "no topic is created, no schema registered). `doge run` honours it when neither "
              "`-o` nor `--to` is given.", HIGH),
    *(ConfigKey(k.name, PASSWORD if k.secret else STR, k.default, k.doc) for k in POSTGRES_KEYS),
), (*CONVERTER_PREFIXES,
    ConfigPrefix(TOPIC_CONFIG_PREFIX, "Any other topic config of created topics, as in Kafka "
                 "Connect, e.g. `topic.creation.default.retention.ms=-1`. **Backfills** "
                 "(`start.time` in the past) need it: record timestamps are event times, and "
                 "time-based retention deletes records older than `retention.ms` at its next "
                 "check."),))


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
    boundary: Boundary
    boundary_ticks: int
    boundary_interval_ms: int
    snapshot_interval_ticks: int
    topic_prefix: str
    partitions: int
    replication_factor: int
    key_format: KeyFormat
    subject_strategy: SubjectNameStrategy
    raw: dict[str, str] = attrs.field(repr=False)  # may hold secrets (PASSWORD keys)
    formats: Formats = attrs.field(factory=Formats)
    destination: DestinationKind = DestinationKind.KAFKA
    base_dir: Path = Path()  # where relative paths (model, given schemas) resolve

    @property
    def topic_configs(self) -> dict[str, str]:
        """Topic configs for topics the connector creates (`topic.creation.default.*`)."""
        return {k.removeprefix(TOPIC_CONFIG_PREFIX): v for k, v in self.raw.items()
                if k.startswith(TOPIC_CONFIG_PREFIX) and k not in CONNECTOR_CONFIG}

    def kafka_topic(self, model_topic: str) -> str:
        return f"{self.topic_prefix}{model_topic}"


def load_connector(path: str | Path) -> ConnectorConfig:
    """Read a connector JSON file (Kafka Connect format)."""
    doc = load_file(path)
    return parse_connector(doc.data, doc.file, Path(path).resolve().parent, doc)


def parse_connector(data: Any, file: str | None, base_dir: Path,
                    doc: Document | None = None, *, confined: bool = False) -> ConnectorConfig:
    """Validate a connector config (from a file or a REST body) with every problem listed.

    `confined` (a connector created over REST, unless the worker allows any path): the model
    file and given schema files must stay inside `base_dir`, the worker's `models.dir`.
    """
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
    elif (bad_name := name_problem(name)) is not None:
        err("name", bad_name)
    config = data["config"]
    if not isinstance(config, dict):
        raise UserError([Problem("'config' must be an object of settings", file=file,
                                 path="config")])
    unknown = [k for k in config if k != "name" and not CONNECTOR_CONFIG.known(k)
               and not is_format_key(k) and inapplicable(k) is None]
    problems.extend(CONNECTOR_CONFIG.unknown_problems(
        unknown, file, "config.",
        {k: doc.line(f"config.{k}") if doc is not None else None for k in unknown}))
    raw: dict[str, str] = {}
    for key, value in config.items():
        if key == "name" or key in unknown:
            continue
        not_here = inapplicable(key)
        if not_here is not None:
            err(f"config.{key}", f"'{key}' does not apply: {not_here}")
            continue
        if key == "model" and (isinstance(value, dict) or _is_json_object(value)):
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            err(f"config.{key}", f"expected a string or number, got {type(value).__name__}")
            continue
        raw[key] = str(value)

    def get(key: str) -> str | None:
        return raw.get(key, CONNECTOR_CONFIG[key].default)

    def integer(key: str) -> int:
        spec = CONNECTOR_CONFIG[key]
        value = spec.whole_number(str(get(key)))
        if isinstance(value, str):
            err(f"config.{key}", value)
            return spec.minimum or 0
        return value

    def choice(key: str, parse: Callable[[str], T], fallback: T) -> T:
        try:
            return parse(str(get(key)))
        except UserError as exc:
            err(f"config.{key}", "; ".join(p.message for p in exc.problems))
            return fallback

    if get("connector.class") == DATAGEN:
        err("config.connector.class", f"{DATAGEN} is kafka-connect-datagen; use "
            f"{CONNECTOR_CLASSES[0]} with a model (its quickstarts are models here)")
    elif get("connector.class") not in CONNECTOR_CLASSES:
        err("config.connector.class", f"expected one of {', '.join(CONNECTOR_CLASSES)}, "
            f"got {get('connector.class')!r}")
    model_doc, model_dir = _model(config.get("model"), file, base_dir, err, confined)
    ticks = integer("ticks") if get("ticks") is not None else None
    pace = _pace(raw.get("pace"), ticks, err)
    boundary = choice("transaction.boundary", _boundary, Boundary.INTERVAL)
    destination = choice("destination", _enum(DestinationKind), DestinationKind.KAFKA)
    strategy = choice("value.subject.name.strategy", parse_strategy, SubjectNameStrategy.TOPIC)
    formats = parse_formats(raw, lambda key, message: err(f"config.{key}", message))
    for topic, given in formats.schema_files.items() if confined else ():
        outside = outside_problem(base_dir, given)
        if outside is not None:
            err(f"config.topic.{topic}.value.schema", f"schema file {shorten(given)!r}: {outside}")
    key_format = formats.key if formats.key is not None else KeyFormat.STRING
    start = str(get("start.time"))
    if start != "now":
        try:
            parse_start_time(start)
        except ValueError as exc:
            err("config.start.time", str(exc))
    cfg = ConnectorConfig(
        name=name, file=file, model_document=model_doc, model_dir=model_dir,
        tasks_max=integer("tasks.max"),
        users=integer("users") if get("users") is not None else None,
        shards=integer("shards"), seed=integer("seed"), tick_ms=integer("tick.ms"),
        start_time=start, ticks=ticks, pace=pace, boundary=boundary,
        boundary_ticks=integer("transaction.boundary.ticks"),
        boundary_interval_ms=integer("transaction.boundary.interval.ms"),
        snapshot_interval_ticks=integer("snapshot.interval.ticks"),
        topic_prefix=str(get("topic.prefix")),
        partitions=integer("topic.creation.default.partitions"),
        replication_factor=integer("topic.creation.default.replication.factor"),
        key_format=key_format, subject_strategy=strategy, raw=raw, formats=formats,
        destination=destination, base_dir=base_dir,
    )
    start_ms = parse_start_time(start) if start != "now" and not problems else None
    for key, message in limits.check_settings(tick_ms=cfg.tick_ms, pace=pace,
                                              start_ms=start_ms, ticks=ticks):
        err(f"config.{key}", message)
    if problems:
        raise UserError(problems)
    return cfg


def _is_json_object(value: Any) -> bool:
    return isinstance(value, str) and value.lstrip().startswith("{")


def _model(value: Any, file: str | None, base_dir: Path, err: Any, confined: bool
           ) -> tuple[Document, Path]:
    if _is_json_object(value):
        # Connect configs hold strings only: an inline model may arrive as JSON text.
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            err("config.model", f"inline model is not valid JSON: {exc.msg} (column "
                f"{exc.colno})")
            return Document({}, file, {}), base_dir
        except (ValueError, RecursionError):  # JSON's own limits: the reader names them
            return parse_text(value, f"{file or 'connector'}#config.model"), base_dir
    if value is None:
        err("config.model", "missing 'model': a path to a model file or an inline model object")
        return Document({}, file, {}), base_dir
    if isinstance(value, dict):
        # Inline: re-parse its JSON text so model errors still carry line numbers of their own.
        return parse_text(json.dumps(value, indent=1), f"{file or 'connector'}#config.model"), \
            base_dir
    path = base_dir / str(value)
    # Over REST the path is named as given: the worker's own directories stay unsaid.
    problem = outside_problem(base_dir, str(value)) if confined else None
    problem = problem or check_model_path(path)
    if problem is not None:
        err("config.model", f"model file {shorten(str(value)) if confined else path}: {problem}")
        return Document({}, file, {}), base_dir
    return load_file(path), path.resolve().parent


E = TypeVar("E", bound=enum.Enum)


def _enum(kind: type[E]) -> Callable[[str], E]:
    """A parser of `kind`'s values (its spellings as written in configs)."""
    def parse(text: str) -> E:
        for member in kind:
            if text == member.value:
                return member
        raise UserError(f"expected one of {', '.join(str(m.value) for m in kind)}, got {text!r}")
    return parse


def _boundary(text: str) -> Boundary:
    name = text.strip().lower()
    for b in Boundary:
        if name == b.value:
            return b
    if name in BOUNDARY_ALIASES:
        return BOUNDARY_ALIASES[name]
    choices = [b.value for b in Boundary] + list(BOUNDARY_ALIASES)
    raise UserError(f"expected one of {', '.join(choices)}, got {text!r}")


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
    if is_whole_number(text):
        return parse_whole_number(text)
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
