"""The worker: wires the stores, the task supervisor, the membership and the herder; runs the loop.

Standalone: connectors come from files on the command line (or REST) and live in memory; the
worker owns every task. Distributed: connectors live in a compacted config topic and Kafka's
group protocol decides which worker owns which task (membership.py); any worker serves any
REST request by writing to the config topic, which every worker applies in order.

Each round, on one thread: apply what other workers wrote, keep the membership alive, wait up to
0.2 s for a task report or a REST request, run the requests, supervise the tasks (supervisor.py),
and reconcile what runs with what should (worker_herder.py).
"""

from __future__ import annotations

import os
import signal
import socket
from multiprocessing.connection import wait
from types import FrameType

import structlog
from confluent_kafka import KafkaException

from connector import __version__
from connector.errors import Problem, UserError
from connector.kafka.errors import refused_setting
from connector.kafka.log import CompactedLog
from connector.kafka.topics import COMPACT, TopicWanted, cluster_id, ensure_topics
from connector.runtime.health import Phase, WorkerHealth
from connector.runtime.kafka_stores import (
    KafkaConfigStore,
    KafkaStatusStore,
    offset_store,
    offset_store_topics,
)
from connector.runtime.loggers import LogLevels
from connector.runtime.membership import GroupMembership, Membership, StandaloneMembership
from connector.runtime.metrics import WorkerMetrics
from connector.runtime.operations import Operations
from connector.runtime.stores import ConfigStore, MemoryConfigStore
from connector.runtime.supervisor import SupervisorSettings, TaskSupervisor
from connector.runtime.task import task_main
from connector.runtime.task_process import SpawnedTask, TaskProcess, TaskSpec
from connector.runtime.worker_config import WorkerConfig
from connector.runtime.worker_herder import HerderContext, WorkerHerder
from connector.serde.registry import SchemaRegistry

log = structlog.get_logger(__name__)
ROUND_S = 0.2


def spawn(spec: TaskSpec) -> TaskProcess:
    """A task in a process of its own."""
    return SpawnedTask(spec, task_main)


def supervisor_settings(config: WorkerConfig) -> SupervisorSettings:
    return SupervisorSettings(
        max_attempts=config.integer("task.restart.max.attempts"),
        backoff_s=config.integer("task.restart.backoff.ms") / 1000,
        hang_timeout_s=config.integer("task.hang.timeout.ms") / 1000,
        fenced_delay_s=config.integer("session.timeout.ms") / 1000)


class Worker:
    """A worker process: `start()` joins Kafka, `run()` loops until stopped, `shutdown()`."""

    def __init__(self, config: WorkerConfig, distributed: bool = False) -> None:
        self.config = config
        self.distributed = distributed
        self.stopping = False
        self.stopped_by_signal = False
        self._herder: WorkerHerder | None = None
        self._closers: list[ConfigStore | KafkaStatusStore | Membership] = []
        self.loggers = LogLevels()
        self.ops = Operations(WorkerHealth(), WorkerMetrics(version=__version__), self.loggers)
        self._levels_seen = 0
        self.worker_id: str | None = None  # the advertised REST address, once it listens

    @property
    def herder(self) -> WorkerHerder:
        assert self._herder is not None, "start() first"
        return self._herder

    def start(self) -> WorkerHerder:
        """Create internal topics, join the cluster (distributed); the herder, ready to serve.
        A Kafka client setting librdkafka refuses is the worker config's UserError."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            return self._start()
        except KafkaException as exc:
            refused = refused_setting(exc)
            if refused is None:
                raise
            raise UserError([Problem(f"a Kafka client setting is refused: {refused}",
                                     file=self.config.file)]) from None

    def _start(self) -> WorkerHerder:
        c = self.config
        producer, consumer, admin = c.client("producer"), c.client("consumer"), c.client("admin")
        log.info("worker starting", mode="distributed" if self.distributed else "standalone",
                 kafka=c.get("bootstrap.servers"), registry=c.optional("schema.registry.url"),
                 group_id=c.get("group.id"))
        self.ops.health.starting("Worker is still starting up: creating its internal topics.")
        rf = c.integer("internal.topics.replication.factor")
        slots = c.integer("cluster.slots")
        topics: TopicWanted = {
            **offset_store_topics(c),
            c.get("status.storage.topic"): (1, rf, COMPACT),
            c.get("config.storage.topic"): (1, rf, COMPACT)}
        if self.distributed:
            topics[c.get("slots.topic")] = (slots, rf, {})
        ensure_topics(admin, topics, reach_timeout_s=c.integer("bootstrap.timeout.ms") / 1000)
        self._check_registry()
        self.ops.health.starting("Worker is still starting up: joining the cluster and "
                                 "reading its configs.")
        statuses = KafkaStatusStore(CompactedLog(c.get("status.storage.topic"), producer,
                                                 consumer), tail=self.distributed)
        configs: ConfigStore = MemoryConfigStore()
        membership: Membership = StandaloneMembership(slots)
        if self.distributed:
            kafka_configs = KafkaConfigStore(CompactedLog(c.get("config.storage.topic"), producer,
                                                          consumer), on_level=self.loggers.set)
            configs = kafka_configs
            self.ops.cluster_level = kafka_configs.put_level
            membership = GroupMembership(
                c.get("slots.topic"), c.get("group.id"), consumer,
                c.integer("session.timeout.ms"), c.integer("heartbeat.interval.ms"), c.file)
        self._closers = [membership, configs, statuses]
        offsets = offset_store(c)
        host = c.optional("rest.host.name") or socket.gethostname()
        supervisor = TaskSupervisor(supervisor_settings(c), spawn, statuses.publish,
                                    worker_id=self.worker_id or f"{host}:{c.optional('rest.port')}",
                                    metrics=self.ops.metrics)
        context = HerderContext(
            worker_values=c.unresolved, worker_file=c.file, providers=c.providers,
            models_dir=c.models_dir(),
            functions=c.functions(), slots=slots, distributed=self.distributed,
            create_topics=lambda wanted: ensure_topics(admin, wanted),
            kafka_cluster_id=cluster_id(admin), confine_models=c.confines_models())
        self._herder = WorkerHerder(context, configs, statuses, offsets, supervisor, membership)
        return self._herder

    def _check_registry(self) -> None:
        """One line when the registry does not answer now (tasks retry it when they start)."""
        if "schema.registry.url" not in self.config.values:
            return
        with SchemaRegistry(self.config.registry()) as registry:
            problem = registry.unreachable()
            if problem is not None:
                log.error("schema registry not reachable; tasks that need it retry",
                          url=registry.url, error=problem)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info("stopping", signal=signal.Signals(signum).name)
        self.stopped_by_signal = True
        self.stopping = True

    def run(self, exit_when_finished: bool = False) -> int:
        """Run rounds until stopped (or, with exit_when_finished, until every connector ended).
        Exit code 1 when a connector FAILED and the run was not stopped by a signal."""
        herder = self.herder
        while not self.stopping:
            self.round(ROUND_S)
            if exit_when_finished and herder.all_ended():
                break
        if self.stopped_by_signal:
            return 0
        return 1 if herder.any_failed() else 0

    def round(self, timeout: float) -> None:
        """Configs, membership, then reports or requests (waiting at most `timeout`), then
        supervise and reconcile."""
        herder = self.herder
        herder.poll_stores()
        wait([herder.requests.waitable(), *herder.supervisor.waitables()], timeout)
        herder.requests.run_pending()
        herder.supervisor.poll()
        herder.reconcile()
        self._after_round(herder)

    def _after_round(self, herder: WorkerHerder) -> None:
        """Health (joined: the group gave this worker its slots), metrics, log levels."""
        health = self.ops.health
        if self.ops.health.phase is not Phase.RUNNING and not self.stopping \
                and herder.membership.owned_slots() is not None:
            health.running()
            log.info("worker ready", worker_id=herder.worker_id)
        health.round_done()
        self.ops.metrics.worker_round(herder.configs.snapshot(), herder.supervisor.states(),
                                      herder.membership.generation())
        if self.loggers.version != self._levels_seen:
            self._levels_seen = self.loggers.version
            herder.supervisor.set_log_levels(dict(self.loggers.overrides))

    def shutdown(self) -> None:
        """Refuse requests, stop every task (after its current transaction), leave the cluster.
        Safe to call at any point, and more than once."""
        self.stopping = True
        self.ops.health.stopping()
        if self._herder is not None:
            self._herder.requests.close()
            self._herder.supervisor.shutdown()
        for closer in self._closers:
            closer.close()
        self._closers = []
        log.info("worker stopped", pid=os.getpid())
