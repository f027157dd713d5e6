"""Helpers for tests against the real broker and registry: workers, readers, the reference.

The reference is what an uninterrupted run must produce, built in-process from the same connector
with the production engine, encoder and partitioner; a test then reads the topics back with a
read_committed consumer and compares record for record.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import attrs

from connector.core.batch import EventColumns
from connector.core.staged import merge
from connector.kafka.topics import ensure_topics
from connector.runtime.config import parse_connector, resolve_start_ms
from connector.runtime.simulation import prepare
from connector.serde.formats import Format
from connector.serde.records import KafkaTopicPlan, kafka_records, key_serializer
from connector.serde.values import value_encoder
from tests.helpers import ROOT, banking_model
from tests.runtime.reading import ReadRecord, read_all

# key (None: a null key), value payload (without the wire framing), timestamp
Record = tuple[bytes | None, bytes, int]
# Bytes of wire framing before a value's payload, per format (protobuf adds its message index).
FRAMING = {Format.AVRO: 5, Format.JSON_SCHEMA: 5, Format.PROTOBUF: 6, Format.JSON: 0}


@attrs.define
class KafkaRun:
    """One test's worker config and connector, with unique topic names."""

    tmp: Path
    bootstrap: str
    registry: str
    uid: str = attrs.Factory(lambda: uuid.uuid4().hex[:8])
    worker_extra: dict[str, str] = attrs.Factory(dict)
    procs: list[subprocess.Popen[bytes]] = attrs.Factory(list)
    log_files: dict[int, Path] = attrs.Factory(dict)  # worker pid -> its log (tasks' too)

    @property
    def prefix(self) -> str:
        return f"t{self.uid}-"

    def worker_file(self, **extra: str) -> Path:
        values = {"bootstrap.servers": self.bootstrap, "schema.registry.url": self.registry,
                  "group.id": f"g{self.uid}", "offset.storage.topic": f"{self.prefix}offsets",
                  "snapshot.storage.topic": f"{self.prefix}snapshots",
                  "status.storage.topic": f"{self.prefix}status",
                  "config.storage.topic": f"{self.prefix}configs",
                  "task.restart.backoff.ms": "200", "log.level": "INFO", "rest.port": "0",
                  **self.worker_extra, **extra}
        path = self.tmp / f"worker-{uuid.uuid4().hex[:6]}.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        return path

    def connector(self, model: dict[str, Any] | None = None, **config: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "connector.class": "io.dogeconnect.DogeSourceConnector",
            "model": model if model is not None else banking_model(),
            "users": "4000", "shards": "8", "seed": "5", "tick.ms": "60000",
            "start.time": "2024-01-01T00:00:00Z", "ticks": "300", "pace": "max",
            "tasks.max": "4", "topic.prefix": self.prefix,
            "topic.creation.default.partitions": "3", "snapshot.interval.ticks": "50",
            # Event times lie in 2024: time-based retention would delete them mid-test.
            "topic.creation.default.retention.ms": "-1"}
        body.update({k.replace("_", "."): str(v) for k, v in config.items()})
        return {"name": f"c{self.uid}", "config": body}

    def connector_file(self, data: dict[str, Any]) -> Path:
        path = self.tmp / f"connector-{uuid.uuid4().hex[:6]}.json"
        path.write_text(json.dumps(data, indent=1))
        return path

    def start_worker(self, connector: dict[str, Any], *, exit_when_finished: bool = True,
                     worker: Path | None = None, **extra: str) -> subprocess.Popen[bytes]:
        worker = worker or self.worker_file(**extra)
        args = [sys.executable, "-m", "connector", "worker", str(worker),
                str(self.connector_file(connector))]
        if exit_when_finished:
            args.append("--exit-when-finished")
        path = self.tmp / f"worker-{len(self.procs)}.log"
        log = open(path, "wb")  # noqa: SIM115
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.procs.append(proc)
        self.log_files[proc.pid] = path
        return proc

    def events(self, proc: subprocess.Popen[bytes] | None = None) -> list[dict[str, Any]]:
        """The JSON log lines of one worker started by `start_worker` (and its tasks), or of all."""
        paths = [self.log_files[proc.pid]] if proc is not None else list(self.log_files.values())
        return [e for path in paths for e in read_events(path)]

    def run_worker(self, connector: dict[str, Any], timeout: float = 300, **extra: str) -> int:
        proc = self.start_worker(connector, worker=self.worker_file(**extra))
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError(f"worker did not finish in {timeout}s; log: {self.logs()}"
                                 ) from None

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:]
                         for p in sorted(self.tmp.glob("worker-*.log")))

    def logs_full(self) -> str:
        """Every worker log of the test, whole (tasks' lines included)."""
        return "\n".join(p.read_text(errors="replace")
                         for p in sorted(self.tmp.glob("worker-*.log")))

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()

    def topics(self, connector: dict[str, Any]) -> list[str]:
        sim = _sim(connector, self.tmp)
        return [self.prefix + t for t in sim.model.schemas]

    def committed_offsets(self) -> list[dict[str, Any]]:
        """The connector's committed shard offset records, in commit order, with their shard."""
        out = []
        pattern = f"c{self.uid}/shard/"
        for r in read_all(self.bootstrap, [f"{self.prefix}offsets"], settle_s=0):
            key = r.key.decode()
            if key.startswith(pattern) and "/chunk/" not in key and r.value:
                out.append({**json.loads(r.value), "shard": int(key.rsplit("/", 1)[1])})
        return out

    def task_pid(self, connector: str, task: int) -> int | None:
        """The pid of a task's running process, from the status its worker last published."""
        return task_status_pid(self.bootstrap, f"{self.prefix}status", connector, task)

    def create_topics(self, connector: dict[str, Any]) -> None:
        """Create the connector's topics as the worker would, but with no time-based retention.

        The records carry event-time timestamps (2024 in `connector()`): the test broker's
        retention (24 h, checked every 5 minutes) would delete them if a check fell in a test.
        """
        config = _sim(connector, self.tmp).config
        ensure_topics({"bootstrap.servers": self.bootstrap}, {
            topic: (config.partitions, config.replication_factor, {"retention.ms": "-1"})
            for topic in self.topics(connector)})


def task_status_pid(bootstrap: str, status_topic: str, connector: str, task: int) -> int | None:
    """The pid in a task's latest status record while it is RUNNING (the status topic is the
    stable channel for it; log text is not)."""
    key = f"status-task-{connector}-{task}".encode()
    latest = [r for r in read_all(bootstrap, [status_topic], settle_s=0) if r.key == key]
    if not latest or not latest[-1].value:
        return None
    record = json.loads(latest[-1].value)
    return int(record["pid"]) if record.get("pid") and record["state"] == "RUNNING" else None


def read_events(path: Path) -> list[dict[str, Any]]:
    """The structlog JSON lines of a log file (other lines, and a line cut by kill -9, skipped)."""
    out: list[dict[str, Any]] = []
    for line in path.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict):
            out.append(event)
    return out


def child_pids(pid: int) -> list[int]:
    """The direct children of process `pid`, from /proc (Linux)."""
    out: set[int] = set()
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            out.update(int(c) for c in children.read_text().split())
        except OSError:
            continue  # the thread ended while we looked
    return sorted(out)


def is_running(pid: int) -> bool:
    """True while `pid` exists and has not exited (a zombie not yet reaped has exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def task_pids(worker_pid: int) -> list[int]:
    """The worker's running task processes (its spawned children but the resource tracker)."""
    out = []
    for child in child_pids(worker_pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline and is_running(child):
            out.append(child)
    return out


def _sim(connector: dict[str, Any], base: Path) -> Any:
    return prepare(parse_connector(connector, None, base))


def reference(connector: dict[str, Any], base: Path, partition_counts: dict[str, int],
              key_ids: dict[str, int] | None = None) -> dict[tuple[str, int], list[Record]]:
    """What an uninterrupted run writes to each (topic, partition), in per-key order.

    Values are unframed; keys of Kafka topics in `key_ids` are framed with that schema id
    (record keys: their bytes, hence their partitions, include it)."""
    sim = _sim(connector, base)
    config = sim.config
    settings = sim.settings(resolve_start_ms(config))
    formats = config.formats
    out: dict[tuple[str, int], list[Record]] = defaultdict(list)
    plans = {t: KafkaTopicPlan(
        config.kafka_topic(t), partition_counts[config.kafka_topic(t)],
        value_encoder(formats.value_format(t, True), s, envelope=formats.envelope()),
        attrs.evolve(key_serializer(sim.model, t, formats.key_format(t),
                                    formats.envelope(key=True)),
                     schema_id=(key_ids or {}).get(config.kafka_topic(t))))
        for t, s in sim.model.schemas.items()}
    for shard in range(config.shards):
        engine = sim.shard(settings, shard)
        for _ in range(config.ticks or 0):
            tick = engine.tick
            by_topic: dict[str, list[tuple[int, EventColumns]]] = defaultdict(list)
            for e in engine.step().events:
                by_topic[e.topic].append((tick, e))
            for topic, staged in by_topic.items():  # as the destination stages a shard-tick
                plan = plans[topic]
                for value, key, part, ts in kafka_records(plan, merge(staged)):
                    out[(plan.kafka_topic, part)].append((key, value, ts))
    return out


def value_format(connector: dict[str, Any], topic: str = "") -> Format:
    """The format of the connector's values (the harness's worker has a registry)."""
    return parse_connector(connector, None, Path.cwd()).formats.value_format(topic, True)


def assert_exact(records: list[ReadRecord], expected: dict[tuple[str, int], list[Record]],
                 fmt: Format = Format.AVRO) -> None:
    """No duplicate, no gap: per partition the same records, and per key the same order.

    Records of different keys in one partition come from different tasks producing
    concurrently, so only their per-key order is defined (and is what consumers rely on).
    """
    got: dict[tuple[str, int], list[Record]] = defaultdict(list)
    for r in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        framing = FRAMING[fmt]
        assert not framing or r.value[0] == 0, "not Confluent wire format"
        got[(r.topic, r.partition)].append((None if r.null_key else r.key, r.value[framing:],
                                            r.timestamp))
    assert set(got) == set(expected), (sorted(got), sorted(expected))
    for where, want in expected.items():
        have = got[where]
        if Counter(have) != Counter(want):
            dup = sum((Counter(have) - Counter(want)).values())
            gap = sum((Counter(want) - Counter(have)).values())
            raise AssertionError(f"{where}: {dup} duplicated/unexpected, {gap} missing records")
        assert _by_key(have) == _by_key(want), f"{where}: per-key order differs"


def _by_key(records: list[Record]) -> dict[bytes, list[Record]]:
    """Records per key, in order; null-keyed records have no per-key order (they are placed
    round-robin and interleave across tasks), so only their multiset is compared."""
    out: dict[bytes, list[Record]] = defaultdict(list)
    for r in records:
        if r[0] is not None:
            out[r[0]].append(r)
    return out
