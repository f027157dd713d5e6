"""Worker configuration: a Java .properties file (or JSON object) as Kafka Connect uses.

`producer.*`, `consumer.*` and `admin.*` keys pass through to librdkafka unchanged (SASL and SSL
included), on top of the shared client keys (`bootstrap.servers`, `security.protocol`, `sasl.*`,
`ssl.*`, `client.id`) that apply to all three clients; `sasl.jaas.config` (PLAIN, SCRAM) becomes
librdkafka's `sasl.username`/`sasl.password`. `${provider:...}` references resolve through the
config providers (providers.py); `raw` keeps the text as written, for task processes (which
resolve it again, so that their logs mask the same values).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from connector.destinations.postgres.settings import URL_KEY as POSTGRES_URL
from connector.errors import Problem, UserError
from connector.kafka.jaas import translate_jaas
from connector.logging import kafka_logger
from connector.model.numbers import shorten
from connector.model.source import parse_text
from connector.runtime.configdef import ConfigDef, ConfigKey, ConfigPrefix, ConfigType, Importance
from connector.runtime.converters import (
    CONVERTER_PREFIXES,
    Formats,
    inapplicable,
    is_format_key,
    parse_formats,
)
from connector.runtime.plugins import load_plugins
from connector.runtime.properties import parse_properties, read_config_text
from connector.runtime.providers import PREFIX as PROVIDERS
from connector.runtime.providers import Providers, providers_from, scrubbed
from connector.runtime.worker_vocabulary import (
    Listener,
    env_properties,
    ignored,
    ignored_warnings,
    parse_listener,
)
from connector.serde.registry import registry_conf

SHARED_CLIENT_PREFIXES = ("security.protocol", "sasl.", "ssl.", "client.id", "socket.",
                          "broker.address.family")
STR, INT, LONG = ConfigType.STRING, ConfigType.INT, ConfigType.LONG
HIGH, MEDIUM, LOW = Importance.HIGH, Importance.MEDIUM, Importance.LOW
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _check_port(port: int) -> None:
    if port > 65535:  # bind() raised OverflowError
        raise ValueError(f"expected a port from 0 to 65535, got {port}")


def host_name_problem(host: str) -> str | None:
    """What makes `host` unusable for bind() (which raises TypeError or UnicodeError, not
    OSError, for these), or None; whether it resolves is for bind() to say."""
    try:
        if "\x00" in host:
            raise UnicodeError
        host.encode("idna")
    except UnicodeError:
        return f"expected a host name or address, got {shorten(host)!r}"
    return None


WORKER_CONFIG = ConfigDef((
    ConfigKey("bootstrap.servers", ConfigType.LIST, None, "Kafka.", HIGH, required=True),
    ConfigKey("schema.registry.url", STR, None, "Confluent-compatible registry (for Apicurio: "
              "`.../apis/ccompat/v7`). `schema.registry.*` and `basic.auth.user.info` pass to "
              "the registry client.", HIGH),
    ConfigKey("basic.auth.user.info", ConfigType.PASSWORD, None, "`user:password` of the "
              "registry.", LOW),
    ConfigKey("group.id", STR, "doge-connect", "Workers with the same id form one cluster; also "
              "the prefix of transactional ids.", HIGH),
    ConfigKey("config.storage.topic", STR, "doge-configs", "Compacted topic of connector "
              "configs (created if absent)."),
    ConfigKey("offset.storage.topic", STR, "doge-offsets", "Compacted topic of committed "
              "offsets (created if absent)."),
    ConfigKey("status.storage.topic", STR, "doge-status", "Compacted topic of task statuses "
              "(created if absent)."),
    ConfigKey("snapshot.storage.topic", STR, "doge-snapshots", "Compacted topic of state "
              "snapshots (created if absent)."),
    ConfigKey("offset.storage.partitions", INT, "1", "Partitions of the offsets and snapshots "
              "topics.", LOW, minimum=1),
    ConfigKey("internal.topics.replication.factor", INT, "-1", "Replication of the internal "
              "topics (-1: broker default).", LOW, minimum=-1),
    ConfigKey("listeners", ConfigType.LIST, None, "Connect's REST listener, `http://host:port` "
              "(the first http one; an empty host: every interface). Overrides rest.host.name "
              "and rest.port.", shown_default="rest.host.name:rest.port"),
    ConfigKey("rest.host.name", STR, "127.0.0.1", "REST listener; loopback unless you say "
              "otherwise."),
    ConfigKey("rest.port", INT, "8083", "REST port; `0` picks a free port.", minimum=0,
              validator=_check_port),
    ConfigKey("rest.advertised.host.name", STR, None, "The host other workers and the status "
              "API name this worker by (its worker_id).", LOW, shown_default="the listener's"),
    ConfigKey("rest.advertised.port", INT, None, "The port of the worker_id.", LOW, minimum=0,
              shown_default="the listener's", validator=_check_port),
    ConfigKey("rest.advertised.listener", STR, None, "`http` (the only one here).", LOW),
    ConfigKey("config.providers", ConfigType.LIST, None, "Config providers for `${name:...}` "
              "references in worker and connector configs: `env`, `file`, `directory` (or "
              "Connect's class names in `config.providers.<name>.class`).", MEDIUM),
    ConfigKey("rest.basic.auth.user.info", ConfigType.PASSWORD, None, "`user:password` to require "
              "HTTP basic auth."),
    ConfigKey("models.dir", STR, None, "Where the model paths (and given schema files) of "
              "REST-created connectors resolve; they must stay inside it: relative, no `..`, no "
              "symlink out.", shown_default="working directory"),
    ConfigKey("models.allow.any.path", ConfigType.BOOLEAN, "false", "`true` lets REST-created "
              "connectors name model and schema files anywhere the worker can read (absolute "
              "paths, `..`); only for a worker whose REST API only trusted users reach.", LOW),
    ConfigKey("plugins", ConfigType.LIST, None, "Plugin functions, `module:attribute`, comma "
              "separated.", LOW),
    ConfigKey("task.restart.max.attempts", INT, "5", "A crashed task restarts with exponential "
              "backoff; after this many failures in a row (without progress) it and its "
              "connector are FAILED.", minimum=0),
    ConfigKey("task.restart.backoff.ms", LONG, "1000", "First restart delay, doubled after each "
              "failure (at most 60 s).", LOW, minimum=0),
    ConfigKey("task.hang.timeout.ms", LONG, "60000", "A task that stops reporting this long gets "
              "a replacement, which fences it.", LOW, minimum=1),
    ConfigKey("snapshot.chunk.bytes", INT, "900000", "Largest snapshot record (below the "
              "broker's message size).", LOW, minimum=1),
    ConfigKey("session.timeout.ms", INT, "10000", "Distributed mode: how fast a dead or paused "
              "worker's tasks move; within the broker's `group.min.session.timeout.ms` and "
              "`group.max.session.timeout.ms` (a worker the broker refuses stops with an "
              "error).", minimum=1),
    ConfigKey("heartbeat.interval.ms", INT, "2000", "Distributed mode: group heartbeats; less "
              "than `session.timeout.ms`.", LOW, minimum=1),
    ConfigKey("cluster.slots", INT, "64", "Distributed mode: task slots assigned by Kafka's "
              "group protocol.", LOW, minimum=1),
    ConfigKey("slots.topic", STR, "doge-slots", "Distributed mode: the (empty) topic whose "
              "partitions are the slots.", LOW),
    ConfigKey("log.level", STR, "INFO", "DEBUG, INFO, WARNING or ERROR (change it at run time "
              "with `PUT /admin/loggers/root`).", LOW, choices=LOG_LEVELS),
    ConfigKey("bootstrap.timeout.ms", LONG, "8000", "At start-up, how long the worker waits for "
              "Kafka to answer before it stops with one error.", LOW, minimum=1),
    ConfigKey(POSTGRES_URL, ConfigType.PASSWORD, None, "libpq URL of connectors with "
              "`destination=postgresql` that set no `postgres.url` of their own (else the PG* "
              "environment variables).", LOW),
), (
    ConfigPrefix("producer.", "Passed to librdkafka's producer as they are."),
    ConfigPrefix("consumer.", "Passed to librdkafka's consumers as they are."),
    ConfigPrefix("admin.", "Passed to librdkafka's admin client as they are."),
    ConfigPrefix("schema.registry.", "Passed to the Schema Registry client."),
    ConfigPrefix("config.providers.", "`<name>.class` and `<name>.param.*` of each config "
                                      "provider (e.g. `file.param.allowed.paths`)."),
    *CONVERTER_PREFIXES,
    *(ConfigPrefix(p, "Applies to all three Kafka clients (SASL and SSL work by configuration "
                      "alone).") for p in SHARED_CLIENT_PREFIXES),
))


@attrs.frozen
class WorkerConfig:
    values: dict[str, str]  # resolved: secrets in clear, never to be logged
    file: str | None
    raw: dict[str, str] | None = None  # as written (`${...}` unresolved); None: same as values
    warnings: tuple[Problem, ...] = ()  # Connect keys that are ignored here, one line each
    providers: Providers = attrs.Factory(Providers)

    @property
    def unresolved(self) -> dict[str, str]:
        return dict(self.raw if self.raw is not None else self.values)

    def listener(self) -> Listener:
        """Where the REST API listens: `listeners`, else rest.host.name:rest.port."""
        if "listeners" in self.values:
            found = parse_listener(self.values["listeners"])
            assert isinstance(found, Listener), "checked when loaded"
            return found
        return Listener(self.get("rest.host.name"), self.integer("rest.port"))

    def advertised(self, port: int) -> str:
        """This worker's id (`host:port`), as Connect advertises it."""
        host = self.optional("rest.advertised.host.name") or self.listener().host
        return f"{host}:{self.optional('rest.advertised.port') or port}"

    def get(self, key: str) -> str:
        value = self.values.get(key, _default(key))
        if value is None:
            raise UserError([Problem(f"'{key}' is required", file=self.file, path=key)])
        return value

    def optional(self, key: str) -> str | None:
        return self.values.get(key, _default(key))

    def integer(self, key: str) -> int:
        return int(self.get(key))

    def log_level(self) -> str:
        return log_level_of(self.values)

    def models_dir(self) -> Path:
        """`models.dir` resolved (the working directory if unset); it must exist."""
        path = Path(self.optional("models.dir") or ".")
        if not path.is_dir():
            raise UserError([Problem(f"expected an existing directory, got {shorten(str(path))!r}",
                                     file=self.file, path="models.dir")])
        return path.resolve()

    def confines_models(self) -> bool:
        """Whether REST-created connectors' files must stay inside `models.dir`."""
        return WORKER_CONFIG["models.allow.any.path"].boolean(
            self.get("models.allow.any.path")) is not True

    def client(self, kind: str) -> dict[str, Any]:
        """librdkafka config for 'producer', 'consumer' or 'admin': shared keys + overrides;
        librdkafka's own log lines go through our logging (JSON stays JSON)."""
        conf: dict[str, Any] = {"bootstrap.servers": self.get("bootstrap.servers"),
                                "logger": kafka_logger()}
        for key, value in self.values.items():
            if key.startswith(SHARED_CLIENT_PREFIXES):
                conf[key] = value
        prefix = f"{kind}."
        for key, value in self.values.items():
            if key.startswith(prefix):
                conf[key.removeprefix(prefix)] = value
        jaas = conf.pop("sasl.jaas.config", None)
        if jaas is not None:
            conf.update(translate_jaas(jaas))  # checked when loaded
        return conf

    def functions(self) -> tuple[Any, ...]:
        """Plugin functions named by `plugins` (comma-separated module:attribute)."""
        return load_plugins((self.optional("plugins") or "").split(","), self.file)

    def registry(self, formats: Formats | None = None) -> dict[str, Any]:
        """SchemaRegistryClient config (`schema.registry.*` keys, basic auth), with a
        connector's converter sub-keys (`value.converter.schema.registry.url`) on top."""
        return registry_conf(self.values, (formats or self.formats()).registry)

    def formats(self) -> Formats:
        """The worker's record formats (Connect's key.converter / value.converter)."""
        return parse_formats(self.values, lambda key, message: None)  # checked when loaded


def load_worker_config(path: str | Path, env_prefix: str | None = None) -> WorkerConfig:
    """A worker config file; with `env_prefix`, environment variables such as
    DOGE_BOOTSTRAP_SERVERS override its keys (env_properties)."""
    p = Path(path)
    text = read_config_text(p, "worker config")
    if p.suffix == ".json":
        # The models' hostile-input reader: depth, number length and lone surrogates refused.
        data = parse_text(text, str(p)).data
        if not isinstance(data, dict):
            raise UserError([Problem("expected a JSON object of settings", file=str(p))])
        values = {str(k): str(v) for k, v in data.items()}
    else:
        values = parse_properties(text, str(p))
    if env_prefix:
        values.update(env_properties(os.environ, env_prefix))
    return worker_config_from(values, str(p))


def log_level_of(values: Mapping[str, str]) -> str:
    """`log.level` as the logging module names it (checked when the config was loaded)."""
    return WORKER_CONFIG["log.level"].choice(values.get("log.level", "INFO")) or "INFO"


def basic_auth_problem(user_info: str) -> str | None:
    """What is wrong with a `user:password` for HTTP basic auth (never quoting it), if any."""
    user, sep, _ = user_info.partition(":")
    if not sep or not user:
        return "expected user:password for the REST API's basic authentication"
    return None


def _group_timing_problems(values: Mapping[str, str], file: str | None) -> list[Problem]:
    """Kafka's rule for group members: heartbeats more often than the session times out (else
    the group drops the worker between two heartbeats, and its tasks move back and forth)."""
    keys = ("heartbeat.interval.ms", "session.timeout.ms")
    if not any(k in values for k in keys):
        return []
    heartbeat, session = (WORKER_CONFIG[k].whole_number(values.get(k) or _default(k) or "")
                          for k in keys)
    if isinstance(heartbeat, int) and isinstance(session, int) and heartbeat >= session:
        return [Problem(f"expected less than session.timeout.ms ({session}), got {heartbeat} "
                        "(a worker heartbeating less often than its session lasts is dropped "
                        "from the group between two heartbeats; Kafka's own default is a third "
                        "of it)", file=file, path="heartbeat.interval.ms")]
    return []


def _default(key: str) -> str | None:
    return WORKER_CONFIG[key].default if key in WORKER_CONFIG else None


def worker_config_from(values: dict[str, str], file: str | None) -> WorkerConfig:
    """Check and resolve a worker config; problems never quote a resolved value."""
    raw = dict(values)
    providers = providers_from(raw, file)
    values = providers.resolve(raw, file)
    try:
        return _checked(values, raw, providers, file)
    except UserError as exc:
        raise scrubbed(exc) from None


def _checked(values: dict[str, str], raw: dict[str, str], providers: Providers,
             file: str | None) -> WorkerConfig:
    problems: list[Problem] = []
    warnings = ignored_warnings(values, file)  # worker keys first, then connector-level ones
    parse_formats(values, lambda key, message: problems.append(Problem(message, file=file,
                                                                       path=key)))
    others = []
    for key, value in values.items():
        not_here = inapplicable(key)
        if not_here is not None and ignored(key) is None:
            warnings.append(Problem(f"'{key}' is ignored: {not_here}", file=file, path=key,
                                    severity="warning"))
        elif not is_format_key(key) and ignored(key) is None and not key.startswith(PROVIDERS):
            others.append(key)
        if key.endswith("sasl.jaas.config"):
            try:
                translate_jaas(value)
            except ValueError as exc:
                problems.append(Problem(str(exc), file=file, path=key))
    if "listeners" in values:
        found = parse_listener(values["listeners"])
        if isinstance(found, Listener):
            found = host_name_problem(found.host) or found
        if isinstance(found, str):
            problems.append(Problem(found, file=file, path="listeners"))
    problems += WORKER_CONFIG.unknown_problems(others, file)
    for spec in WORKER_CONFIG.keys:
        if spec.required and spec.name not in values:
            problems.append(Problem(f"'{spec.name}' is required", file=file, path=spec.name))
        if spec.type in (ConfigType.INT, ConfigType.LONG) and spec.name in values:
            number = spec.whole_number(values[spec.name])
            if isinstance(number, str):
                problems.append(Problem(number, file=file, path=spec.name))
        # Whether it exists is the machine's business, checked when the worker starts (a config
        # for a container is checked elsewhere); a NUL can never be a path.
        if spec.name == "models.dir" and "\x00" in values.get(spec.name, ""):
            problems.append(Problem(f"expected a directory path, got "
                                    f"{shorten(values[spec.name])!r}", file=file, path=spec.name))
        if spec.name == "rest.host.name" and spec.name in values:
            host = host_name_problem(values[spec.name])
            if host is not None:
                problems.append(Problem(host, file=file, path=spec.name))
        if spec.choices is not None and spec.name in values:
            choice = spec.choice(values[spec.name])
            if choice is None:
                problems.append(Problem(f"expected one of {', '.join(spec.choices)}, got "
                                        f"{shorten(values[spec.name])!r}", file=file,
                                        path=spec.name))
        if spec.type is ConfigType.BOOLEAN and spec.name in values:
            flag = spec.boolean(values[spec.name])
            if isinstance(flag, str):
                problems.append(Problem(flag, file=file, path=spec.name))
    problems += _group_timing_problems(values, file)
    user_info = values.get("rest.basic.auth.user.info")
    auth = basic_auth_problem(user_info) if user_info is not None else None
    if auth is not None:
        problems.append(Problem(auth, file=file, path="rest.basic.auth.user.info"))
    if problems:
        raise UserError(problems)
    return WorkerConfig(values, file, raw if raw != values else None, tuple(warnings), providers)
