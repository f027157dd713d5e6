"""SIGTERM and SIGINT stop a worker cleanly in both modes, mid-run or idle: exit 0, no
traceback, every task UNASSIGNED, and the log is JSON lines only (librdkafka's too)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.runtime.cluster import start_distributed, task_states, wait_for
from tests.runtime.harness import KafkaRun
from tests.runtime.reading import read_all

pytestmark = pytest.mark.integration
GRACE_S = 60


def _assert_clean(run: KafkaRun, log: Path, code: int | None) -> None:
    text = log.read_text(errors="replace")
    assert code == 0, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    for line in text.splitlines():
        assert isinstance(json.loads(line), dict), line  # not a TTY: JSON lines only


def _statuses(run: KafkaRun, connector: str) -> dict[str, str]:
    """Each task's latest published state."""
    latest: dict[str, str] = {}
    for r in read_all(run.bootstrap, [f"{run.prefix}status"]):
        key = r.key.decode()
        if key.startswith(f"status-task-{connector}-") and r.value:
            latest[key] = json.loads(r.value)["state"]
    return latest


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_standalone_worker_stops_cleanly_mid_run(kafka_run: KafkaRun,
                                                 how: signal.Signals) -> None:
    """A standalone worker stopped mid-run exits 0; its tasks end UNASSIGNED."""
    connector = kafka_run.connector(tasks_max=2, ticks=100_000, pace=600)
    kafka_run.create_topics(connector)
    proc = kafka_run.start_worker(connector, exit_when_finished=False)
    wait_for(lambda: len(kafka_run.committed_offsets()) >= 8, 90, "commits of every shard")
    proc.send_signal(how)
    code = proc.wait(GRACE_S)
    _assert_clean(kafka_run, kafka_run.log_files[proc.pid], code)
    assert set(_statuses(kafka_run, str(connector["name"])).values()) == {"UNASSIGNED"}


def test_idle_standalone_worker_stops_cleanly(kafka_run: KafkaRun) -> None:
    """A standalone worker with no connector exits 0 on SIGTERM."""
    log = kafka_run.tmp / "idle.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "connector", "worker",
                                 str(kafka_run.worker_file())], stdout=out,
                                stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
    kafka_run.procs.append(proc)
    wait_for(lambda: "REST API listening" in log.read_text(errors="replace"), 60, "REST")
    proc.send_signal(signal.SIGTERM)
    _assert_clean(kafka_run, log, proc.wait(GRACE_S))


@pytest.mark.parametrize("busy", [True, False], ids=["mid-run", "idle"])
def test_distributed_worker_stops_cleanly(kafka_run: KafkaRun, busy: bool) -> None:
    """A distributed worker exits 0 on SIGTERM, idle or running tasks (UNASSIGNED after)."""
    worker = start_distributed(kafka_run, "w0")
    connector = kafka_run.connector(tasks_max=2, ticks=100_000, pace=600)
    name = str(connector["name"])
    if busy:
        worker.rest.ok("POST", "/connectors", connector)
        wait_for(lambda: [s for s, _ in task_states(worker.rest, name)] == ["RUNNING"] * 2,
                 90, "both tasks running")
        wait_for(lambda: len(kafka_run.committed_offsets()) >= 8, 90, "commits of every shard")
    worker.proc.send_signal(signal.SIGTERM)
    _assert_clean(kafka_run, kafka_run.tmp / "worker-w0.log", worker.proc.wait(GRACE_S))
    if busy:
        assert set(_statuses(kafka_run, name).values()) == {"UNASSIGNED"}
