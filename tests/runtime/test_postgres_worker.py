"""Worker tasks into PostgreSQL (`destination=postgresql`): the same exactly-once protocol as
`doge run --to`, across a task's kill -9, with no topic created and no schema registered."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest
from confluent_kafka.admin import AdminClient

from tests.destinations.pg_support import BANKING_TABLES, digests, progress
from tests.helpers import ROOT
from tests.runtime.cluster import start_distributed, wait_for
from tests.runtime.harness import KafkaRun, read_events, task_pids

pytestmark = pytest.mark.integration
TICKS = 400


def test_two_tasks_write_the_tables_of_doge_run_across_a_kill_9(
        kafka_run: KafkaRun, pg_database_factory: object) -> None:
    """A connector with destination=postgresql and 2 tasks on a distributed worker: a task killed
    with kill -9 mid-run resumes, and the committed tables equal `doge run --to`'s (digest);
    no Kafka topic of the connector exists, no schema is registered."""
    make = pg_database_factory
    assert callable(make)
    reference, target = make(), make()
    connector = kafka_run.connector(
        users="20000", shards="4", tasks_max="2", ticks=str(TICKS), destination="postgresql",
        postgres_url=target, transaction_boundary="ticks", transaction_boundary_ticks="4",
        snapshot_interval_ticks="40")
    subprocess.run([sys.executable, "-m", "connector", "run",
                    str(kafka_run.connector_file(connector)), "-q", "--to", reference],
                   check=True, capture_output=True, timeout=600, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})

    worker = start_distributed(kafka_run, "pg")
    worker.rest.ok("POST", "/connectors", connector)
    name = connector["name"]
    wait_for(lambda: len(task_pids(worker.proc.pid)) == 2 and progress(target)[0] > 0, 120,
             "both tasks running and a first commit", kafka_run.logs)
    victim = task_pids(worker.proc.pid)[0]
    os.kill(victim, signal.SIGKILL)
    killed_at = progress(target)[0]
    assert killed_at < TICKS, "the run finished before the kill"
    wait_for(lambda: any(p != victim for p in task_pids(worker.proc.pid))
             and victim not in task_pids(worker.proc.pid), 60, "a replacement task")
    wait_for(lambda: [t["state"] for t in worker.rest.ok(
        "GET", f"/connectors/{name}/status")["tasks"]] == ["FINISHED", "FINISHED"], 600,
             "both tasks finished", lambda: worker.rest.ok("GET", f"/connectors/{name}/status"))

    assert progress(target)[0] == TICKS
    assert digests(target, BANKING_TABLES) == digests(reference, BANKING_TABLES)
    events = read_events(kafka_run.tmp / "worker-pg.log")
    restarted = [e for e in events if e.get("event") == "task ended unexpectedly; restarting"]
    assert restarted, "the kill -9 was not seen as a crash"
    topics = AdminClient({"bootstrap.servers": kafka_run.bootstrap}).list_topics(
        timeout=30).topics
    assert not [t for t in topics if t.startswith(f"{kafka_run.prefix}") and t.removeprefix(
        kafka_run.prefix) in ("balance", "clickstream", "loan", "trx")]
    subjects = httpx.get(f"{kafka_run.registry}/subjects", timeout=30).json()
    assert not [s for s in subjects if s.startswith(kafka_run.prefix)]


def test_worker_postgres_url_from_an_env_provider(kafka_run: KafkaRun, pg_database: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker whose postgres.url is `${env:...}` accepts and runs a connector with
    destination=postgresql and no URL of its own: the reference resolves when the connector is
    checked at create and in its task, and the URL is in no log line."""
    monkeypatch.setenv("DOGE_TEST_WORKER_PG", pg_database)
    worker = start_distributed(kafka_run, "pgenv", **{
        "config.providers": "env", "postgres.url": "${env:DOGE_TEST_WORKER_PG}"})
    connector = kafka_run.connector(users="500", shards="2", tasks_max="1", ticks="20",
                                    destination="postgresql")
    worker.rest.ok("POST", "/connectors", connector)
    name = connector["name"]
    wait_for(lambda: [t["state"] for t in worker.rest.ok(
        "GET", f"/connectors/{name}/status")["tasks"]] == ["FINISHED"], 300, "the task finished",
             lambda: worker.rest.ok("GET", f"/connectors/{name}/status"))
    assert progress(pg_database)[0] == 20
    assert pg_database not in (kafka_run.tmp / "worker-pgenv.log").read_text()
