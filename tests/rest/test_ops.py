"""/health, /metrics and /admin/loggers on the REST server (in process, no broker)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from connector.rest import start_rest
from connector.rest.server import RestServer
from connector.runtime.health import WorkerHealth
from connector.runtime.loggers import LogLevels
from connector.runtime.metrics import WorkerMetrics
from connector.runtime.operations import Operations
from tests.rest.memory_herder import MemoryHerder


@pytest.fixture
def ops() -> Operations:
    return Operations(WorkerHealth(), WorkerMetrics("w:1", "0.1"), LogLevels())


@pytest.fixture
def server(ops: Operations) -> Iterator[RestServer]:
    with start_rest(None, port=0, basic_auth="admin:s3cret", ops=ops) as server:
        yield server


def test_health_is_503_while_starting_then_200(server: RestServer, ops: Operations) -> None:
    """KIP-1017: 503 with a reason until the worker joined, then 200; no credentials needed
    for it, and Connect's API answers 503 until the herder is attached."""
    answer = httpx.get(f"{server.url}/health")
    assert answer.status_code == 503 and answer.json()["status"] == "starting"
    assert httpx.get(f"{server.url}/connectors", auth=("admin", "s3cret")).status_code == 503
    ops.health.running()
    server.attach(MemoryHerder())
    answer = httpx.get(f"{server.url}/health")
    assert answer.status_code == 200 and answer.json()["status"] == "healthy"
    assert httpx.get(f"{server.url}/connectors", auth=("admin", "s3cret")).json() == []
    ops.health.stopping()
    assert httpx.get(f"{server.url}/health").status_code == 503


def test_a_stalled_loop_is_unhealthy() -> None:
    """A worker whose loop has not run a round for STALL_S answers 500."""
    now = [0.0]
    health = WorkerHealth(clock=lambda: now[0])
    health.running()
    now[0] = 31.0
    assert health.answer().status == 500


def test_metrics_are_prometheus_text_behind_credentials(server: RestServer,
                                                        ops: Operations) -> None:
    """GET /metrics answers Prometheus' text format, and needs the REST credentials."""
    assert httpx.get(f"{server.url}/metrics").status_code == 401
    answer = httpx.get(f"{server.url}/metrics", auth=("admin", "s3cret"))
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    names = {f.name for f in text_string_to_metric_families(answer.text)}
    assert {"doge_worker_info", "doge_worker_connector_count", "doge_worker_rebalances"} <= names


def test_loggers_get_and_put(server: RestServer) -> None:
    """Connect's shapes: PUT sets a logger and its descendants with levels and lists them;
    GET shows level and last_modified; an unknown logger is 404, a bad level 400."""
    auth = ("admin", "s3cret")
    logging.getLogger("connector.optest.child").setLevel(logging.ERROR)
    answer = httpx.put(f"{server.url}/admin/loggers/connector.optest", json={"level": "DEBUG"},
                       auth=auth)
    assert answer.status_code == 200
    assert answer.json() == ["connector.optest", "connector.optest.child"]
    assert logging.getLogger("connector.optest.child").level == logging.DEBUG
    one = httpx.get(f"{server.url}/admin/loggers/connector.optest", auth=auth).json()
    assert one["level"] == "DEBUG" and isinstance(one["last_modified"], int)
    everything = httpx.get(f"{server.url}/admin/loggers", auth=auth).json()
    assert everything["connector.optest.child"]["level"] == "DEBUG" and "root" in everything
    assert httpx.get(f"{server.url}/admin/loggers/no.such.logger.x",
                     auth=auth).status_code == 404
    module = httpx.get(f"{server.url}/admin/loggers/connector.runtime.loggers", auth=auth)
    assert module.status_code == 200  # a loaded module's logger, before its first line
    bad = httpx.put(f"{server.url}/admin/loggers/connector.optest", json={"level": "LOUD"},
                    auth=auth)
    assert bad.status_code == 400 and "Invalid log level" in bad.json()["message"]
    scope = httpx.put(f"{server.url}/admin/loggers/x?scope=galaxy", json={"level": "INFO"},
                      auth=auth)
    assert scope.status_code == 400
    # standalone: cluster scope is this worker's (there is no config topic to go through)
    assert httpx.put(f"{server.url}/admin/loggers/connector.optest?scope=cluster",
                     json={"level": "WARN"}, auth=auth).status_code == 200
