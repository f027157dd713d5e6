"""The standalone worker: runs connectors' tasks as processes and supervises them.

Also the herder of standalone mode: the REST layer calls its operations. A crashed task restarts
with exponential backoff; a task failing `task.restart.max.attempts` times in a row (or failing
on a user mistake) marks it and its connector FAILED with the error in the status.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import queue
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import attrs
import structlog
from confluent_kafka import Producer

from connector.errors import UserError
from connector.runtime import offset_store as store
from connector.runtime.config import ConnectorConfig, parse_connector
from connector.runtime.simulation import prepare
from connector.runtime.status import ConnectorStatus, State, TaskStatus
from connector.runtime.task import ExitCode, TaskSpec, task_main
from connector.runtime.topics import COMPACT, ensure_topics
from connector.runtime.worker_config import WorkerConfig

log = structlog.get_logger(__name__)
STOP_GRACE_S = 30.0


@attrs.define
class ConnectorEntry:
    """A connector as the worker holds it: its raw config and where relative paths resolve."""

    name: str
    data: dict[str, Any]
    file: str | None
    base_dir: str
    config: ConnectorConfig
    status: ConnectorStatus
    target: State = State.RUNNING  # what the operator asked for: RUNNING, PAUSED or STOPPED


@attrs.define
class TaskProcess:
    process: BaseProcess
    started: float
    restart_at: float | None = None
    last_report: float = attrs.Factory(time.monotonic)


class Worker:
    """Runs and supervises the tasks of every connector it owns."""

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        host = config.optional("rest.host.name") or socket.gethostname()
        self.worker_id = f"{host}:{config.optional('rest.port')}"
        self.connectors: dict[str, ConnectorEntry] = {}
        self.processes: dict[tuple[str, int], TaskProcess] = {}
        self._ctx = mp.get_context("spawn")
        self._status_queue: Any = self._ctx.Queue()
        self._status_producer: Producer | None = None
        # Processes given up on as hung: fenced by their replacement, reaped when they exit.
        self.zombies: list[BaseProcess] = []
        self.stopping = False

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Create the internal topics (compacted) this worker keeps offsets and status in."""
        rf = self.config.integer("internal.topics.replication.factor")
        parts = self.config.integer("offset.storage.partitions")
        ensure_topics(self.config.client("admin"), {
            self.config.get("offset.storage.topic"): (parts, rf, COMPACT),
            self.config.get("snapshot.storage.topic"): (parts, rf, COMPACT),
            self.config.get("status.storage.topic"): (1, rf, COMPACT),
            self.config.get("config.storage.topic"): (1, rf, COMPACT),
        })
        self._status_producer = Producer(self.config.client("producer"))

    def add_connector(self, data: dict[str, Any], file: str | None, base_dir: str) -> None:
        """Validate, create its topics, record its task generation, start its tasks."""
        config = parse_connector(data, file, Path(base_dir))
        sim = prepare(config)  # a bad model fails here, before any task starts
        if config.name in self.connectors:
            raise UserError(f"connector '{config.name}' already exists")
        ensure_topics(self.config.client("admin"), {
            config.kafka_topic(t): (config.partitions, config.replication_factor, {})
            for t in sim.model.schemas})
        self._record_generation(config)
        status = ConnectorStatus(config.name, State.RUNNING, self.worker_id)
        entry = ConnectorEntry(config.name, data, file, base_dir, config, status)
        self.connectors[config.name] = entry
        self._publish_connector(entry)
        for task in range(config.tasks_max):
            status.tasks[task] = TaskStatus(task, State.UNASSIGNED, self.worker_id)
            self._spawn(entry, task)

    def _record_generation(self, config: ConnectorConfig) -> None:
        """Remember every tasks.max used, so later generations can fence this one's ids."""
        key = store.generations_key(config.name)
        topic = self.config.get("offset.storage.topic")
        latest = store.read_latest(self.config.client("consumer"), topic, key)
        known = set(json.loads(latest[key])) if key in latest else set()
        if config.tasks_max in known:
            return
        producer = Producer(self.config.client("producer"))
        producer.produce(topic, json.dumps(sorted(known | {config.tasks_max})).encode(), key)
        if producer.flush(30) != 0:
            raise TimeoutError(f"could not record the task generation in {topic}")

    def _spawn(self, entry: ConnectorEntry, task: int) -> None:
        spec = TaskSpec(dict(self.config.values), self.config.file, entry.data, entry.file,
                        entry.base_dir, task, self.worker_id, os.getpid())
        process = self._ctx.Process(target=task_main, args=(spec, self._status_queue),
                                    name=f"doge-task-{entry.name}-{task}", daemon=False)
        process.start()
        self.processes[(entry.name, task)] = TaskProcess(process, time.monotonic())
        status = entry.status.tasks[task]
        status.state = State.RUNNING
        status.worker_id = self.worker_id
        log.info("task process started", connector=entry.name, task=task, pid=process.pid)
        self._publish_task(entry, status)

    def run(self, exit_when_finished: bool = False) -> int:
        """Supervise until stopped (or, with exit_when_finished, until every connector ended)."""
        signal.signal(signal.SIGTERM, lambda *_: self.request_stop())
        signal.signal(signal.SIGINT, lambda *_: self.request_stop())
        while not self.stopping:
            self.poll(0.2)
            if exit_when_finished and self.connectors and all(
                    e.status.state in (State.FINISHED, State.FAILED, State.STOPPED)
                    for e in self.connectors.values()):
                break
        self.shutdown()
        failed = any(e.status.state is State.FAILED for e in self.connectors.values())
        return 1 if failed else 0

    def request_stop(self) -> None:
        self.stopping = True

    def poll(self, timeout: float) -> None:
        """Drain task status reports and supervise processes once."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                report = self._status_queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            self._on_report(report)
        self._supervise()

    def _on_report(self, report: dict[str, Any]) -> None:
        for entry in self.connectors.values():
            proc = self.processes.get((entry.name, report["task"]))
            if proc is not None and proc.process.pid == report.get("pid"):
                proc.last_report = time.monotonic()
                status = entry.status.tasks[report["task"]]
                if "next_tick" in report:
                    if report["next_tick"] > status.next_tick:
                        status.failures = 0  # progress: the task is healthy again
                    status.next_tick = report["next_tick"]
                status.events = report.get("events", status.events)
                status.lag_seconds = report.get("lag_seconds", status.lag_seconds)
                if report["state"] == "FAILED":
                    status.trace = report.get("trace")

    def _supervise(self) -> None:
        now = time.monotonic()
        for (name, task), proc in list(self.processes.items()):
            entry = self.connectors.get(name)
            if entry is None:
                continue
            status = entry.status.tasks[task]
            if proc.restart_at is not None:
                if now >= proc.restart_at and entry.target is State.RUNNING and not self.stopping:
                    self._spawn(entry, task)
                continue
            if proc.process.is_alive():
                if now - proc.last_report > self.config.integer("task.hang.timeout.ms") / 1000:
                    self._replace_hung(entry, status, proc)
                continue
            proc.process.join()
            code = proc.process.exitcode
            self._on_exit(entry, status, proc, code if code is not None else -1)
        self._reap_zombies()
        self._update_connector_states()

    def _replace_hung(self, entry: ConnectorEntry, status: TaskStatus, proc: TaskProcess) -> None:
        """A task that stopped reporting (paused, swapped out, stuck): start a replacement.

        The replacement fences the hung process's transactional id before reading offsets, so
        if it ever wakes up it cannot commit. It is deliberately not killed: correctness must not
        depend on being able to kill a zombie (in distributed mode it may be on another host).
        """
        log.warning("task unresponsive; starting a replacement", connector=entry.name,
                    task=status.task, pid=proc.process.pid)
        self.zombies.append(proc.process)
        self._spawn(entry, status.task)

    def _reap_zombies(self) -> None:
        for process in list(self.zombies):
            if not process.is_alive():
                process.join()
                self.zombies.remove(process)

    def _on_exit(self, entry: ConnectorEntry, status: TaskStatus, proc: TaskProcess,
                 code: int) -> None:
        if code == ExitCode.DONE:
            finished = entry.config.ticks is not None
            status.state = State.FINISHED if finished else State.STOPPED
            del self.processes[(entry.name, status.task)]
            if entry.target is State.PAUSED:
                status.state = State.PAUSED
        elif code == ExitCode.USER_ERROR:
            status.state = State.FAILED
            del self.processes[(entry.name, status.task)]
        else:
            status.failures += 1
            limit = self.config.integer("task.restart.max.attempts")
            if status.failures > limit:
                status.state = State.FAILED
                status.trace = (status.trace or f"task exited with code {code}") + \
                    f" (failed {status.failures} times in a row)"
                del self.processes[(entry.name, status.task)]
            else:
                backoff = self.config.integer("task.restart.backoff.ms") / 1000
                delay = min(backoff * 2 ** (status.failures - 1), 60.0)
                proc.restart_at = time.monotonic() + delay
                status.state = State.RESTARTING
                log.warning("task died; restarting", connector=entry.name, task=status.task,
                            exit_code=code, attempt=status.failures, delay_s=delay)
        self._publish_task(entry, status)

    def _update_connector_states(self) -> None:
        for entry in self.connectors.values():
            states = {t.state for t in entry.status.tasks.values()}
            before = entry.status.state
            if State.FAILED in states:
                entry.status.state = State.FAILED
                failed = next(t for t in entry.status.tasks.values() if t.state is State.FAILED)
                entry.status.trace = f"task {failed.task} failed: {failed.trace}"
            elif states == {State.FINISHED}:
                entry.status.state = State.FINISHED
            elif entry.target is State.PAUSED:
                entry.status.state = State.PAUSED
            elif entry.target is State.STOPPED:
                entry.status.state = State.STOPPED
            else:
                entry.status.state = State.RUNNING
            if entry.status.state is not before:
                log.info("connector state", connector=entry.name, state=entry.status.state.value)
                self._publish_connector(entry)

    # -- operations (the herder API the REST layer calls) ------------------------------------
    def stop_tasks(self, name: str, target: State) -> None:
        """Stop a connector's tasks between transactions (SIGTERM), for pause/stop/delete."""
        entry = self.connectors[name]
        entry.target = target
        procs = [(key, p) for key, p in self.processes.items() if key[0] == name]
        for _, proc in procs:
            if proc.process.is_alive():
                os.kill(proc.process.pid or 0, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for key, proc in procs:
            if proc.restart_at is None:
                proc.process.join(max(0.0, deadline - time.monotonic()))
                if proc.process.is_alive():
                    proc.process.kill()
                    proc.process.join()
            self.processes.pop(key, None)
            entry.status.tasks[key[1]].state = target
        self._update_connector_states()

    def shutdown(self) -> None:
        for name in list(self.connectors):
            target = self.connectors[name].target
            self.stop_tasks(name, target if target is not State.RUNNING else State.UNASSIGNED)
        if self._status_producer is not None:
            self._status_producer.flush(5)

    # -- status topic ------------------------------------------------------------------------
    def _publish_connector(self, entry: ConnectorEntry) -> None:
        self._publish(f"status-connector-{entry.name}",
                      {"state": entry.status.state.value, "trace": entry.status.trace,
                       "worker_id": self.worker_id})

    def _publish_task(self, entry: ConnectorEntry, status: TaskStatus) -> None:
        self._publish(f"status-task-{entry.name}-{status.task}",
                      {"state": status.state.value, "trace": status.trace,
                       "worker_id": self.worker_id})

    def _publish(self, key: str, value: dict[str, Any]) -> None:
        if self._status_producer is None:
            return
        self._status_producer.produce(self.config.get("status.storage.topic"),
                                      json.dumps(value).encode(), key.encode())
        self._status_producer.poll(0)
