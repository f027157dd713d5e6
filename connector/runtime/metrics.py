"""The worker's metrics in Prometheus' text format (`GET /metrics`), Kafka Connect's equivalents.

Fed only by what the worker already receives: each task report carries its counters' change
since the previous report (task_metrics.py), added up here per connector and task; the worker
loop passes what it knows of connectors, task states and rebalances once per round. A scrape
reads these sums under a lock; nothing is asked of the tasks. Each worker has its own registry
(not prometheus_client's global one), so several workers in one process (tests) never mix.
README "Operations" lists the metrics with the Connect metric each stands for.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

import attrs
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from connector.runtime.assignment import TaskKey
from connector.runtime.status import State, TaskReport
from connector.runtime.task_metrics import Histogram, Sums, TaskCounters

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TASK = ["connector", "task"]


@attrs.define
class TaskTotals(Sums):
    """One task's sums over every process that ran it on this worker, and its gauges."""

    records: Counter[str] = attrs.Factory(Counter)
    rates: dict[str, float] = attrs.Factory(dict)  # records/s per topic over the last report
    restarts: int = 0
    users: int = 0
    lag_seconds: float = 0.0
    next_tick: int = 0
    state: State = State.UNASSIGNED
    open_transaction: bool = False
    last_report: float | None = None

    def add(self, c: TaskCounters, now: float) -> None:
        self.records.update(c.records)
        if self.last_report is not None and now > self.last_report:
            span = now - self.last_report
            self.rates = {t: c.records.get(t, 0) / span for t in self.records}
        self.last_report = now
        self.ticks += c.ticks
        self.transactions += c.transactions
        self.aborts += c.aborts
        self.registry_retries += c.registry_retries
        for mine, theirs in ((self.commit_seconds, c.commit_seconds),
                             (self.transaction_records, c.transaction_records)):
            if theirs is not None:
                mine.add(theirs)
        self.step_seconds += c.step_seconds
        self.encode_seconds += c.encode_seconds
        if c.users is not None:
            self.users = c.users
        self.open_transaction = c.open_transaction


class WorkerMetrics:
    """The sums behind /metrics; a prometheus_client collector over them."""

    def __init__(self, worker_id: str = "", version: str = "",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.worker_id = worker_id
        self.clock = clock
        self.version = version
        self._lock = threading.Lock()
        self._tasks: dict[TaskKey, TaskTotals] = {}
        self._connectors = 0
        self._generation: int | None = None
        self.rebalances = 0
        self.assignment_changes = 0
        self._assigned: frozenset[TaskKey] = frozenset()
        self.registry = CollectorRegistry()
        self.registry.register(self)

    # -- fed by the supervisor and the worker loop ----------------------------------------------
    def report(self, key: TaskKey, report: TaskReport) -> None:
        with self._lock:
            totals = self._tasks.setdefault(key, TaskTotals())
            if report.counters is not None:
                totals.add(report.counters, self.clock())
            if report.lag_seconds is not None:
                totals.lag_seconds = report.lag_seconds
            if report.next_tick is not None:
                totals.next_tick = report.next_tick

    def exited(self, key: TaskKey, clean: bool) -> None:
        """A task process ended; one killed or crashed inside a transaction leaves it to be
        aborted (by its replacement's fencing, or the broker's timeout)."""
        with self._lock:
            totals = self._tasks.setdefault(key, TaskTotals())
            if not clean and totals.open_transaction:
                totals.aborts += 1
            totals.open_transaction = False

    def restarted(self, key: TaskKey) -> None:
        with self._lock:
            self._tasks.setdefault(key, TaskTotals()).restarts += 1

    def worker_round(self, connectors: Iterable[str], states: dict[TaskKey, State],
                     generation: int) -> None:
        """What the loop knows after a round: the connectors, its tasks' states, the group."""
        names = set(connectors)
        assigned = frozenset(k for k, s in states.items() if s is not State.UNASSIGNED)
        with self._lock:
            self._connectors = len(names)
            for key in [k for k in self._tasks if k[0] not in names]:
                del self._tasks[key]  # a deleted connector's series go with it
            for key, totals in self._tasks.items():
                totals.state = states.get(key, State.UNASSIGNED)
            for key, state in states.items():
                if key[0] in names:
                    self._tasks.setdefault(key, TaskTotals()).state = state
            if self._generation is not None and generation != self._generation:
                self.rebalances += 1
            self._generation = generation
            if assigned != self._assigned:
                self.assignment_changes += 1
                self._assigned = assigned

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    # -- the collector --------------------------------------------------------------------------
    def collect(self) -> Iterator[Metric]:
        with self._lock:
            tasks = {k: attrs.evolve(v, records=Counter(v.records), rates=dict(v.rates),
                                     commit_seconds=v.commit_seconds.copy(),
                                     transaction_records=v.transaction_records.copy())
                     for k, v in self._tasks.items()}
            connectors, rebalances, changes = \
                self._connectors, self.rebalances, self.assignment_changes
        yield from _worker_families(self, tasks, connectors, rebalances, changes)
        yield from _task_families(tasks)


def _worker_families(m: WorkerMetrics, tasks: dict[TaskKey, TaskTotals], connectors: int,
                     rebalances: int, changes: int) -> Iterator[Metric]:
    info = GaugeMetricFamily("doge_worker_info", "This worker (value 1).",
                             labels=["worker_id", "version"])
    info.add_metric([m.worker_id, m.version], 1)
    yield info
    yield GaugeMetricFamily("doge_worker_connector_count", "Connectors in the cluster "
                            "(Connect: connector-count).", value=connectors)
    yield GaugeMetricFamily("doge_worker_task_count", "Tasks this worker runs (Connect: "
                            "task-count).", value=sum(t.state is not State.UNASSIGNED
                                                     for t in tasks.values()))
    by_state = GaugeMetricFamily("doge_worker_tasks", "This worker's tasks by state (Connect: "
                                 "connector-running-task-count, ...).", labels=["state"])
    counts = Counter(t.state for t in tasks.values())
    for state in State:
        by_state.add_metric([state.value], counts.get(state, 0))
    yield by_state
    yield CounterMetricFamily("doge_worker_rebalances", "Group rebalances this worker took "
                              "part in (Connect: completed-rebalances-total).", value=rebalances)
    yield CounterMetricFamily("doge_worker_assignment_changes", "Changes of the set of tasks "
                              "this worker runs.", value=changes)


def _task_families(tasks: dict[TaskKey, TaskTotals]) -> Iterator[Metric]:
    def counter(name: str, doc: str, attr: str) -> CounterMetricFamily:
        family = CounterMetricFamily(name, doc, labels=TASK)
        for (c, t), v in sorted(tasks.items()):
            family.add_metric([c, str(t)], getattr(v, attr))
        return family

    def gauge(name: str, doc: str, attr: str) -> GaugeMetricFamily:
        family = GaugeMetricFamily(name, doc, labels=TASK)
        for (c, t), v in sorted(tasks.items()):
            family.add_metric([c, str(t)], getattr(v, attr))
        return family

    records = CounterMetricFamily("doge_source_records", "Records committed, per Kafka topic "
                                  "(Connect: source-record-write-total).",
                                  labels=[*TASK, "topic"])
    rate = GaugeMetricFamily("doge_source_record_write_rate", "Records committed per second "
                             "over the last report (Connect: source-record-write-rate).",
                             labels=[*TASK, "topic"])
    for (c, t), v in sorted(tasks.items()):
        for topic, n in sorted(v.records.items()):
            records.add_metric([c, str(t), topic], n)
            rate.add_metric([c, str(t), topic], v.rates.get(topic, 0.0))
    yield records
    yield rate
    yield counter("doge_ticks_committed", "Ticks committed (Connect: the offsets committed).",
                  "ticks")
    yield counter("doge_transactions_committed", "Transactions committed (KIP-618: "
                  "transaction-size-count).", "transactions")
    yield counter("doge_transactions_aborted", "Transactions aborted: broker errors recovered "
                  "in the task, and tasks killed inside a transaction.", "aborts")
    yield counter("doge_task_restarts", "Times the task's process was restarted.", "restarts")
    yield counter("doge_registry_retries", "Schema Registry requests retried.",
                  "registry_retries")
    yield counter("doge_engine_step_seconds", "Time the engine spent stepping users.",
                  "step_seconds")
    yield counter("doge_encode_seconds", "Time spent encoding records.", "encode_seconds")
    yield gauge("doge_task_lag_seconds", "How far the task is behind its schedule (pace).",
                "lag_seconds")
    yield gauge("doge_task_next_tick", "The next tick the task produces.", "next_tick")
    yield gauge("doge_task_users", "Users in the task's shards.", "users")
    state = GaugeMetricFamily("doge_task_state", "1 for the task's state (Connect: "
                              "connector-task status).", labels=[*TASK, "state"])
    for (c, t), v in sorted(tasks.items()):
        state.add_metric([c, str(t), v.state.value], 1)
    yield state
    yield _histogram("doge_commit_latency_seconds", "Time to commit a transaction (Connect: "
                     "offset-commit-avg-time-ms).", tasks, "commit_seconds")
    yield _histogram("doge_transaction_records", "Records per transaction (KIP-618: "
                     "transaction-size-avg).", tasks, "transaction_records")


def _histogram(name: str, doc: str, tasks: dict[TaskKey, TaskTotals], attr: str
               ) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=TASK)
    for (c, t), v in sorted(tasks.items()):
        h: Histogram = getattr(v, attr)
        running, buckets = 0, []
        for bound, n in zip([*h.bounds, float("inf")], h.counts, strict=True):
            running += n
            buckets.append(("+Inf" if bound == float("inf") else repr(float(bound)), running))
        family.add_metric([c, str(t)], buckets, h.total)
    return family
