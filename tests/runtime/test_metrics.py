"""The counters behind /metrics: durable output only, deltas that survive task restarts."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from connector.runtime.metrics import WorkerMetrics
from connector.runtime.status import State, TaskReport
from connector.runtime.task_metrics import Tally, TallySnapshot, TaskCounters


def samples(metrics: WorkerMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.exposition().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_records_count_once_their_transaction_is_durable() -> None:
    """A transaction's records count when the next commit (or the final flush) returns; an
    abort drops the open and in-flight ones (they are produced again)."""
    tally = Tally()
    tally.staged("loan", 5)
    tally.tick_done()
    tally.committing(0.01)  # transaction 1 in flight
    assert tally.records["loan"] == 0 and tally.open
    tally.staged("loan", 3)
    tally.committing(0.02)  # 1 durable, 2 in flight
    assert tally.records["loan"] == 5 and tally.ticks == 1 and tally.transactions == 1
    tally.staged("loan", 100)
    tally.aborted()  # 2 and the open one are gone
    tally.durable()
    assert tally.records["loan"] == 5 and tally.aborts == 1 and not tally.open
    assert sum(tally.commit_seconds.counts) == 2 and sum(tally.transaction_records.counts) == 1


def test_deltas_add_up_across_a_restarted_task() -> None:
    """Reports carry differences; the worker's sums keep growing when a new process starts
    from zero."""
    metrics = WorkerMetrics("w:1", "0")
    for _process in range(2):
        tally, sent = Tally(), TallySnapshot()
        for n in (4, 6):
            tally.staged("loan", n)
            tally.tick_done()
            tally.committing(0.001)
            tally.durable()
            counters = sent.delta(tally, {"loan": "t-loan"}, 0, 10, tally.open)
            metrics.report(("c", 0), TaskReport(0, State.RUNNING, 1, counters=counters))
    metrics.worker_round(["c"], {("c", 0): State.RUNNING}, 0)
    got = samples(metrics)
    task = (("connector", "c"), ("task", "0"))
    assert got[("doge_source_records_total", (*task, ("topic", "t-loan")))] == 20
    assert got[("doge_ticks_committed_total", task)] == 4
    assert got[("doge_transactions_committed_total", task)] == 4
    assert got[("doge_commit_latency_seconds_count", task)] == 4
    assert got[("doge_transaction_records_sum", task)] == 20
    assert got[("doge_task_state", tuple(sorted((*task, ("state", "RUNNING")))))] == 1
    assert got[("doge_worker_task_count", ())] == 1


def test_a_task_killed_inside_a_transaction_counts_an_abort() -> None:
    """A process that dies (not a clean exit) while its last report said a transaction was
    open leaves that transaction to be aborted: counted; a clean exit is not."""
    metrics = WorkerMetrics()
    tally = Tally()
    tally.staged("loan", 1)
    tally.tick_done()
    counters = TallySnapshot().delta(tally, {}, 0, None, tally.open)
    metrics.report(("c", 1), TaskReport(1, State.RUNNING, 1, counters=counters))
    metrics.exited(("c", 1), clean=False)
    metrics.exited(("c", 1), clean=False)  # no transaction open any more
    metrics.restarted(("c", 1))
    metrics.worker_round(["c"], {("c", 1): State.RESTARTING}, 0)
    task = (("connector", "c"), ("task", "1"))
    got = samples(metrics)
    assert got[("doge_transactions_aborted_total", task)] == 1
    assert got[("doge_task_restarts_total", task)] == 1


def test_rebalances_and_deleted_connectors() -> None:
    """A new group generation is a rebalance, a new task set an assignment change; a deleted
    connector's series disappear."""
    metrics = WorkerMetrics()
    metrics.worker_round(["a"], {("a", 0): State.RUNNING}, 1)
    metrics.worker_round(["a"], {("a", 0): State.RUNNING, ("a", 1): State.RUNNING}, 2)
    metrics.worker_round([], {}, 2)
    got = samples(metrics)
    assert got[("doge_worker_rebalances_total", ())] == 1
    assert got[("doge_worker_assignment_changes_total", ())] == 3
    assert got[("doge_worker_connector_count", ())] == 0
    assert not any(name == "doge_task_state" for name, _ in got)


def test_rate_is_records_over_the_time_between_reports() -> None:
    """source-record-write-rate: a report's records per topic over the seconds since the
    previous report; a topic with nothing new goes to 0 while its total stays."""
    now = [100.0]
    metrics = WorkerMetrics(clock=lambda: now[0])
    key, task = ("c", 0), (("connector", "c"), ("task", "0"))

    def report(records: dict[str, int]) -> None:
        metrics.report(key, TaskReport(0, State.RUNNING, 1, counters=TaskCounters(records)))

    report({"t-a": 10})
    now[0] += 4.0
    report({"t-a": 40, "t-b": 8})
    got = samples(metrics)
    assert got[("doge_source_record_write_rate", (*task, ("topic", "t-a")))] == 10.0
    assert got[("doge_source_record_write_rate", (*task, ("topic", "t-b")))] == 2.0
    now[0] += 2.0
    report({"t-b": 6})
    got = samples(metrics)
    assert got[("doge_source_record_write_rate", (*task, ("topic", "t-a")))] == 0.0
    assert got[("doge_source_record_write_rate", (*task, ("topic", "t-b")))] == 3.0
    assert got[("doge_source_records_total", (*task, ("topic", "t-a")))] == 50


def test_gauges_follow_the_last_report() -> None:
    """Lag behind schedule, next tick and users alive are the latest report's values."""
    metrics = WorkerMetrics()
    key, task = ("c", 2), (("connector", "c"), ("task", "2"))
    for lag, tick, users in ((12.5, 10, 300), (0.25, 11, 310)):
        metrics.report(key, TaskReport(2, State.RUNNING, 1, next_tick=tick, lag_seconds=lag,
                                       counters=TaskCounters({}, users=users)))
    got = samples(metrics)
    assert got[("doge_task_lag_seconds", task)] == 0.25
    assert got[("doge_task_next_tick", task)] == 11
    assert got[("doge_task_users", task)] == 310
