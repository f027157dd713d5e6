"""Chaos: kill -9 of the worker or of single task processes at random moments, output exact.

Every run is compared record for record with the uninterrupted reference, and the tests also
read the topics read_uncommitted, so they show how many transactions the kills cut open (records
a read_committed consumer must never see).
"""

from __future__ import annotations

import functools
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter, defaultdict
from typing import Any

import pytest
from confluent_kafka import Producer

from connector.kafka.log import read_latest
from connector.kafka.topics import ensure_topics
from tests.runtime.cluster import wait_for
from tests.runtime.harness import KafkaRun, assert_exact, reference, task_pids
from tests.runtime.reading import ReadRecord, aborted, partition_counts, read_all

pytestmark = pytest.mark.integration

START_MS = 1_704_067_200_000  # start.time of the harness's connector
TICK_MS = 60_000
TASKS, SHARDS = 4, 8


def _phase(events: list[dict[str, Any]]) -> str:
    """Where a worker was when it was killed, from its log."""
    spawned = {e["task"] for e in events if e.get("event") == "task process started"}
    resumed = {e["task"] for e in events if e.get("event") == "task started"}
    if not spawned:
        return "worker start-up"
    if len(resumed) < TASKS:
        return "task start-up (fence, read offsets, restore, replay)"
    return "producing and committing"


def _producing(run: KafkaRun, proc: subprocess.Popen[bytes]) -> bool:
    return _phase(run.events(proc)) == "producing and committing"


def _aborted_transactions(lost: list[ReadRecord]) -> dict[int, int]:
    """Per task, how many aborted attempts of a tick the lost records prove (at least).

    A transaction holds whole ticks of one task (the default boundary, interval: one tick or
    several); a tick produced again after an abort has the same bytes, so k aborted attempts
    of one tick show as k copies. A transaction of several ticks counts once per tick.
    """
    copies: dict[tuple[int, int], Counter[tuple[bytes, bytes]]] = defaultdict(Counter)
    for r in lost:
        user = int(r.key)
        task = (user % SHARDS) % TASKS  # user u lives in shard u % shards; shards round-robin
        copies[(task, (r.timestamp - START_MS) // TICK_MS)][(r.key, r.value)] += 1
    per_task: Counter[int] = Counter()
    for (task, _), counter in copies.items():
        per_task[task] += max(counter.values())
    return dict(per_task)


def _check(run: KafkaRun, connector: dict[str, Any]) -> dict[int, int]:
    topics = run.topics(connector)
    committed = read_all(run.bootstrap, topics)
    uncommitted = read_all(run.bootstrap, topics, isolation="read_uncommitted")
    per_task = _aborted_transactions(aborted(committed, uncommitted))
    print(f"records: {len(committed)} committed, {len(uncommitted)} incl. aborted; "
          f"aborted tick attempts per task: {per_task}")
    assert_exact(committed, reference(connector, run.tmp, partition_counts(run.bootstrap, topics)))
    return per_task


def test_offsets_behind_an_open_transaction(kafka_run: KafkaRun) -> None:
    """A resuming task sees every offset its predecessor committed, even past an open transaction.

    The situation worker kill -9 creates: task B's last commit lies after task A's transaction,
    which stays open until A's replacement fences it; B's replacement must not resume from an
    older offset (it would produce those ticks twice).
    """
    topic = f"{kafka_run.prefix}offsets-open"
    conf = {"bootstrap.servers": kafka_run.bootstrap}
    ensure_topics(conf, {topic: (1, -1, {"cleanup.policy": "compact"})})
    b = Producer({**conf, "transactional.id": f"{topic}-b"})
    a = Producer({**conf, "transactional.id": f"{topic}-a"})
    for producer in (a, b):
        producer.init_transactions(30)
    b.begin_transaction()
    b.produce(topic, b"1", b"c/shard/1")
    b.commit_transaction(30)
    a.begin_transaction()
    a.produce(topic, b"1", b"c/shard/0")
    a.flush(30)  # A's transaction is open on the partition, like a task killed mid-commit
    b.begin_transaction()
    b.produce(topic, b"2", b"c/shard/1")
    b.commit_transaction(30)
    # Only what is stable now: B's second commit is hidden behind A's open transaction.
    assert read_latest(conf, topic, b"c/") == {b"c/shard/1": b"1"}
    # A's replacement fences it a little later; a complete read waits for that.
    fence = threading.Timer(1.0, lambda: Producer(
        {**conf, "transactional.id": f"{topic}-a"}).init_transactions(30))
    fence.start()
    try:
        assert read_latest(conf, topic, b"c/", timeout_s=30, complete=True) == {b"c/shard/1": b"2"}
    finally:
        fence.join()


@pytest.mark.slow
def test_worker_kill_9_chaos(kafka_run: KafkaRun) -> None:
    """kill -9 of the whole worker 20 times at random moments loses and duplicates nothing."""
    # At most 100 ticks/s (pace), so that the run outlasts the 20 kills on a fast machine too.
    connector = kafka_run.connector(tasks_max=TASKS, shards=SHARDS, ticks=2000, pace=6000,
                                    snapshot_interval_ticks=200)
    kafka_run.create_topics(connector)
    rng = random.Random(20241123)
    phases: Counter[str] = Counter()
    started = time.monotonic()
    kills = 20
    for i in range(kills):
        proc = kafka_run.start_worker(connector)
        born = time.monotonic()
        if i % 2 == 0:  # any moment of the first 4 s: start-up, fencing, replay or commits
            time.sleep(rng.uniform(0.5, 4.0))
        else:  # a moment while every task commits, so that transactions are cut open
            wait_for(functools.partial(_producing, kafka_run, proc), 90, "every task to resume")
            time.sleep(rng.uniform(0.0, 1.0))
        assert proc.poll() is None, f"worker ended before kill {i + 1}: {kafka_run.logs()}"
        phase = _phase(kafka_run.events(proc))
        phases[phase] += 1
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        print(f"kill {i + 1}: after {time.monotonic() - born:.1f}s, during {phase}")
    print(f"{kills} kills in {time.monotonic() - started:.0f}s: {dict(phases)}")
    final = kafka_run.start_worker(connector)
    assert final.wait(240) == 0, kafka_run.logs()
    print("final run resumed at ticks", sorted(e["resume_tick"] for e in kafka_run.events(final)
                                             if e.get("event") == "task started"))
    per_task = _check(kafka_run, connector)
    # Each kill cuts at most one open transaction per task: this many kills hit a transaction.
    print(f"kills that cut a transaction open: at least {max(per_task.values(), default=0)}")
    assert sum(per_task.values()) > 0, "no kill cut a transaction open: the test proved nothing"
    assert phases["producing and committing"] >= kills // 2


@pytest.mark.slow
def test_task_kill_9_chaos(kafka_run: KafkaRun) -> None:
    """kill -9 of single task processes, 12 times, is healed by the worker's restarts, exactly."""
    # At most 100 ticks/s (pace), so that the run outlasts the kills on a fast machine too.
    connector = kafka_run.connector(tasks_max=TASKS, shards=SHARDS, ticks=2500, pace=6000,
                                    snapshot_interval_ticks=200)
    kafka_run.create_topics(connector)
    # Up to 12 kills may hit one task before it reports progress again: no FAILED from bad luck.
    kafka_run.worker_extra["task.restart.max.attempts"] = "12"
    proc = kafka_run.start_worker(connector)
    rng = random.Random(7)
    killed: list[int] = []
    started = time.monotonic()
    while len(killed) < 12:
        time.sleep(rng.uniform(0.3, 2.5))
        assert proc.poll() is None, f"worker ended after {len(killed)} kills: {kafka_run.logs()}"
        pids = [p for p in task_pids(proc.pid) if p not in killed]
        if pids:
            victim = rng.choice(pids)
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
    print(f"{len(killed)} task kills in {time.monotonic() - started:.0f}s")
    assert proc.wait(240) == 0, kafka_run.logs()
    events = kafka_run.events(proc)
    restarts = [e for e in events if e.get("event") == "task ended unexpectedly; restarting"]
    assert len(restarts) == len(killed), [e.get("exit_code") for e in restarts]
    assert {e["exit_code"] for e in restarts} == {-signal.SIGKILL}
    per_task = _check(kafka_run, connector)
    print(f"kills that cut a transaction open: at least {sum(per_task.values())}")
