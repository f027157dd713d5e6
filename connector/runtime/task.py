"""A task: one OS process owning a fixed set of shards and one transactional producer."""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from types import FrameType
from typing import Any

import attrs
import structlog

from connector.core.sharding import shards_of_task
from connector.destinations.base import Destination
from connector.destinations.kafka import KafkaDestination
from connector.destinations.postgres import postgres_destination
from connector.errors import InfrastructureError, UserError
from connector.kafka.errors import ProducerFailed, ProducerFenced
from connector.kafka.fencing import TaskIdentity
from connector.kafka.topics import partition_counts
from connector.logging import configure
from connector.runtime.config import ConnectorConfig, DestinationKind
from connector.runtime.converters import Formats
from connector.runtime.loggers import apply_levels
from connector.runtime.providers import Providers, parse_resolved
from connector.runtime.runner import Runner, RunStats
from connector.runtime.simulation import Simulation, prepare
from connector.runtime.status import State, TaskReport
from connector.runtime.task_metrics import TallySnapshot, TaskCounters
from connector.runtime.task_process import ExitCode, ReportPipe, TaskSpec
from connector.runtime.worker_config import WorkerConfig, log_level_of, worker_config_from
from connector.serde.records import KafkaTopicPlan, key_serializer
from connector.serde.registry import (
    RegisteredTopic,
    RegistryUnavailableError,
    RetryNotice,
    SchemaRegistry,
    TopicSchemas,
)
from connector.serde.subjects import parse_strategy
from connector.serde.userkeys import UserKeys
from connector.serde.values import given_schema, registry_schema, value_encoder

log = structlog.get_logger(__name__)
PROGRESS_LINE_S = 30.0  # a progress log line this often (long backfills)


def build_config(spec: TaskSpec, providers: Providers | None = None) -> ConnectorConfig:
    """The task's connector config, its `${...}` references resolved (here, in the task's own
    process, so that its logs mask what they resolve to)."""
    # Confinement checked again here: a symlink placed in models.dir after the connector was
    # created.
    confined = spec.connector_file is None and WorkerConfig(
        spec.worker_values, spec.worker_file).confines_models()
    return parse_resolved(spec.connector_data, spec.connector_file, Path(spec.base_dir),
                          providers or Providers(), confined=confined)


def die_with_parent(parent_pid: int) -> None:
    """Ask Linux to kill this process when the worker dies (a task must not outlive it)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the worker died before prctl took effect
        os._exit(int(ExitCode.FAILED))


def task_main(spec: TaskSpec, connection: Connection | None = None) -> None:
    """Entry point of a task process."""
    die_with_parent(spec.parent_pid)
    # Ctrl-C reaches the whole process group: the worker decides, and stops tasks by SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pipe = ReportPipe(connection)
    threading.Thread(target=pipe.listen, args=(lambda m: apply_levels(m.levels),),
                     name="doge-task-listen", daemon=True).start()
    configure(log_level_of(spec.worker_values), json=not sys.stderr.isatty())
    worker = worker_config_from(spec.worker_values, spec.worker_file)
    structlog.contextvars.bind_contextvars(connector=spec.connector_data.get("name"),
                                           task=spec.task, pid=os.getpid())
    _report(pipe, spec, State.RUNNING)  # alive: the hang timeout counts from here
    code = ExitCode.DONE
    try:
        code = run_task(spec, worker, pipe)
    except RegistryUnavailableError as exc:  # infrastructure, not a user mistake: retry later
        _report(pipe, spec, State.FAILED, trace=str(exc))
        log.error("task failed: schema registry unavailable", error=str(exc))
        code = ExitCode.FAILED
    except UserError as exc:
        _report(pipe, spec, State.FAILED, trace=str(exc))
        log.error("task failed: configuration", error=str(exc))
        code = ExitCode.USER_ERROR
    except ProducerFenced as exc:
        log.warning("task fenced by a newer owner", error=str(exc))
        code = ExitCode.FENCED
    except (ProducerFailed, InfrastructureError, TimeoutError, RuntimeError) as exc:
        _report(pipe, spec, State.FAILED, trace=f"{type(exc).__name__}: {exc}")
        log.error("task failed", error=str(exc))
        code = ExitCode.FAILED
    except Exception as exc:  # a bug: its traceback goes to the log, the task restarts
        _report(pipe, spec, State.FAILED, trace=f"{type(exc).__name__}: {exc}")
        log.exception("task failed unexpectedly", error=str(exc))
        code = ExitCode.FAILED
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code))  # skip interpreter teardown: librdkafka threads can stall it


def run_task(spec: TaskSpec, worker: WorkerConfig, pipe: ReportPipe) -> ExitCode:
    config = build_config(spec, worker.providers)
    sim = prepare(config, worker.functions())
    shards = shards_of_task(config.shards, config.tasks_max, spec.task)
    retries = [0]

    def on_retry(notice: RetryNotice) -> None:
        retries[0] += 1
        _report(pipe, spec, State.RUNNING, trace=f"registry retry: {notice.error}")

    destination = task_destination(worker, config, sim, spec.task, shards, on_retry)
    runner = Runner(sim, destination, shards)
    meter = Meter(runner, destination, {t: config.kafka_topic(t) for t in sim.model.schemas},
                  retries)

    def stop(signum: int, frame: FrameType | None) -> None:
        runner.stop()

    signal.signal(signal.SIGTERM, stop)
    _report(pipe, spec, State.RUNNING)
    reporter = threading.Thread(target=_progress, args=(runner, pipe, spec, meter),
                                daemon=True)
    reporter.start()
    try:
        start = runner.resume()
        settle_heap()
        log.info("task started", shards=shards, resume_tick=start)
        runner.run()
    finally:
        destination.close()
    stats = runner.stats
    finished = config.ticks is not None and runner.next_tick >= config.ticks
    _report(pipe, spec, State.FINISHED if finished else State.STOPPED,
            next_tick=runner.next_tick, events=stats.events,
            lag_seconds=round(stats.lag_seconds, 3), counters=meter.counters(False))
    log.info("task ended", finished=finished, tick=runner.next_tick, events=stats.events,
             commits=stats.commits, aborts=stats.aborts)
    return ExitCode.DONE


def settle_heap() -> None:
    """Take what start-up built (model, plans, schemas, encoders, the engines: ~90,000
    objects for the banking model) out of the cyclic collector's sight, after collecting what
    start-up left behind: an oldest-generation collection otherwise walks all of it, a pause
    of 70-90 ms a few times a minute in a backfill (realtime commits wait for it), and it is
    all kept until the task ends anyway. bench/kafka.py, 2000 ticks at 1e6 users: the longest
    collection 71-86 ms -> 0.3-0.4 ms, collections in all 0.20-0.29 s -> 0.11-0.13 s."""
    gc.collect()
    gc.freeze()


def task_destination(worker: WorkerConfig, config: ConnectorConfig, sim: Simulation, task: int,
                     shards: list[int], on_retry: Any = None) -> Destination:
    """The destination of a task's shards, as the connector's `destination` key says."""
    if config.destination is DestinationKind.POSTGRESQL:
        # Same commit protocol; its fencing is the database's (a lock per shard), not Kafka's.
        return postgres_destination(config.name, config.raw, worker.values, sim.model, shards)
    return kafka_destination(worker, config, sim, task, shards, on_retry)


def kafka_destination(worker: WorkerConfig, config: ConnectorConfig, sim: Simulation, task: int,
                      shards: list[int], on_retry: Any = None) -> KafkaDestination:
    """Register schemas (start-up, outside any transaction) and build the task's destination."""
    formats = config.formats.over(worker.formats())
    problems: list[str] = []
    formats.check_topics(list(sim.model.schemas), lambda key, msg: problems.append(msg))
    if problems:
        raise UserError(f"{config.file or config.name}: {'; '.join(problems)}")
    has_registry = "schema.registry.url" in worker.values or "url" in formats.registry
    kafka_topics = {t: config.kafka_topic(t) for t in sim.model.schemas}
    value_formats = {t: formats.value_format(t, has_registry) for t in sim.model.schemas}
    keys = {t: key_serializer(sim.model, t, formats.key_format(t), formats.envelope(key=True))
            for t in sim.model.schemas}
    base = config.base_dir  # the config file's folder, or the worker's models.dir over REST
    given = {t: given_schema(value_formats[t], sim.model.schemas[t], base / path)
             for t, path in formats.schema_files.items()}
    wanted = [TopicSchemas(kafka_topics[t], given[t][0] if t in given else
                           registry_schema(value_formats[t], s), keys[t].registry_schema)
              for t, s in sim.model.schemas.items()]
    registered = {}
    if any(w.value is not None or w.key_schema is not None for w in wanted):
        registered = _register(worker.registry(formats), wanted, config, formats, on_retry)
    counts = partition_counts(worker.client("admin"), list(kafka_topics.values()))
    plans = {}
    shared: dict[tuple[object, ...], UserKeys] = {}  # one key table per distinct serializer
    for topic, schema in sim.model.schemas.items():
        kt = kafka_topics[topic]
        if kt not in counts:
            raise InfrastructureError(f"topic {kt} does not exist (the worker creates it)")
        reg = registered.get(kt, RegisteredTopic(kt, None, None))
        encoder = value_encoder(value_formats[topic], schema, reg.value_schema_id,
                                envelope=formats.envelope(),
                                layout=given[topic][1] if topic in given else None)
        key = attrs.evolve(keys[topic], schema_id=reg.key_schema_id)
        user_keys = shared.setdefault((key.format, key.schema_id, key.envelope), UserKeys(key))
        plans[topic] = KafkaTopicPlan(kt, counts[kt], encoder, key,
                                      user_keys if key.record is None else UserKeys(key))
    identity = TaskIdentity(config.name, task, config.tasks_max, worker.get("group.id"))
    return KafkaDestination(identity, shards, config.shards, plans, worker.client("producer"),
                            worker.client("consumer"), worker.get("offset.storage.topic"),
                            worker.get("snapshot.storage.topic"),
                            chunk_bytes=worker.integer("snapshot.chunk.bytes"))


def _register(registry_conf: dict[str, Any], wanted: list[TopicSchemas], config: ConnectorConfig,
              formats: Formats, on_retry: Any) -> dict[str, RegisteredTopic]:
    def retry(notice: RetryNotice) -> None:
        log.warning("schema registry not reachable, retrying", attempt=notice.attempt,
                    of=notice.attempts, delay_s=notice.delay_s, error=notice.error)
        if on_retry is not None:
            on_retry(notice)

    key_strategy = parse_strategy(formats.key_strategy) if formats.key_strategy else None
    with SchemaRegistry(registry_conf, on_retry=retry) as registry:
        return registry.register_all(
            wanted, parse_strategy(formats.strategy) if formats.strategy
            else config.subject_strategy, key_strategy)


@attrs.define
class Meter:
    """The counters a task adds to its reports (task_metrics.py)."""

    runner: Runner
    destination: Destination
    topics: dict[str, str]  # model topic -> Kafka topic
    retries: list[int]
    sent: TallySnapshot = attrs.Factory(TallySnapshot)
    lock: threading.Lock = attrs.Factory(threading.Lock)  # progress thread and the final report

    def counters(self, open_transaction: bool) -> TaskCounters:
        tally = self.runner.stats.tally
        if isinstance(self.destination, KafkaDestination):  # PostgreSQL's is not timed
            tally.encode_seconds = self.destination.encode_seconds
        users = sum(e.population.size for e in list(self.runner.engines.values()))
        with self.lock:
            return self.sent.delta(tally, self.topics, self.retries[0], users, open_transaction)


@attrs.define
class ProgressLines:
    """An info line every `interval_s` while a task runs: long backfills say how far they are
    (the reports every second go to the worker, not to the log)."""

    total: int | None  # the connector's ticks, None when it runs without end
    interval_s: float = PROGRESS_LINE_S
    clock: Callable[[], float] = time.monotonic
    last: float | None = None

    def due(self, next_tick: int, stats: RunStats) -> None:
        now = self.clock()
        if self.last is None:
            self.last = now
        if now - self.last < self.interval_s:
            return
        self.last = now
        done = f"{next_tick / self.total:.1%}" if self.total else None
        log.info("progress", tick=next_tick, of=self.total, done=done, events=stats.events,
                 commits=stats.commits, lag_seconds=round(stats.lag_seconds, 1))


def _progress(runner: Runner, pipe: ReportPipe, spec: TaskSpec, meter: Meter) -> None:
    lines = ProgressLines(runner.sim.config.ticks)
    lines.due(runner.next_tick, runner.stats)  # the interval counts from here
    while True:
        time.sleep(1.0)
        s = runner.stats
        _report(pipe, spec, State.RUNNING, next_tick=runner.next_tick, events=s.events,
                lag_seconds=round(s.lag_seconds, 3), commits=s.commits,
                counters=meter.counters(s.tally.open))
        log.debug("task report", tick=runner.next_tick, events=s.events)
        if s.lag_seconds > 5:
            log.warning("behind schedule", lag_seconds=round(s.lag_seconds, 1))
        lines.due(runner.next_tick, s)


def _report(pipe: ReportPipe, spec: TaskSpec, state: State, next_tick: int | None = None,
            events: int | None = None, lag_seconds: float | None = None,
            commits: int | None = None, trace: str | None = None,
            counters: TaskCounters | None = None) -> None:
    pipe.send(TaskReport(spec.task, state, os.getpid(), next_tick, events, lag_seconds,
                         commits, trace, counters))
