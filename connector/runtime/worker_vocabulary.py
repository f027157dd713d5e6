"""Kafka Connect's worker keys that are not ours: listeners, Confluent's environment mapping,
and the keys that mean nothing here (accepted with one warning line each, so a Connect user's
worker.properties starts as it is)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping

import attrs

from connector.errors import Problem

# Connect worker keys that do not apply: what doge does instead (keys that also appear in
# connector configs, such as plugin.path and offset.flush.interval.ms, are in converters.py).
IGNORED: dict[str, str] = {
    "offset.flush.timeout.ms": "offsets are committed in each transaction",
    "offset.storage.file.filename": "offsets live in offset.storage.topic, also standalone",
    "offset.storage.replication.factor": "use internal.topics.replication.factor",
    "config.storage.replication.factor": "use internal.topics.replication.factor",
    "status.storage.replication.factor": "use internal.topics.replication.factor",
    "status.storage.partitions": "the status topic has one partition",
    "exactly.once.source.support": "exactly-once is always on (transactions)",
    "task.shutdown.graceful.timeout.ms": "a task stops after its current transaction",
    "rest.extension.classes": "REST extensions are Java classes",
    "connector.client.config.override.policy": "client settings are the worker's only",
    "topic.creation.enable": "topics are created by the connector's topic.creation.* keys",
    "scheduled.rebalance.max.delay.ms": "tasks move after session.timeout.ms",
    "connect.protocol": "assignment uses Kafka's group protocol over slots",
    "metric.reporters": "metrics are served in Prometheus format at /metrics",
    "metrics.": "metrics are served in Prometheus format at /metrics",
    "access.control.": "the REST API sends no CORS headers",
    "response.http.headers.config": "the REST API's headers are fixed",
    "admin.listeners": "/admin/loggers is served on the REST listener",
    "listeners.https.": "the REST API serves plain HTTP (put a TLS proxy in front)",
    "worker.sync.timeout.ms": "workers do not sync through a leader",
    "worker.unsync.backoff.ms": "workers do not sync through a leader",
}


def ignored(key: str) -> str | None:
    """Why a Connect worker key is ignored here, or None."""
    for prefix, why in IGNORED.items():
        if key == prefix or (prefix.endswith(".") and key.startswith(prefix)):
            return why
    return None


@attrs.frozen
class Listener:
    host: str
    port: int


def parse_listener(text: str) -> Listener | str:
    """The first `http://host:port` of Connect's `listeners`, or what is wrong with it. An empty
    host means every interface, as in Connect."""
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        url = urllib.parse.urlsplit(item)
        if url.scheme.lower() != "http":
            continue
        try:
            port = url.port
        except ValueError:
            return f"invalid port in {item!r}"
        if port is None:
            return f"expected http://host:port, got {item!r}"
        return Listener(url.hostname or "0.0.0.0", port)
    return (f"expected an http:// listener such as http://0.0.0.0:8083, got {text!r} (the REST "
            "API serves plain HTTP; put a TLS proxy in front for https)")


def env_properties(environ: Mapping[str, str], prefix: str) -> dict[str, str]:
    """Worker properties from environment variables, as Confluent's images map CONNECT_*:
    DOGE_BOOTSTRAP_SERVERS -> bootstrap.servers; `__` stands for `_` and `___` for `-`."""
    out = {}
    for name, value in environ.items():
        if not name.startswith(prefix) or name == prefix:
            continue
        key = name.removeprefix(prefix).lower()
        key = key.replace("___", "\0").replace("__", "\1").replace("_", ".")
        out[key.replace("\0", "-").replace("\1", "_")] = value
    return out


def ignored_warnings(values: Mapping[str, str], file: str | None) -> list[Problem]:
    return [Problem(f"'{key}' is ignored: {why}", file=file, path=key, severity="warning")
            for key in values if (why := ignored(key)) is not None]
