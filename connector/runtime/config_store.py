"""Where connector configs and operator intents live: memory (standalone) or a compacted topic.

Records of the Kafka store (key -> JSON value; null value = deleted):
  connector-<name>  {"data": {"name", "config"}, "base_dir", "target": RUNNING|PAUSED|STOPPED}
  restart-<name>    {"seq": n, "tasks": [ids] | null}   (restart requests, applied by owners)
The topic is the serialisation point of the cluster: every worker applies its records in order,
so no leader is needed; a writer waits until its own consumer has read its write back.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any, Protocol

import attrs
from confluent_kafka import Consumer, Producer, TopicPartition

from connector.errors import InfrastructureError


@attrs.define
class StoredConnector:
    name: str
    data: dict[str, Any]
    base_dir: str
    file: str | None
    target: str = "RUNNING"
    restart_seq: int = 0
    restart_tasks: list[int] | None = None  # None: every task


class ConfigStore(Protocol):
    def poll(self) -> None:
        """Apply records written since the last poll (no-op in memory)."""

    def snapshot(self) -> dict[str, StoredConnector]:
        """The current connectors, as copies."""

    def put(self, stored: StoredConnector) -> None:
        """Create or replace a connector (config and target)."""

    def delete(self, name: str) -> None:
        """Remove a connector."""

    def close(self) -> None:
        """Release clients."""


class MemoryConfigStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connectors: dict[str, StoredConnector] = {}

    def poll(self) -> None:
        return None

    def snapshot(self) -> dict[str, StoredConnector]:
        with self._lock:
            return {k: attrs.evolve(v) for k, v in self._connectors.items()}

    def put(self, stored: StoredConnector) -> None:
        with self._lock:
            self._connectors[stored.name] = attrs.evolve(stored)

    def delete(self, name: str) -> None:
        with self._lock:
            self._connectors.pop(name, None)

    def close(self) -> None:
        return None


class KafkaConfigStore:
    """Connector configs in a one-partition compacted topic, tailed by every worker."""

    def __init__(self, topic: str, producer_conf: dict[str, Any],
                 consumer_conf: dict[str, Any]) -> None:
        self.topic = topic
        self._lock = threading.Lock()
        self._connectors: dict[str, StoredConnector] = {}
        self._applied = -1  # offset of the last record applied
        self._producer = Producer({**producer_conf, "enable.idempotence": True, "acks": "all"})
        self._consumer = Consumer({**consumer_conf, "group.id": f"doge-config-{uuid.uuid4()}",
                                   "enable.auto.commit": False, "auto.offset.reset": "earliest",
                                   "isolation.level": "read_committed"})
        self._consumer.assign([TopicPartition(topic, 0, 0)])

    def poll(self) -> None:
        with self._lock:
            while True:
                msg = self._consumer.poll(0)
                if msg is None:
                    return
                if msg.error() is not None:
                    continue
                self._apply(msg.key(), msg.value())
                self._applied = msg.offset() or 0

    def _apply(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        text = key.decode()
        kind, _, name = text.partition("-")
        if kind == "connector":
            if value is None:
                self._connectors.pop(name, None)
                return
            record = json.loads(value)
            old = self._connectors.get(name)
            self._connectors[name] = StoredConnector(
                name, record["data"], record["base_dir"], record.get("file"),
                record.get("target", "RUNNING"),
                old.restart_seq if old else 0, old.restart_tasks if old else None)
        elif kind == "restart" and value is not None and name in self._connectors:
            record = json.loads(value)
            self._connectors[name].restart_seq = record["seq"]
            self._connectors[name].restart_tasks = record["tasks"]

    def snapshot(self) -> dict[str, StoredConnector]:
        self.poll()
        with self._lock:
            return {k: attrs.evolve(v) for k, v in self._connectors.items()}

    def put(self, stored: StoredConnector) -> None:
        with self._lock:
            old = self._connectors.get(stored.name)
        value = {"data": stored.data, "base_dir": stored.base_dir, "file": stored.file,
                 "target": stored.target}
        self._write(f"connector-{stored.name}", json.dumps(value).encode())
        if old is None or stored.restart_seq != old.restart_seq:
            self._write(f"restart-{stored.name}", json.dumps(
                {"seq": stored.restart_seq, "tasks": stored.restart_tasks}).encode())

    def delete(self, name: str) -> None:
        self._write(f"connector-{name}", None)
        self._write(f"restart-{name}", None)

    def _write(self, key: str, value: bytes | None) -> None:
        """Produce, then wait until our own consumer applied it (read your writes)."""
        offsets: list[int] = []

        def delivered(err: Any, msg: Any) -> None:
            if err is None:
                offsets.append(msg.offset())

        self._producer.produce(self.topic, value, key.encode(), 0, on_delivery=delivered)
        if self._producer.flush(30) != 0 or not offsets:
            raise InfrastructureError(f"could not write to the config topic {self.topic}")
        deadline = time.monotonic() + 30
        while self._applied < offsets[0]:
            if time.monotonic() > deadline:
                raise InfrastructureError(f"did not read back the config topic {self.topic}")
            self.poll()
            time.sleep(0.01)

    def close(self) -> None:
        self._producer.flush(5)
        self._consumer.close()
