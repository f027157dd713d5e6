"""Distributed mode: workers share tasks through Kafka's group protocol; output stays exact."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.runtime.cluster import ClusterWorker, start_distributed, task_states, wait_for
from tests.runtime.harness import KafkaRun, assert_exact, reference
from tests.runtime.reading import partition_counts, read_all

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _connector(run: KafkaRun, tasks_max: int = 6, shards: int = 12, ticks: int = 2400
               ) -> dict[str, object]:
    # Paced (1 simulated hour per second) so that the run spans the test's events.
    return run.connector(tasks_max=tasks_max, shards=shards, users=12000, ticks=ticks, pace=3600)


def _finish_and_check(run: KafkaRun, rest_worker: object, connector: dict[str, object]) -> None:
    assert isinstance(rest_worker, ClusterWorker)
    name = str(connector["name"])
    wait_for(lambda: rest_worker.rest.ok("GET", f"/connectors/{name}/status")["connector"]
             ["state"] == "FINISHED", 240, "the connector to finish")
    topics = run.topics(connector)
    counts = partition_counts(run.bootstrap, topics)
    assert_exact(read_all(run.bootstrap, topics), reference(connector, run.tmp, counts))


def test_failover_and_scale_out(kafka_run: KafkaRun) -> None:
    """Kill one of 3 workers: its tasks resume elsewhere; a 4th worker gets tasks; output exact."""
    workers = [start_distributed(kafka_run, f"w{i}") for i in range(3)]
    connector = _connector(kafka_run)
    name = str(connector["name"])
    workers[0].rest.ok("POST", "/connectors", connector)
    wait_for(lambda: {w for s, w in task_states(workers[1].rest, name) if s == "RUNNING"}
             == {w.worker_id for w in workers}, 90, "6 tasks running on all 3 workers")
    victim = workers[1]
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait()
    handover = wait_for(lambda: all(s == "RUNNING" and w != victim.worker_id
                                    for s, w in task_states(workers[0].rest, name)),
                        60, "the killed worker's tasks to run elsewhere")
    print(f"hand-over after kill -9: {handover:.1f}s")
    fourth = start_distributed(kafka_run, "w3")
    wait_for(lambda: any(w == fourth.worker_id and s == "RUNNING"
                         for s, w in task_states(fourth.rest, name)), 60,
             "a task to move to the new worker")
    _finish_and_check(kafka_run, fourth, connector)


def test_paused_worker_cannot_commit(kafka_run: KafkaRun) -> None:
    """A worker frozen past the session timeout loses its tasks and cannot commit after waking."""
    a, b = (start_distributed(kafka_run, f"w{i}") for i in range(2))
    connector = _connector(kafka_run, tasks_max=4, shards=8)
    name = str(connector["name"])
    a.rest.ok("POST", "/connectors", connector)
    wait_for(lambda: {w for s, w in task_states(b.rest, name) if s == "RUNNING"}
             == {a.worker_id, b.worker_id}, 90, "tasks running on both workers")
    wait_for(lambda: len(_ticks(b, name)) == 8 and min(_ticks(b, name).values()) > 5, 90,
             "every shard to commit under its first owner")
    # Freeze the worker and its task processes together, as a paused VM or container would.
    os.killpg(a.proc.pid, signal.SIGSTOP)
    try:
        frozen = _ticks(b, name)
        handover = wait_for(lambda: all(s == "RUNNING" and w == b.worker_id
                                        for s, w in task_states(b.rest, name)), 60,
                            "every task to move to the live worker")
        print(f"hand-over from a frozen worker: {handover:.1f}s")
        # Every shard committing again means the new owners fenced the frozen tasks' ids.
        wait_for(lambda: all(tick > frozen.get(shard, -1)
                             for shard, tick in _ticks(b, name).items()), 60,
                 "every shard to commit under its new owner", lambda: _ticks(b, name))
    finally:
        os.killpg(a.proc.pid, signal.SIGCONT)
    _finish_and_check(kafka_run, b, connector)
    # Woken, the frozen tasks tried to go on: the new owners had fenced them.
    log = (kafka_run.tmp / "worker-w0.log").read_text(errors="replace")
    assert "task fenced by a newer owner" in log


def _ticks(worker: ClusterWorker, name: str) -> dict[int, int]:
    """Committed next tick per shard."""
    offsets = worker.rest.ok("GET", f"/connectors/{name}/offsets")["offsets"]
    return {o["partition"]["shard"]: o["offset"]["next_tick"] for o in offsets}


def test_lifecycle_over_rest(kafka_run: KafkaRun) -> None:
    """Pause, resume, stop, restart, reconfigure tasks.max and delete do what Connect's do."""
    a, b = (start_distributed(kafka_run, f"w{i}") for i in range(2))
    connector = _connector(kafka_run, tasks_max=4, shards=8, ticks=1800)
    name = str(connector["name"])
    assert a.rest.call("POST", "/connectors", connector)[0] == 201
    assert a.rest.call("POST", "/connectors", connector)[0] == 409
    wait_for(lambda: all(s == "RUNNING" for s, _ in task_states(b.rest, name)), 90, "running")

    b.rest.ok("PUT", f"/connectors/{name}/pause")
    wait_for(lambda: all(s == "PAUSED" for s, _ in task_states(a.rest, name)), 60, "paused")
    # Tasks finish the transaction they are in, then stop: wait for offsets to settle.
    settled: list[object] = [None]

    def offsets_settled() -> bool:
        now = a.rest.ok("GET", f"/connectors/{name}/offsets")
        same, settled[0] = bool(now == settled[0]), now
        return same

    wait_for(offsets_settled, 30, "offsets to stop moving")
    before = settled[0]
    time.sleep(3)
    assert a.rest.ok("GET", f"/connectors/{name}/offsets") == before  # nothing moves when paused

    a.rest.ok("PUT", f"/connectors/{name}/resume")
    wait_for(lambda: a.rest.ok("GET", f"/connectors/{name}/offsets") != before, 60,
             "offsets to advance after resume")

    # Reconfiguring tasks.max keeps the output identical (old generation fenced first).
    config = dict(a.rest.ok("GET", f"/connectors/{name}/config"))
    config["tasks.max"] = "3"
    status, info = b.rest.call("PUT", f"/connectors/{name}/config", config)
    assert status == 200 and len(info["tasks"]) == 3
    # A change of the output's identity is refused while offsets exist.
    assert b.rest.call("PUT", f"/connectors/{name}/config", {**config, "seed": "99"})[0] == 409

    b.rest.ok("PUT", f"/connectors/{name}/stop")
    wait_for(lambda: all(s == "STOPPED" for s, _ in task_states(a.rest, name)), 60, "stopped",
             lambda: (a.rest.ok("GET", f"/connectors/{name}/status"),
                      b.rest.ok("GET", f"/connectors/{name}/status")))
    a.rest.ok("PUT", f"/connectors/{name}/resume")
    assert a.rest.call("POST", f"/connectors/{name}/tasks/0/restart")[0] == 204
    status, body = a.rest.call("POST", f"/connectors/{name}/restart?includeTasks=true")
    assert status == 202 and body["name"] == name
    _finish_and_check(kafka_run, a, connector)

    assert b.rest.call("DELETE", f"/connectors/{name}")[0] == 204
    wait_for(lambda: a.rest.call("GET", f"/connectors/{name}")[0] == 404, 30, "deleted")
    assert name not in a.rest.ok("GET", "/connectors")
