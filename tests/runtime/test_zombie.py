"""Fencing: a frozen task is replaced and cannot commit once it wakes up; tasks.max may change."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import datetime
from typing import Any

import pytest

from tests.runtime.cluster import wait_for
from tests.runtime.harness import KafkaRun, assert_exact, is_running, reference
from tests.runtime.reading import partition_counts, read_all

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _at(event: dict[str, Any]) -> float:
    """An event's wall time (epoch seconds) from its ISO timestamp."""
    return datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00")).timestamp()


def _started(run: KafkaRun, proc: subprocess.Popen[bytes], task: int) -> list[dict[str, Any]]:
    """The "task started" events (resume done) of `task` under worker `proc`."""
    return [e for e in run.events(proc) if e.get("event") == "task started" and e["task"] == task]


def _exact(run: KafkaRun, connector: dict[str, Any]) -> None:
    topics = run.topics(connector)
    assert_exact(read_all(run.bootstrap, topics),
                 reference(connector, run.tmp, partition_counts(run.bootstrap, topics)))


def test_frozen_task_is_fenced(kafka_run: KafkaRun) -> None:
    """A task frozen past task.hang.timeout.ms is replaced and fenced: woken, it cannot commit."""
    # Paced at 100 ticks/s so that the run outlasts the freeze and the hand-over.
    connector = kafka_run.connector(tasks_max=2, ticks=1200, pace=6000)
    kafka_run.create_topics(connector)
    kafka_run.worker_extra["task.hang.timeout.ms"] = "4000"
    proc = kafka_run.start_worker(connector)
    txn_id = f"g{kafka_run.uid}-c{kafka_run.uid}-2-0"  # task 0 of 2 owns shards 0, 2, 4, 6
    wait_for(lambda: len([o for o in kafka_run.committed_offsets()
                          if o["task"] == txn_id and o["shard"] == 0]) >= 5,
             60, "task 0 to commit 5 ticks")
    zombie = kafka_run.task_pid(f"c{kafka_run.uid}", 0)
    assert zombie is not None
    os.kill(zombie, signal.SIGSTOP)
    frozen_at = time.time()
    try:
        wait_for(lambda: any(e["pid"] != zombie for e in _started(kafka_run, proc, 0)), 60,
                 "a replacement of the frozen task to resume")
    finally:
        os.kill(zombie, signal.SIGCONT)
    woken_at = time.time()
    events = kafka_run.events(proc)
    replaced = [e for e in events if e.get("event") == "task unresponsive; starting a replacement"]
    assert [e["pid"] for e in replaced] == [zombie], replaced
    resumed = next(e for e in _started(kafka_run, proc, 0) if e["pid"] != zombie)
    print(f"frozen -> replacement detected {_at(replaced[0]) - frozen_at:.1f}s, "
          f"replacement resumed at tick {resumed['resume_tick']} "
          f"{_at(resumed) - frozen_at:.1f}s after the freeze")
    wait_for(lambda: not is_running(zombie), 60, "the woken zombie to exit")
    print(f"zombie exited {time.time() - woken_at:.1f}s after SIGCONT")
    assert proc.wait(120) == 0, kafka_run.logs()
    zombie_events = [e for e in kafka_run.events(proc) if e.get("pid") == zombie]
    assert any(e.get("event") == "task fenced by a newer owner" for e in zombie_events), \
        zombie_events[-5:]
    assert not any(e.get("event") == "task ended" for e in zombie_events), zombie_events[-5:]
    _exact(kafka_run, connector)


def test_tasks_max_change(kafka_run: KafkaRun) -> None:
    """The output does not depend on tasks.max, even when it changes mid-run (4, then 2, then 3)."""
    generations: list[tuple[int, int]] = []  # (tasks.max, how that run ended)
    kafka_run.create_topics(kafka_run.connector())

    def run_until_stopped(tasks_max: int, how: signal.Signals) -> None:
        connector = kafka_run.connector(tasks_max=tasks_max, ticks=1000, pace=6000)
        proc = kafka_run.start_worker(connector)
        wait_for(lambda: len({e["task"] for e in kafka_run.events(proc)
                              if e.get("event") == "task started"}) == tasks_max,
                 60, f"{tasks_max} tasks to resume")
        time.sleep(2.0)
        assert proc.poll() is None, kafka_run.logs()
        proc.send_signal(how)
        code = proc.wait(60)
        generations.append((tasks_max, code))
        ticks = {o["shard"]: o["next_tick"] for o in kafka_run.committed_offsets()}
        print(f"tasks.max={tasks_max} stopped by {how.name} (exit {code}): next ticks {ticks}")

    run_until_stopped(4, signal.SIGTERM)
    assert generations[-1][1] == 0
    first = {o["shard"]: o["next_tick"] for o in kafka_run.committed_offsets()}
    assert len(first) == 8 and min(first.values()) > 0
    run_until_stopped(2, signal.SIGKILL)  # leaves transactions of generation 2 open
    second = {o["shard"]: o["next_tick"] for o in kafka_run.committed_offsets()}
    assert all(second[s] > first[s] for s in first), (first, second)
    connector = kafka_run.connector(tasks_max=3, ticks=1000, pace=6000)
    final = kafka_run.start_worker(connector)
    assert final.wait(120) == 0, kafka_run.logs()
    fenced = {e["transactional_id"] for e in kafka_run.events(final)
              if e.get("event") == "fenced older generation"}
    prefix = f"g{kafka_run.uid}-c{kafka_run.uid}"
    assert {f"{prefix}-2-0", f"{prefix}-2-1"} <= fenced, fenced
    _exact(kafka_run, connector)
