"""Infrastructure failures: broker restart, registry down at start, an incompatible schema.

These stop and start the shared local broker or registry (scripts/kafka.sh, scripts/registry.sh)
and always leave them running, even when the test fails.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from typing import Any

import httpx
import pytest
from confluent_kafka import KafkaException

from connector.runtime.config import parse_connector
from connector.runtime.simulation import prepare
from tests.helpers import ROOT
from tests.runtime.cluster import wait_for
from tests.runtime.harness import KafkaRun, assert_exact, reference
from tests.runtime.reading import partition_counts, read_all

pytestmark = pytest.mark.integration


def _script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ROOT / "scripts" / name), *args], capture_output=True, text=True,
                          timeout=180, check=False)


def _ensure_running(name: str, *start_args: str) -> None:
    """Start the shared server again if it is not answering (the other tests need it)."""
    if _script(name, "status").returncode != 0:
        started = _script(name, "start", *start_args)
        assert started.returncode == 0, started.stderr[-2000:]


def _exact(run: KafkaRun, connector: dict[str, Any]) -> None:
    topics = run.topics(connector)
    assert_exact(read_all(run.bootstrap, topics),
                 reference(connector, run.tmp, partition_counts(run.bootstrap, topics)))


def _count(events: list[dict[str, Any]], name: str) -> int:
    return sum(1 for e in events if e.get("event") == name)


def _last_tick(run: KafkaRun) -> int:
    """The highest committed tick of any shard (-1 while the broker cannot answer yet)."""
    try:
        return max((o["next_tick"] for o in run.committed_offsets()), default=0)
    except KafkaException:  # e.g. NOT_LEADER_FOR_PARTITION just after a broker restart
        return -1


@pytest.mark.slow
def test_broker_restart_mid_run(kafka_run: KafkaRun) -> None:
    """A broker restart mid-run is ridden out without help: nothing lost, nothing duplicated."""
    connector = kafka_run.connector(tasks_max=2, ticks=800, pace=6000)
    kafka_run.create_topics(connector)
    proc = kafka_run.start_worker(connector)
    wait_for(lambda: _last_tick(kafka_run) >= 50, 60, "50 ticks committed")
    try:
        began = time.monotonic()
        stop = _script("kafka.sh", "stop")
        assert stop.returncode == 0, stop.stderr[-2000:]
        stopped = time.monotonic()
        time.sleep(3.0)
        restarting = time.monotonic()
        start = _script("kafka.sh", "start", "--keep-data")
        assert start.returncode == 0, start.stderr[-2000:]
        back = time.monotonic()
    finally:
        _ensure_running("kafka.sh", "--keep-data")
    assert proc.poll() is None, f"the run ended while the broker was down: {kafka_run.logs()}"
    wait_for(lambda: _last_tick(kafka_run) >= 0, 60, "the broker to serve the offsets topic")
    at_restart = _last_tick(kafka_run)
    recovered = wait_for(lambda: _last_tick(kafka_run) > at_restart, 120,
                         "a commit after the broker came back")
    print(f"broker stop took {stopped - began:.1f}s, start {back - restarting:.1f}s; down "
          f"{back - stopped:.1f}s; first commit {recovered:.1f}s after it was back")
    assert proc.wait(180) == 0, kafka_run.logs()
    events = kafka_run.events(proc)
    print({name: _count(events, name) for name in (
        "retrying producer call", "transaction aborted; resuming from committed offsets",
        "task failed", "task ended unexpectedly; restarting")})
    _exact(kafka_run, connector)


def test_registry_down_at_start(kafka_run: KafkaRun) -> None:
    """A registry that is down when the worker starts is retried, and said so, until it is back."""
    connector = kafka_run.connector(tasks_max=2, ticks=300)
    kafka_run.create_topics(connector)
    try:
        stop = _script("registry.sh", "stop")
        assert stop.returncode == 0, stop.stderr[-2000:]
        proc = kafka_run.start_worker(connector)
        waited = wait_for(lambda: _count(kafka_run.events(proc),
                                         "schema registry not reachable, retrying") >= 2,
                          60, "the tasks to say they retry the registry")
        assert proc.poll() is None, kafka_run.logs()
        _print_status(kafka_run, proc, str(connector["name"]))
        start = _script("registry.sh", "start")
        assert start.returncode == 0, start.stderr[-2000:]
    finally:
        _ensure_running("registry.sh")
    assert proc.wait(180) == 0, kafka_run.logs()
    retries = [e for e in kafka_run.events(proc)
               if e.get("event") == "schema registry not reachable, retrying"]
    print(f"{len(retries)} registry retries logged (first after {waited:.1f}s): "
          f"{retries[0]['error']}")
    _exact(kafka_run, connector)


def _print_status(run: KafkaRun, proc: subprocess.Popen[bytes], name: str) -> None:
    """What the REST status says while the registry is retried (for the record, not asserted)."""
    urls = [e["url"] for e in run.events(proc) if e.get("event") == "REST API listening"]
    if not urls:
        return
    try:
        with urllib.request.urlopen(f"{urls[0]}/connectors/{name}/status", timeout=10) as r:
            print("status while retrying:", r.read().decode())
    except OSError as exc:
        print("status not available:", exc)


def test_incompatible_schema_fails_before_producing(kafka_run: KafkaRun) -> None:
    """A schema the subject's BACKWARD rule refuses fails the connector before any record exists."""
    connector = kafka_run.connector(tasks_max=2, ticks=300)
    kafka_run.create_topics(connector)
    sim = prepare(parse_connector(connector, None, kafka_run.tmp))
    model_topic = list(sim.model.schemas)[-1]  # registered last: the others register fine first
    schema = sim.model.schemas[model_topic]
    subject = f"{sim.config.kafka_topic(model_topic)}-value"
    # An earlier version the connector's schema cannot read: its fields have no defaults.
    earlier = {"type": "record", "name": schema.fullname,
               "fields": [{"name": "legacy_id", "type": "long"}]}
    with httpx.Client(base_url=kafka_run.registry, timeout=30) as registry:
        rule = registry.put(f"/config/{subject}", json={"compatibility": "BACKWARD"})
        assert rule.status_code == 200, rule.text
        registered = registry.post(f"/subjects/{subject}/versions",
                                   json={"schema": json.dumps(earlier)})
        assert registered.status_code == 200, registered.text
        proc = kafka_run.start_worker(connector)
        assert proc.wait(120) == 1, kafka_run.logs()  # a FAILED connector
        # The registry's own answer to the same request, to find it in the log.
        answer = registry.post(f"/subjects/{subject}/versions",
                               json={"schema": schema.schema_str})
    assert answer.status_code == 409, answer.text
    message = answer.json()["message"]
    failures = [e for e in kafka_run.events(proc) if e.get("event") == "task failed: configuration"]
    # The first task to fail fails the connector; the worker then stops the other one.
    assert failures, kafka_run.logs()
    for failure in failures:
        assert message in failure["error"] and subject in failure["error"], failure["error"]
    assert "incompatible" in failures[0]["error"]
    print("the task said:", failures[0]["error"])
    assert _count(kafka_run.events(proc), "task ended unexpectedly; restarting") == 0
    topics = kafka_run.topics(connector)
    assert read_all(kafka_run.bootstrap, topics, isolation="read_uncommitted") == []
    offsets = read_all(kafka_run.bootstrap, [f"{kafka_run.prefix}offsets"],
                       isolation="read_uncommitted")
    assert [r.key for r in offsets if b"/shard/" in r.key] == []
