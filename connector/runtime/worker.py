"""The worker: runs the tasks it owns as processes, supervises them, and is the herder.

Standalone: connectors come from files on the command line (or REST) and live in memory; the
worker owns every task. Distributed: connectors live in a compacted config topic and Kafka's
group protocol decides which worker owns which task (see membership.py); any worker serves any
REST request by writing to the config topic, which every worker applies in order.

Each loop: apply config records, keep the group membership alive, read task reports, reconcile
(start owned tasks, stop the rest), supervise (restart crashed tasks with backoff, mark FAILED
after `task.restart.max.attempts`, replace hung tasks: the replacement fences them).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import signal
import socket
import threading
import time
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import attrs
import structlog
from confluent_kafka import Consumer, Producer, TopicPartition

from connector.core.sharding import shards_of_task
from connector.engine.identity import run_fingerprint
from connector.errors import Problem, UserError
from connector.kafka import offsets as store
from connector.kafka.fencing import TaskIdentity, earlier_owners, fence
from connector.kafka.topics import COMPACT, cluster_id, ensure_topics
from connector.runtime.config import ConnectorConfig, parse_connector, resolve_start_ms
from connector.runtime.config_store import (
    ConfigStore,
    KafkaConfigStore,
    MemoryConfigStore,
    StoredConnector,
)
from connector.runtime.herder import Conflict, NotFound
from connector.runtime.membership import (
    GroupMembership,
    Membership,
    StandaloneMembership,
    slot_of,
)
from connector.runtime.simulation import Simulation, prepare
from connector.runtime.status import State, TaskStatus
from connector.runtime.task import ExitCode, TaskSpec, task_main
from connector.runtime.validation import validate_response
from connector.runtime.worker_config import WorkerConfig

log = structlog.get_logger(__name__)
STOP_GRACE_S = 30.0
# Keys whose change alters the committed output; refused while offsets exist.
IDENTITY_KEYS = ("model", "users", "shards", "seed", "tick.ms", "start.time")


@attrs.define
class RunningTask:
    """A task this worker runs (or is about to restart)."""

    connector: str
    task: int
    version: str  # hash of the connector config the process was started with
    status: TaskStatus
    process: BaseProcess | None = None
    restart_at: float | None = None
    last_report: float = attrs.Factory(time.monotonic)
    stopping_since: float | None = None
    published: float = 0.0  # when progress was last written to the status topic
    stop_state: State = State.UNASSIGNED  # what the task becomes once its process has stopped


def _progress(status: TaskStatus) -> dict[str, Any]:
    """Extension fields of a task's status (Connect clients ignore unknown fields)."""
    return {"next_tick": status.next_tick, "events": status.events,
            "lag_seconds": status.lag_seconds}


def _version(stored: StoredConnector) -> str:
    return hashlib.sha256(json.dumps(stored.data, sort_keys=True).encode()).hexdigest()[:16]


class Worker:
    """Runs and supervises the tasks it owns; implements the Herder for the REST layer."""

    def __init__(self, config: WorkerConfig, distributed: bool = False) -> None:
        self.config = config
        self.distributed = distributed
        host = config.optional("rest.host.name") or socket.gethostname()
        self.worker_id = f"{host}:{config.optional('rest.port')}"
        self.models_dir = Path(config.optional("models.dir") or ".").resolve()
        self.tasks: dict[tuple[str, int], RunningTask] = {}
        self.zombies: list[BaseProcess] = []  # hung processes left to be fenced, reaped on exit
        self.finished: dict[tuple[str, int], tuple[str, State, str | None]] = {}
        self.restart_seen: dict[str, int] = {}
        self.remote_status: dict[str, dict[str, Any]] = {}
        self.store: ConfigStore = MemoryConfigStore()
        self.membership: Membership = StandaloneMembership(self.slots)
        self._ctx = mp.get_context("spawn")
        self._pipes: dict[Connection, RunningTask] = {}  # one report pipe per task process
        self._status_producer: Producer | None = None
        self._status_consumer: Consumer | None = None
        self._lock = threading.RLock()
        self._configs: dict[str, ConnectorConfig] = {}
        self.functions = config.functions()
        self._put_lock = threading.Lock()
        self.kafka_cluster_id: str | None = None
        self.stopping = False

    @property
    def slots(self) -> int:
        return self.config.integer("cluster.slots")

    # -- start-up -------------------------------------------------------------------------
    def start(self) -> None:
        """Create internal topics, join the cluster (distributed)."""
        rf = self.config.integer("internal.topics.replication.factor")
        parts = self.config.integer("offset.storage.partitions")
        topics = {
            self.config.get("offset.storage.topic"): (parts, rf, COMPACT),
            self.config.get("snapshot.storage.topic"): (parts, rf, COMPACT),
            self.config.get("status.storage.topic"): (1, rf, COMPACT),
            self.config.get("config.storage.topic"): (1, rf, COMPACT),
        }
        if self.distributed:
            topics[self.config.get("slots.topic")] = (self.slots, rf, {})
        ensure_topics(self.config.client("admin"), topics)
        self.kafka_cluster_id = cluster_id(self.config.client("admin"))
        self._status_producer = Producer(self.config.client("producer"))
        if self.distributed:
            self.store = KafkaConfigStore(self.config.get("config.storage.topic"),
                                          self.config.client("producer"),
                                          self.config.client("consumer"))
            self.membership = GroupMembership(
                self.config.get("slots.topic"), self.config.get("group.id"),
                self.config.client("consumer"), self.config.integer("session.timeout.ms"),
                self.config.integer("heartbeat.interval.ms"))
            self._status_consumer = Consumer({
                **self.config.client("consumer"), "group.id": f"doge-status-{os.getpid()}",
                "enable.auto.commit": False, "auto.offset.reset": "earliest"})
            self._status_consumer.assign([TopicPartition(
                self.config.get("status.storage.topic"), 0, 0)])

    def add_connector(self, data: dict[str, Any], file: str | None, base_dir: str) -> None:
        """A connector from a file (standalone command line): validated, then stored."""
        name = data.get("name") if isinstance(data, dict) else None
        config = data.get("config") if isinstance(data, dict) else None
        if not isinstance(name, str) or not isinstance(config, dict):
            raise UserError([Problem('expected {"name": ..., "config": {...}}', file=file)])
        self._put(name, config, base_dir, file, create_only=False)

    # -- the loop -------------------------------------------------------------------------
    def run(self, exit_when_finished: bool = False) -> int:
        """Supervise until stopped (or, with exit_when_finished, until every connector ended)."""
        signal.signal(signal.SIGTERM, lambda *_: self.request_stop())
        signal.signal(signal.SIGINT, lambda *_: self.request_stop())
        while not self.stopping:
            self.poll(0.2)
            if exit_when_finished and self._all_ended():
                break
        failed = any(self.connector_state(n) is State.FAILED for n in self.store.snapshot())
        return 1 if failed else 0

    def _all_ended(self) -> bool:
        names = list(self.store.snapshot())
        return bool(names) and all(self.connector_state(n) in (State.FINISHED, State.FAILED,
                                                               State.STOPPED) for n in names)

    def request_stop(self) -> None:
        self.stopping = True

    def poll(self, timeout: float) -> None:
        """One round: configs, membership, reports, reconcile, supervise."""
        self.store.poll()
        self.membership.poll()
        self._read_status_topic()
        if not self._pipes:
            time.sleep(timeout)
        for connection in wait(list(self._pipes), timeout) if self._pipes else []:
            assert isinstance(connection, Connection)
            rt = self._pipes.get(connection)
            try:
                while connection.poll():
                    report = connection.recv()
                    if rt is not None:
                        self._on_report(rt, report)
            except (EOFError, OSError):  # the process ended (or died mid-report)
                self._pipes.pop(connection, None)
                connection.close()
        with self._lock:
            self.reconcile()
            self._supervise()

    def _on_report(self, rt: RunningTask, report: dict[str, Any]) -> None:
        with self._lock:
            if rt.process is None or rt.process.pid != report.get("pid"):
                return  # a replaced (hung) process still talking: not the current task
            rt.last_report = time.monotonic()
            status = rt.status
            if report.get("next_tick", -1) > status.next_tick:
                status.failures = 0  # progress: the task is healthy again
                status.next_tick = report["next_tick"]
            status.events = report.get("events", status.events)
            status.lag_seconds = report.get("lag_seconds", status.lag_seconds)
            if report["state"] == "FAILED" or report.get("trace"):
                status.trace = report.get("trace")  # e.g. "registry retry: ..." while RUNNING
            elif "next_tick" in report and status.trace and status.state is State.RUNNING:
                status.trace = None  # progress again: the fault is over
            if time.monotonic() - rt.published > 5:
                rt.published = time.monotonic()
                self._publish_task(rt)

    # -- reconcile: what should run here vs what runs -----------------------------------------
    def reconcile(self) -> None:
        owned = self.membership.owned_slots()
        if owned is None:
            return  # rebalance in progress: keep everything as it is until assignments arrive
        connectors = self.store.snapshot()
        keys: list[tuple[str, int]] = []
        for name, stored in connectors.items():
            config = self._config(stored)
            if config is not None:
                keys.extend((name, t) for t in range(config.tasks_max))
        mine = {k for k in keys if slot_of(keys, k, self.slots) in owned}
        # Stop what is no longer ours, changed, or not wanted running.
        for key, running in list(self.tasks.items()):
            current = connectors.get(key[0])
            if current is None or key not in mine:
                self._stop(running, State.UNASSIGNED)
            elif current.target != "RUNNING":  # before the version check: pause/stop win
                self._stop(running, State[current.target])
            elif running.version != _version(current):
                self._stop(running, State.UNASSIGNED)
        # Restart requests.
        for name, stored in connectors.items():
            if stored.restart_seq > self.restart_seen.get(name, 0):
                self.restart_seen[name] = stored.restart_seq
                for task in stored.restart_tasks or range(self._tasks_max(stored)):
                    self.finished.pop((name, task), None)
                    restarting = self.tasks.get((name, task))
                    if restarting is not None:
                        self._stop(restarting, State.RESTARTING)
                        restarting.status.failures = 0
        # Start what is ours and wanted.
        for key in sorted(mine):
            stored = connectors[key[0]]
            if stored.target != "RUNNING" or key in self.tasks:
                continue
            done = self.finished.get(key)
            if done is not None and done[0] == _version(stored):
                continue  # finished or failed with this config: stays so until restarted
            self.finished.pop(key, None)
            status = TaskStatus(key[1], State.UNASSIGNED, self.worker_id)
            rt = RunningTask(key[0], key[1], _version(stored), status)
            self.tasks[key] = rt
            self._spawn(rt, stored)

    def _tasks_max(self, stored: StoredConnector) -> int:
        config = self._config(stored)
        return config.tasks_max if config is not None else 0

    def _config(self, stored: StoredConnector) -> ConnectorConfig | None:
        version = _version(stored)
        cached = self._configs.get(version)
        if cached is None:
            try:
                cached = parse_connector(stored.data, stored.file, Path(stored.base_dir))
            except UserError as exc:
                log.error("stored connector config is invalid", connector=stored.name,
                          error=str(exc))
                return None
            self._configs[version] = cached
        return cached

    def _spawn(self, rt: RunningTask, stored: StoredConnector) -> None:
        spec = TaskSpec(dict(self.config.values), self.config.file, stored.data, stored.file,
                        stored.base_dir, rt.task, self.worker_id, os.getpid())
        reader, writer = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(target=task_main, args=(spec, writer),
                                    name=f"doge-task-{rt.connector}-{rt.task}", daemon=False)
        process.start()
        writer.close()  # the child holds the write end; EOF here means it is gone
        self._pipes[reader] = rt
        rt.process, rt.restart_at, rt.stopping_since = process, None, None
        rt.last_report = time.monotonic()
        rt.status.state, rt.status.worker_id, rt.status.trace = State.RUNNING, self.worker_id, None
        log.info("task process started", connector=rt.connector, task=rt.task, pid=process.pid)
        self._publish_task(rt)

    def _stop(self, rt: RunningTask, then: State) -> None:
        """Ask the process to stop after its current transaction (SIGTERM)."""
        rt.stop_state = then
        if rt.process is None or not rt.process.is_alive():
            self._forget(rt, then)
            return
        if rt.stopping_since is None:
            rt.stopping_since = time.monotonic()
            os.kill(rt.process.pid or 0, signal.SIGTERM)

    def _forget(self, rt: RunningTask, state: State) -> None:
        rt.status.state = state
        self._publish_task(rt)
        self.tasks.pop((rt.connector, rt.task), None)

    # -- supervise: exits, restarts, hung tasks ------------------------------------------------
    def _supervise(self) -> None:
        now = time.monotonic()
        for rt in list(self.tasks.values()):
            if rt.process is None:
                if rt.restart_at is not None and now >= rt.restart_at and not self.stopping:
                    stored = self.store.snapshot().get(rt.connector)
                    if stored is not None:
                        self._spawn(rt, stored)
                continue
            if rt.process.is_alive():
                if rt.stopping_since is not None:
                    if now - rt.stopping_since > STOP_GRACE_S:
                        rt.process.kill()
                elif now - rt.last_report > self.config.integer("task.hang.timeout.ms") / 1000:
                    self._replace_hung(rt)
                continue
            rt.process.join()
            self._drain(rt)  # its last report (final tick, events) may still be in the pipe
            code = rt.process.exitcode if rt.process.exitcode is not None else -1
            rt.process = None
            if rt.stopping_since is not None:
                self._forget(rt, rt.stop_state)  # a RESTARTING task is started again by reconcile
            else:
                self._on_exit(rt, code)
        for process in list(self.zombies):
            if not process.is_alive():
                process.join()
                self.zombies.remove(process)

    def _drain(self, rt: RunningTask) -> None:
        for connection, owner in list(self._pipes.items()):
            if owner is not rt:
                continue
            try:
                while connection.poll():
                    self._on_report(rt, connection.recv())
            except (EOFError, OSError):
                self._pipes.pop(connection, None)
                connection.close()

    def _replace_hung(self, rt: RunningTask) -> None:
        """A task that stopped reporting (paused, swapped out, stuck): start a replacement.

        The replacement fences the hung process's transactional id before reading offsets, so
        if it ever wakes up it cannot commit. It is deliberately not killed: correctness must not
        depend on being able to kill a zombie (in distributed mode it may be on another host).
        """
        assert rt.process is not None
        log.warning("task unresponsive; starting a replacement", connector=rt.connector,
                    task=rt.task, pid=rt.process.pid)
        self.zombies.append(rt.process)
        stored = self.store.snapshot().get(rt.connector)
        rt.process = None
        if stored is not None:
            self._spawn(rt, stored)

    def _on_exit(self, rt: RunningTask, code: int) -> None:
        status = rt.status
        key = (rt.connector, rt.task)
        if code == ExitCode.DONE:
            config = self._configs.get(rt.version)
            state = State.FINISHED if config is not None and config.ticks is not None \
                else State.STOPPED
            self.finished[key] = (rt.version, state, None)
            self._forget(rt, state)
            return
        if code == ExitCode.USER_ERROR:
            self.finished[key] = (rt.version, State.FAILED, status.trace)
            self._forget(rt, State.FAILED)
            return
        status.failures += 1
        if status.failures > self.config.integer("task.restart.max.attempts"):
            status.trace = (status.trace or f"task exited with code {code}") + \
                f" (failed {status.failures} times in a row)"
            self.finished[key] = (rt.version, State.FAILED, status.trace)
            self._forget(rt, State.FAILED)
            return
        delay = min(self.config.integer("task.restart.backoff.ms") / 1000
                    * 2 ** (status.failures - 1), 60.0)
        if code == ExitCode.FENCED:
            # Usually another worker took the task over: give the group a session timeout to
            # say so; reconcile drops the task if it is no longer ours before this fires.
            delay = max(delay, self.config.integer("session.timeout.ms") / 1000)
        rt.restart_at = time.monotonic() + delay
        status.state = State.RESTARTING
        log.warning("task ended unexpectedly; restarting", connector=rt.connector, task=rt.task,
                    exit_code=code, attempt=status.failures, delay_s=delay)
        self._publish_task(rt)

    def shutdown(self) -> None:
        """Stop every task (after its current transaction) and leave the cluster."""
        with self._lock:
            for rt in list(self.tasks.values()):
                self._stop(rt, State.UNASSIGNED)
        deadline = time.monotonic() + STOP_GRACE_S
        for rt in list(self.tasks.values()):
            if rt.process is not None:
                rt.process.join(max(0.0, deadline - time.monotonic()))
                if rt.process.is_alive():
                    rt.process.kill()
                    rt.process.join()
        self.tasks.clear()
        self.membership.close()
        self.store.close()
        if self._status_producer is not None:
            self._status_producer.flush(5)

    # -- status -------------------------------------------------------------------------------
    def _publish_task(self, rt: RunningTask) -> None:
        self._publish(f"status-task-{rt.connector}-{rt.task}",
                      {"state": rt.status.state.value, "trace": rt.status.trace,
                       "worker_id": self.worker_id, **_progress(rt.status)})

    def _publish(self, key: str, value: dict[str, Any]) -> None:
        if self._status_producer is None:
            return
        self._status_producer.produce(self.config.get("status.storage.topic"),
                                      json.dumps(value).encode(), key.encode())
        self._status_producer.poll(0)

    def _read_status_topic(self) -> None:
        if self._status_consumer is None:
            return
        while True:
            msg = self._status_consumer.poll(0)
            if msg is None:
                return
            raw_key, value = msg.key(), msg.value()
            if msg.error() is None and raw_key is not None:
                key = raw_key.decode()
                if value is None:
                    self.remote_status.pop(key, None)
                else:
                    self.remote_status[key] = json.loads(value)

    def task_state(self, name: str, task: int) -> tuple[State, str, str | None]:
        """(state, worker_id, trace) from this worker's view, or the status topic's."""
        stored = self.store.snapshot().get(name)
        remote = self.remote_status.get(f"status-task-{name}-{task}") if self.distributed \
            else None
        worker = remote.get("worker_id", "") if remote else self.worker_id
        with self._lock:
            rt = self.tasks.get((name, task))
            if rt is not None and (rt.stopping_since is None or stored is None
                                   or stored.target == "RUNNING"):
                return rt.status.state, rt.status.worker_id, rt.status.trace
            if stored is not None and stored.target != "RUNNING":
                # The operator's intent: pausing/stopping tasks report it right away.
                return State[stored.target], rt.status.worker_id if rt else worker, None
            done = self.finished.get((name, task))
            if done is not None and stored is not None and done[0] == _version(stored):
                return done[1], self.worker_id, done[2]
        if remote is not None:
            return State(remote["state"]), worker, remote.get("trace")
        return State.UNASSIGNED, "", None

    def task_progress(self, name: str, task: int) -> dict[str, Any]:
        """How far a task got and how late it is (from this worker or the status topic)."""
        with self._lock:
            rt = self.tasks.get((name, task))
            if rt is not None:
                return _progress(rt.status)
        remote = self.remote_status.get(f"status-task-{name}-{task}", {})
        return {k: remote[k] for k in ("next_tick", "events", "lag_seconds") if k in remote}

    def connector_state(self, name: str) -> State:
        stored = self._stored(name)
        if stored.target != "RUNNING":
            return State[stored.target]
        states = {self.task_state(name, t)[0] for t in range(self._tasks_max(stored))}
        if State.FAILED in states:
            return State.FAILED
        if states == {State.FINISHED}:
            return State.FINISHED
        return State.RUNNING

    # -- the Herder API ---------------------------------------------------------------------
    def _stored(self, name: str) -> StoredConnector:
        stored = self.store.snapshot().get(name)
        if stored is None:
            raise NotFound(f"Connector {name} not found")
        return stored

    def connectors(self) -> list[str]:
        return sorted(self.store.snapshot())

    def connector_config(self, name: str) -> dict[str, str]:
        stored = self._stored(name)
        config = {k: v if isinstance(v, str) else json.dumps(v)
                  for k, v in stored.data["config"].items()}
        return {**config, "name": name}

    def connector_info(self, name: str) -> dict[str, Any]:
        stored = self._stored(name)
        return {"name": name, "config": self.connector_config(name),
                "tasks": [{"connector": name, "task": t}
                          for t in range(self._tasks_max(stored))], "type": "source"}

    def create_connector(self, name: str, config: dict[str, Any]) -> dict[str, Any]:
        self._put(name, config, str(self.models_dir), None, create_only=True)
        return self.connector_info(name)

    def put_connector_config(self, name: str, config: dict[str, Any]
                             ) -> tuple[bool, dict[str, Any]]:
        created = self._put(name, config, str(self.models_dir), None, create_only=False)
        return created, self.connector_info(name)

    def _put(self, name: str, config: dict[str, Any], base_dir: str, file: str | None,
             create_only: bool) -> bool:
        if not name or "/" in name or any(ord(c) < 32 for c in name):
            raise UserError(f"connector name {name!r} is not allowed: it must be non-empty and "
                            "contain no '/' or control characters")
        body = {k: v for k, v in config.items() if k != "name"}
        if config.get("name", name) != name:
            raise UserError(f"connector name in the config ({config.get('name')!r}) does not "
                            f"match the name {name!r}")
        data = {"name": name, "config": body}
        parsed = parse_connector(data, file, Path(base_dir))
        # The model must validate before anything is stored.
        sim = prepare(parsed, self.functions)
        with self._put_lock:  # two concurrent creates of one name: one gets 409
            return self._store_connector(name, data, parsed, sim, base_dir, file, create_only)

    def _store_connector(self, name: str, data: dict[str, Any], parsed: ConnectorConfig,
                         sim: Simulation, base_dir: str, file: str | None,
                         create_only: bool) -> bool:
        old = self.store.snapshot().get(name)
        if old is not None and create_only:
            raise Conflict(f"Connector {name} already exists")
        self._check_output_identity(name, sim)
        ensure_topics(self.config.client("admin"), {
            parsed.kafka_topic(t): (parsed.partitions, parsed.replication_factor,
                                    parsed.topic_configs)
            for t in sim.model.schemas})
        self._record_generation(parsed)
        target = old.target if old is not None else "RUNNING"
        seq = old.restart_seq if old is not None else 0
        self.store.put(StoredConnector(name, data, base_dir, file, target, seq))
        return old is None

    def _check_output_identity(self, name: str, sim: Simulation) -> None:
        """Refuse a config whose output differs from what this connector already committed."""
        committed = self._committed_offsets(name)
        if not committed:
            return
        record = json.loads(next(iter(committed.values())))
        settings = sim.settings(resolve_start_ms(sim.config, int(record["start_ms"])))
        if run_fingerprint(sim.model, settings) != record["fingerprint"]:
            raise Conflict(
                f"Connector {name} already committed output for another model, seed or "
                f"population ({', '.join(IDENTITY_KEYS)}), or from an earlier engine version; "
                f"this config would mix two runs. "
                f"Stop it and reset its offsets first (PUT /connectors/{name}/stop, then "
                f"DELETE /connectors/{name}/offsets), or use a new connector name")

    def _record_generation(self, config: ConnectorConfig) -> None:
        """Remember every tasks.max used, so later generations can fence this one's ids."""
        topic = self.config.get("offset.storage.topic")
        known = store.read_generations(self.config.client("consumer"), topic, config.name)
        if config.tasks_max in known:
            return
        producer = Producer(self.config.client("producer"))
        producer.produce(topic, store.generations_value(known | {config.tasks_max}),
                         store.generations_key(config.name))
        if producer.flush(30) != 0:
            raise TimeoutError(f"could not record the task generation in {topic}")

    def _committed_offsets(self, name: str) -> dict[bytes, bytes]:
        return store.read_latest(self.config.client("consumer"),
                                 self.config.get("offset.storage.topic"),
                                 f"{name}/shard/".encode())

    def connector_status(self, name: str) -> dict[str, Any]:
        stored = self._stored(name)
        tasks = []
        for t in range(self._tasks_max(stored)):
            state, worker, trace = self.task_state(name, t)
            entry: dict[str, Any] = {"id": t, "state": state.value, "worker_id": worker}
            if trace:
                entry["trace"] = trace
            entry.update(self.task_progress(name, t))
            tasks.append(entry)
        connector: dict[str, Any] = {"state": self.connector_state(name).value,
                                     "worker_id": self.worker_id}
        failed = next((t for t in tasks if t["state"] == "FAILED"), None)
        if failed is not None:
            connector["trace"] = f"task {failed['id']} failed: {failed.get('trace', '')}"
        return {"name": name, "connector": connector, "tasks": tasks, "type": "source"}

    def task_configs(self, name: str) -> list[dict[str, Any]]:
        stored = self._stored(name)
        config = self._config(stored)
        base = self.connector_config(name)
        out = []
        for t in range(self._tasks_max(stored)):
            shards = shards_of_task(config.shards, config.tasks_max, t) if config else []
            out.append({"id": {"connector": name, "task": t},
                        "config": {**base, "task.id": str(t),
                                   "task.shards": ",".join(map(str, shards))}})
        return out

    def task_status(self, name: str, task: int) -> dict[str, Any]:
        stored = self._stored(name)
        if not 0 <= task < self._tasks_max(stored):
            raise NotFound(f"Task {name}-{task} not found")
        state, worker, trace = self.task_state(name, task)
        out: dict[str, Any] = {"id": task, "state": state.value, "worker_id": worker}
        if trace:
            out["trace"] = trace
        out.update(self.task_progress(name, task))
        return out

    def _set_target(self, name: str, target: str) -> None:
        stored = self._stored(name)
        if stored.target != target:
            self.store.put(attrs.evolve(stored, target=target))

    def pause(self, name: str) -> None:
        self._set_target(name, "PAUSED")

    def resume(self, name: str) -> None:
        self._set_target(name, "RUNNING")

    def stop(self, name: str) -> None:
        self._set_target(name, "STOPPED")

    def restart_connector(self, name: str, include_tasks: bool, only_failed: bool
                          ) -> dict[str, Any] | None:
        stored = self._stored(name)
        if not include_tasks and not only_failed:
            return None  # the connector itself has no runtime of its own to restart
        tasks = [t for t in range(self._tasks_max(stored)) if include_tasks and (
                 not only_failed or self.task_state(name, t)[0] is State.FAILED)]
        if not tasks:
            return self.connector_status(name)
        self.store.put(attrs.evolve(stored, restart_seq=stored.restart_seq + 1,
                                    restart_tasks=tasks))
        status = self.connector_status(name)
        for entry in status["tasks"]:
            if entry["id"] in tasks:
                entry["state"] = State.RESTARTING.value
        status["connector"]["state"] = State.RESTARTING.value
        return status

    def restart_task(self, name: str, task: int) -> None:
        stored = self._stored(name)
        if not 0 <= task < self._tasks_max(stored):
            raise NotFound(f"Task {name}-{task} not found")
        self.store.put(attrs.evolve(stored, restart_seq=stored.restart_seq + 1,
                                    restart_tasks=[task]))

    def delete_connector(self, name: str, reset_offsets: bool = False) -> None:
        stored = self._stored(name)
        self.store.delete(name)
        if reset_offsets:
            self._reset(name, stored)

    def reset_offsets(self, name: str) -> None:
        """Delete a STOPPED connector's committed offsets and snapshots (Connect's KIP-875)."""
        stored = self._stored(name)
        if stored.target != "STOPPED":
            raise UserError(f"Connector {name} must be stopped before its offsets are reset "
                            f"(PUT /connectors/{name}/stop)")
        self._reset(name, stored)

    def _reset(self, name: str, stored: StoredConnector) -> None:
        """Fence every generation's transactional ids, then tombstone offsets and snapshots."""
        self._wait_stopped(name)
        config = self._config(stored)
        topic = self.config.get("offset.storage.topic")
        generations = store.read_generations(self.config.client("consumer"), topic, name)
        if config is not None:
            generations.add(config.tasks_max)
        identity = TaskIdentity(name, 0, 0, self.config.get("group.id"))
        fence(self.config.client("producer"),
              earlier_owners(identity, generations, config.shards if config else 0), 30.0)
        producer = Producer(self.config.client("producer"))
        prefix = f"{name}/".encode()
        for t in (topic, self.config.get("snapshot.storage.topic")):
            for k in store.read_latest(self.config.client("consumer"), t, prefix):
                producer.produce(t, None, k)
        if producer.flush(30) != 0:
            raise TimeoutError("could not delete the connector's offsets")

    def _wait_stopped(self, name: str, timeout_s: float = STOP_GRACE_S) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if not any(k[0] == name and rt.process is not None
                           for k, rt in self.tasks.items()):
                    return
            time.sleep(0.1)

    def offsets(self, name: str) -> dict[str, Any]:
        self._stored(name)
        out = []
        for key, raw in sorted(self._committed_offsets(name).items()):
            shard = int(key.decode().rsplit("/", 1)[1])
            record = json.loads(raw)
            out.append({"partition": {"shard": shard},
                        "offset": {"next_tick": record["next_tick"],
                                   "snapshot_tick": record.get("snapshot_tick")}})
        return {"offsets": out}

    def validate(self, config: dict[str, Any]) -> dict[str, Any]:
        return validate_response(config, self.models_dir, self.functions)

