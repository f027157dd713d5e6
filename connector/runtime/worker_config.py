"""Worker configuration: a Java-style .properties file (or JSON object) as Kafka Connect uses.

`producer.*`, `consumer.*` and `admin.*` keys pass through to librdkafka unchanged (SASL and SSL
included), on top of the shared client keys (`bootstrap.servers`, `security.protocol`, `sasl.*`,
`ssl.*`, `client.id`) that apply to all three clients.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs

from connector.errors import Problem, UserError
from connector.runtime.converters import Formats, inapplicable, is_format_key, parse_formats
from connector.runtime.plugins import load_plugins
from connector.serde.registry import registry_conf

SHARED_CLIENT_PREFIXES = ("security.protocol", "sasl.", "ssl.", "client.id", "socket.",
                          "broker.address.family")
PASSTHROUGH_PREFIXES = ("producer.", "consumer.", "admin.", "schema.registry.")
KNOWN = {
    "bootstrap.servers": None,
    "schema.registry.url": None,
    "basic.auth.user.info": None,
    "group.id": "doge-connect",
    "config.storage.topic": "doge-configs",
    "offset.storage.topic": "doge-offsets",
    "status.storage.topic": "doge-status",
    "snapshot.storage.topic": "doge-snapshots",
    "offset.storage.partitions": "1",
    "internal.topics.replication.factor": "-1",
    "rest.host.name": "127.0.0.1",
    "rest.port": "8083",
    "rest.basic.auth.user.info": None,
    "task.restart.max.attempts": "5",
    "task.restart.backoff.ms": "1000",
    "snapshot.chunk.bytes": "900000",
    "task.hang.timeout.ms": "60000",
    "cluster.slots": "64",
    "slots.topic": "doge-slots",
    "models.dir": None,
    "plugins": None,
    "log.level": "INFO",
    "session.timeout.ms": "10000",
    "heartbeat.interval.ms": "2000",
}


@attrs.frozen
class WorkerConfig:
    values: dict[str, str]
    file: str | None

    def get(self, key: str) -> str:
        value = self.values.get(key, KNOWN.get(key))
        if value is None:
            raise UserError([Problem(f"'{key}' is required", file=self.file, path=key)])
        return value

    def optional(self, key: str) -> str | None:
        return self.values.get(key, KNOWN.get(key))

    def integer(self, key: str) -> int:
        return int(self.get(key))

    def client(self, kind: str) -> dict[str, Any]:
        """librdkafka config for 'producer', 'consumer' or 'admin': shared keys + overrides."""
        conf: dict[str, Any] = {"bootstrap.servers": self.get("bootstrap.servers")}
        for key, value in self.values.items():
            if key.startswith(SHARED_CLIENT_PREFIXES):
                conf[key] = value
        prefix = f"{kind}."
        for key, value in self.values.items():
            if key.startswith(prefix):
                conf[key.removeprefix(prefix)] = value
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


def parse_properties(text: str, file: str | None) -> dict[str, str]:
    """Java .properties: `key=value` or `key: value`, # and ! comments, backslash continuations."""
    out: dict[str, str] = {}
    logical = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip() if not logical else raw.lstrip()
        if not logical and (not line or line[0] in "#!"):
            continue
        if line.endswith("\\") and not line.endswith("\\\\"):
            logical += line[:-1]
            continue
        line, logical = logical + line, ""
        sep = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
        if sep < 0:
            raise UserError([Problem(f"expected 'key=value', got {raw.strip()!r}", file=file,
                                     line=number)])
        out[line[:sep].strip()] = line[sep + 1:].strip()
    return out


def load_worker_config(path: str | Path) -> WorkerConfig:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError([Problem(f"cannot read worker config: {exc.strerror or exc}",
                                 file=str(p))]) from None
    if p.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError([Problem(f"not valid JSON: {exc.msg}", file=str(p),
                                     line=exc.lineno)]) from None
        values = {str(k): str(v) for k, v in data.items()}
    else:
        values = parse_properties(text, str(p))
    return worker_config_from(values, str(p))


def worker_config_from(values: dict[str, str], file: str | None) -> WorkerConfig:
    problems = []
    parse_formats(values, lambda key, message: problems.append(Problem(message, file=file,
                                                                       path=key)))
    for key in values:
        not_here = inapplicable(key)
        if not_here is not None:
            problems.append(Problem(f"'{key}' does not apply: {not_here}", file=file, path=key))
            continue
        if is_format_key(key):
            continue
        if key not in KNOWN and not key.startswith(PASSTHROUGH_PREFIXES + SHARED_CLIENT_PREFIXES):
            problems.append(Problem(
                f"unknown key '{key}'; known keys: {', '.join(sorted(KNOWN))}, and prefixes "
                f"{', '.join(PASSTHROUGH_PREFIXES + SHARED_CLIENT_PREFIXES)}", file=file, path=key))
    for key in ("bootstrap.servers",):
        if key not in values:
            problems.append(Problem(f"'{key}' is required", file=file, path=key))
    for key in ("rest.port", "offset.storage.partitions", "task.restart.max.attempts",
                "task.restart.backoff.ms", "snapshot.chunk.bytes", "session.timeout.ms",
                "task.hang.timeout.ms", "cluster.slots", "heartbeat.interval.ms"):
        if key in values and not values[key].lstrip("-").isdigit():
            problems.append(Problem(f"expected a whole number, got {values[key]!r}", file=file,
                                    path=key))
    if problems:
        raise UserError(problems)
    return WorkerConfig(values, file)
