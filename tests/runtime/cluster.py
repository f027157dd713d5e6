"""Helpers for distributed-mode tests: worker processes with REST ports, and a small REST client."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import attrs

from tests.helpers import ROOT
from tests.runtime.harness import KafkaRun


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@attrs.define
class Rest:
    """A minimal client of the Kafka Connect REST API: (status, decoded JSON body)."""

    url: str

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            return exc.code, json.loads(raw) if raw else None

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, payload = self.call(method, path, body)
        assert 200 <= status < 300, (method, path, status, payload)
        return payload


@attrs.define
class ClusterWorker:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    rest: Rest

    @property
    def worker_id(self) -> str:
        return f"127.0.0.1:{self.port}"


def start_distributed(run: KafkaRun, name: str, **extra: str) -> ClusterWorker:
    """A `doge distributed` worker of the test's cluster, with its REST API answering."""
    port = free_port()
    settings = {"rest.port": str(port), "session.timeout.ms": "6000",
                "heartbeat.interval.ms": "1000", "slots.topic": f"{run.prefix}slots",
                "models.dir": str(run.tmp), **extra}
    log = open(run.tmp / f"worker-{name}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "connector", "distributed",
                             str(run.worker_file(**settings))], stdout=log,
                            stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    run.procs.append(proc)
    rest = Rest(f"http://127.0.0.1:{port}")
    wait_for(lambda: _answers(rest), 60, f"REST of worker {name}")
    return ClusterWorker(name, port, proc, rest)


def _answers(rest: Rest) -> bool:
    try:
        return rest.call("GET", "/")[0] == 200
    except OSError:
        return False


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str,
             describe: Callable[[], object] | None = None) -> float:
    """Poll `condition` until true; returns the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout_s:
            seen = f"; last seen: {describe()}" if describe is not None else ""
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}{seen}")
        time.sleep(0.25)
    return time.monotonic() - started


def task_states(rest: Rest, name: str) -> list[tuple[str, str]]:
    status = rest.ok("GET", f"/connectors/{name}/status")
    return [(t["state"], t["worker_id"]) for t in status["tasks"]]
