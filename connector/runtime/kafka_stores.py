"""The control plane's stores in compacted Kafka topics, all through `CompactedLog`.

Config topic (one partition; every worker applies it in order, so no leader is needed):
  connector-<name>  {"data": {"name", "config"}, "base_dir", "file", "target"}
  restart-<name>    {"seq": n, "tasks": [ids] | null}   (restart requests, applied by owners)
  logger-cluster-<logger>  {"level": "DEBUG", "time_ms": t}  (/admin/loggers?scope=cluster;
                    applied by the workers running when it was written, as in Connect)
Status topic: status-task-<name>-<task> -> TaskStatus.to_record().
Offsets topic: see connector/kafka/offsets.py (written by tasks in their transactions).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import attrs
import structlog
from confluent_kafka import Producer

from connector.errors import InfrastructureError, UserError
from connector.kafka import offsets as records
from connector.kafka.fencing import TaskIdentity, earlier_owners, fence
from connector.kafka.log import CompactedLog, read_latest
from connector.kafka.topics import COMPACT, TopicWanted, ensure_topics
from connector.runtime.status import TargetState, TaskStatus
from connector.runtime.stores import StoredConnector
from connector.runtime.worker_config import WorkerConfig

log = structlog.get_logger(__name__)
READ_BACK_S = 30.0


def status_key(connector: str, task: int) -> bytes:
    return f"status-task-{connector}-{task}".encode()


class KafkaConfigStore:
    """Connector configs in a one-partition compacted topic, tailed by every worker."""

    def __init__(self, log: CompactedLog,
                 on_level: Callable[[str, str], object] | None = None) -> None:
        self.log = log
        self._connectors: dict[str, StoredConnector] = {}
        self.on_level = on_level
        self.started_ms = int(time.time() * 1000)

    def poll(self) -> None:
        for key, value, _ in self.log.tail():
            self._apply(key.decode(), value)

    def _apply(self, key: str, value: bytes | None) -> None:
        kind, _, name = key.partition("-")
        if kind == "logger":
            self._apply_level(name.removeprefix("cluster-"), value)
            return
        old = self._connectors.get(name)
        if kind == "connector":
            if value is None:
                self._connectors.pop(name, None)
                return
            record = json.loads(value)
            self._connectors[name] = StoredConnector(
                name, record["data"], record["base_dir"], record.get("file"),
                TargetState(record.get("target", "RUNNING")),
                old.restart_seq if old else 0, old.restart_tasks if old else None)
        elif kind == "restart" and value is not None and old is not None:
            record = json.loads(value)
            tasks = record["tasks"]
            self._connectors[name] = StoredConnector(
                name, old.data, old.base_dir, old.file, old.target, int(record["seq"]),
                tuple(tasks) if tasks is not None else None)

    def _apply_level(self, logger: str, value: bytes | None) -> None:
        record = json.loads(value) if value is not None else None
        if not isinstance(record, dict) or self.on_level is None \
                or int(record.get("time_ms") or 0) < self.started_ms:
            return  # levels set before this worker started do not outlive a restart
        try:
            self.on_level(logger, str(record.get("level")))
        except UserError as exc:  # written by something else than our REST API
            log.warning("ignoring a cluster log level", logger=logger, error=str(exc))

    def put_level(self, logger: str, level: str) -> None:
        """A cluster-wide log level: every worker applies it (this one too, on reading it)."""
        record = {"level": level, "time_ms": int(time.time() * 1000)}
        self._write(f"logger-cluster-{logger}", json.dumps(record).encode())

    def snapshot(self) -> dict[str, StoredConnector]:
        self.poll()
        return dict(self._connectors)

    def put(self, stored: StoredConnector) -> None:
        old = self._connectors.get(stored.name)
        value = {"data": stored.data, "base_dir": stored.base_dir, "file": stored.file,
                 "target": stored.target.value}
        self._write(f"connector-{stored.name}", json.dumps(value).encode())
        if old is None or stored.restart_seq != old.restart_seq:
            tasks = list(stored.restart_tasks) if stored.restart_tasks is not None else None
            self._write(f"restart-{stored.name}",
                        json.dumps({"seq": stored.restart_seq, "tasks": tasks}).encode())

    def delete(self, name: str) -> None:
        self._write(f"connector-{name}", None)
        self._write(f"restart-{name}", None)

    def _write(self, key: str, value: bytes | None) -> None:
        """Write, then apply the topic up to our record (read your writes, in topic order)."""
        offset = self.log.write(key.encode(), value)
        deadline = time.monotonic() + READ_BACK_S
        while self.log.position < offset:
            if time.monotonic() > deadline:
                raise InfrastructureError(f"did not read back the config topic {self.log.topic}")
            self.poll()
            time.sleep(0.01)

    def close(self) -> None:
        self.log.close()


class KafkaStatusStore:
    """Task statuses in a compacted topic; `tail=True` (distributed) also reads the others'."""

    def __init__(self, log: CompactedLog, tail: bool) -> None:
        self.log = log
        self.tail = tail
        self._remote: dict[bytes, dict[str, Any]] = {}

    def publish(self, connector: str, status: TaskStatus) -> None:
        self.log.publish(status_key(connector, status.task),
                         json.dumps(status.to_record()).encode())

    def poll(self) -> None:
        if not self.tail:
            return
        for key, value, _ in self.log.tail():
            if value is None:
                self._remote.pop(key, None)
            else:
                self._remote[key] = json.loads(value)

    def remote(self, connector: str, task: int) -> TaskStatus | None:
        record = self._remote.get(status_key(connector, task))
        return TaskStatus.from_record(task, record) if record is not None else None

    def close(self) -> None:
        self.log.close()


@attrs.frozen
class KafkaOffsetStore:
    """Shard offsets, snapshots and generations, as tasks commit them in their transactions."""

    offsets_topic: str
    snapshots_topic: str
    group_id: str  # the prefix of the tasks' transactional ids
    producer_conf: dict[str, Any]
    consumer_conf: dict[str, Any]
    timeout_s: float = 30.0

    def committed(self, connector: str) -> dict[int, records.OffsetRecord]:
        raw = read_latest(self.consumer_conf, self.offsets_topic, f"{connector}/shard/".encode())
        return {records.shard_of(k): records.OffsetRecord.from_bytes(v) for k, v in raw.items()}

    def generations(self, connector: str) -> set[int]:
        return records.read_generations(self.consumer_conf, self.offsets_topic, connector)

    def record_generation(self, connector: str, tasks_max: int) -> None:
        known = self.generations(connector)
        if tasks_max not in known:
            self._write(self.offsets_topic, {
                records.generations_key(connector): records.generations_value(
                    known | {tasks_max})})

    def reset(self, connector: str, shard_count: int, generations: set[int]) -> None:
        identity = TaskIdentity(connector, 0, 0, self.group_id)
        fence(self.producer_conf, earlier_owners(identity, generations, shard_count),
              self.timeout_s)
        prefix = f"{connector}/".encode()
        for topic in (self.offsets_topic, self.snapshots_topic):
            self._write(topic, dict.fromkeys(read_latest(self.consumer_conf, topic, prefix)))

    def _write(self, topic: str, values: dict[bytes, bytes | None]) -> None:
        producer = Producer(self.producer_conf)
        for key, value in values.items():
            producer.produce(topic, value, key)
        if producer.flush(self.timeout_s) != 0:
            raise InfrastructureError(f"could not write to {topic}")


def offset_store(worker: WorkerConfig) -> KafkaOffsetStore:
    """The offsets, snapshots and generations store of a worker config's internal topics."""
    return KafkaOffsetStore(worker.get("offset.storage.topic"),
                            worker.get("snapshot.storage.topic"), worker.get("group.id"),
                            worker.client("producer"), worker.client("consumer"))


def offset_store_topics(worker: WorkerConfig) -> TopicWanted:
    """The offsets and snapshots topics (compacted), as every worker and in-process run needs."""
    rf = worker.integer("internal.topics.replication.factor")
    parts = worker.integer("offset.storage.partitions")
    return {worker.get("offset.storage.topic"): (parts, rf, COMPACT),
            worker.get("snapshot.storage.topic"): (parts, rf, COMPACT)}


def ensure_offset_store(worker: WorkerConfig, extra: TopicWanted) -> dict[str, int]:
    """Create the offsets and snapshots topics and `extra` (a run in this process, without a
    worker); name -> partitions."""
    return ensure_topics(worker.client("admin"), {**offset_store_topics(worker), **extra})
