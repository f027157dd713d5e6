"""The REST contract tests again, against a real standalone worker (`doge worker`) on Kafka.

Same tests as test_contract.py; only `rest_target` differs: a worker process with the REST API
on a free port, connectors that run forever at 60x speed, and offsets awaited from Kafka.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import ROOT
from tests.rest.support import RestTarget, stop_process
from tests.rest.test_contract import *  # noqa: F403  (the contract tests, collected here again)
from tests.runtime.cluster import free_port
from tests.runtime.harness import KafkaRun

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str, registry_url: str
           ) -> Iterator[tuple[str, KafkaRun]]:
    """One standalone worker for the module, serving REST on a free port."""
    tmp = tmp_path_factory.mktemp("rest-worker")
    run = KafkaRun(tmp, kafka_bootstrap, registry_url)
    port = free_port()
    log_path = tmp / "worker.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "connector", "worker",
             # No restarts: one kill -9 of a task marks it FAILED (fail_task below).
             str(run.worker_file(**{"rest.port": str(port), "models.dir": str(tmp),
                                    "task.restart.max.attempts": "0"}))],
            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_rest(url, proc, log_path)
        yield url, run
    finally:
        stop_process(proc)


def _wait_for_rest(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if httpx.get(url + "/", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"the worker's REST API did not answer; log:\n"
                         f"{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def rest_target(worker: tuple[str, KafkaRun]) -> RestTarget:
    url, run = worker
    prefix = f"t{uuid.uuid4().hex[:8]}-"  # topics of their own for each test's connectors

    def valid() -> dict[str, Any]:
        config: dict[str, Any] = run.connector(users=400, shards=4, tasks_max=2,
                                               pace=60)["config"]
        config.pop("ticks")  # runs until stopped, so that states do not turn FINISHED
        return {**config, "topic.prefix": prefix}

    def invalid() -> dict[str, Any]:
        return {**valid(), "bogus.key": "1"}

    def commit(name: str) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            offsets = httpx.get(f"{url}/connectors/{name}/offsets", timeout=30).json()["offsets"]
            if offsets and all(o["offset"]["next_tick"] > 5 for o in offsets):
                return
            time.sleep(0.5)
        raise AssertionError(f"connector {name} committed no offsets in 90s")

    def fail_task(name: str, task: int) -> None:
        """kill -9 the task's process; with no restarts allowed the worker marks it FAILED."""
        deadline = time.monotonic() + 90
        pid = None
        while pid is None and time.monotonic() < deadline:
            pid = run.task_pid(name, task)
            time.sleep(0.2)
        assert pid is not None, f"task {task} of {name} never started"
        os.kill(pid, signal.SIGKILL)
        while time.monotonic() < deadline:
            status = httpx.get(f"{url}/connectors/{name}/tasks/{task}/status", timeout=30)
            if status.json()["state"] == "FAILED":
                return
            time.sleep(0.2)
        raise AssertionError(f"task {task} of {name} did not turn FAILED")

    return RestTarget(url, valid, invalid, commit=commit, fail_task=fail_task, settle_s=60)

