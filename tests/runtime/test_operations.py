"""Operating a real worker against the real broker: /metrics against committed output, /health,
log levels at run time, secrets kept out of logs and REST, and a broker that is down."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import javaproperties
import pytest
from prometheus_client.parser import text_string_to_metric_families

from connector.runtime.config import parse_connector, resolve_start_ms
from connector.runtime.properties import parse_properties
from connector.runtime.simulation import prepare
from tests.helpers import ROOT
from tests.runtime.cluster import Rest, free_port, start_distributed, wait_for
from tests.runtime.gate import Gate
from tests.runtime.harness import KafkaRun
from tests.runtime.reading import read_all

pytestmark = pytest.mark.integration


def scrape(rest: Rest) -> dict[str, list[tuple[dict[str, str], float]]]:
    """/metrics as name -> [(labels, value)]."""
    with urllib.request.urlopen(rest.url + "/metrics", timeout=30) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def total(metrics: dict[str, list[tuple[dict[str, str], float]]], name: str,
          by: str | None = None) -> Any:
    rows = metrics.get(name, [])
    if by is None:
        return sum(v for _, v in rows)
    sums: Counter[str] = Counter()
    for labels, v in rows:
        sums[labels[by]] += int(v)
    return dict(sums)


def standalone(run: KafkaRun, connector: dict[str, Any], **extra: str
               ) -> tuple[subprocess.Popen[bytes], Rest]:
    port = free_port()
    values = {"rest.port": str(port), **{k.replace("_", "."): v for k, v in extra.items()}}
    proc = run.start_worker(connector, exit_when_finished=False,
                            worker=run.worker_file(**values))
    rest = Rest(f"http://127.0.0.1:{port}")
    wait_for(lambda: _health(rest) == 200, 90, "a healthy worker", run.logs)
    return proc, rest


def _health(rest: Rest) -> int | None:
    try:
        return rest.call("GET", "/health")[0]
    except OSError:
        return None


def states(rest: Rest, name: str) -> list[str]:
    status, body = rest.call("GET", f"/connectors/{name}/status")
    return [t["state"] for t in body["tasks"]] if status == 200 else []


def test_metrics_agree_with_committed_output(kafka_run: KafkaRun) -> None:
    """After a finished run, records per topic on /metrics equal what read_committed reads;
    ticks, transactions, the commit histogram, the users alive and the lag behind schedule
    are those of the run, for every task."""
    # pace=realtime from a start in 2024: every tick is long due, so the run backfills at full
    # speed and its lag is how long ago its last tick was due.
    connector = kafka_run.connector(ticks="120", tasks_max="2", pace="realtime")
    kafka_run.create_topics(connector)
    name = connector["name"]
    started = time.time()
    _, rest = standalone(kafka_run, connector)
    wait_for(lambda: states(rest, name) == ["FINISHED", "FINISHED"], 240, "FINISHED",
             kafka_run.logs)
    metrics = scrape(rest)
    scraped = time.time()
    committed = Counter(r.topic for r in read_all(kafka_run.bootstrap,
                                                  kafka_run.topics(connector)))
    assert total(metrics, "doge_source_records_total", by="topic") == dict(committed)
    ticks = total(metrics, "doge_ticks_committed_total", by="task")
    assert ticks == {"0": 120, "1": 120}  # each task commits every tick of its shards
    assert total(metrics, "doge_transactions_committed_total") == \
        total(metrics, "doge_commit_latency_seconds_count")
    assert total(metrics, "doge_transaction_records_sum") == sum(committed.values())
    assert total(metrics, "doge_worker_connector_count") == 1
    finished = [labels for labels, v in metrics["doge_task_state"] if v == 1]
    assert {lbl["state"] for lbl in finished} == {"FINISHED"}
    assert total(metrics, "doge_engine_step_seconds_total") > 0
    assert total(metrics, "doge_encode_seconds_total") > 0
    assert total(metrics, "doge_task_users") == users_after(connector, kafka_run.tmp)
    last_due = 1704067200 + 120 * 60  # start.time + ticks * tick.ms, in seconds
    for _, lag in metrics["doge_task_lag_seconds"]:
        assert started - last_due <= lag <= scraped - last_due
    rates = {lbl["topic"] for lbl, v in metrics["doge_source_record_write_rate"] if v >= 0}
    assert rates == set(committed)  # a rate for each topic written
    assert {lbl["task"] for lbl, _ in metrics["doge_task_next_tick"]} == {"0", "1"}


def users_after(connector: dict[str, Any], base: Path) -> int:
    """Users alive in every shard after the connector's ticks, as the engine has them."""
    sim = prepare(parse_connector(connector, None, base))
    settings = sim.settings(resolve_start_ms(sim.config))
    alive = 0
    for shard in range(sim.config.shards):
        engine = sim.shard(settings, shard)
        for _ in range(sim.config.ticks or 0):
            engine.step()
        alive += engine.population.size
    return alive


def test_a_killed_task_counts_an_abort_and_a_restart(kafka_run: KafkaRun) -> None:
    """SIGKILL inside a transaction: /metrics counts the aborted transaction and the restart,
    and never more records than were committed."""
    connector = kafka_run.connector(ticks="100000", tasks_max="1")
    kafka_run.create_topics(connector)
    name = connector["name"]
    _, rest = standalone(kafka_run, connector)
    wait_for(lambda: total(scrape(rest), "doge_transactions_committed_total") > 0, 120,
             "a first commit", kafka_run.logs)
    pid = rest.ok("GET", f"/connectors/{name}/status")["tasks"][0].get("pid") or \
        kafka_run.task_pid(name, 0)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: total(scrape(rest), "doge_task_restarts_total") >= 1, 60, "a restart",
             kafka_run.logs)
    metrics = scrape(rest)
    assert total(metrics, "doge_transactions_aborted_total") >= 1
    rest.ok("PUT", f"/connectors/{name}/stop")
    wait_for(lambda: states(rest, name) == ["STOPPED"], 60, "STOPPED", kafka_run.logs)
    committed = Counter(r.topic for r in read_all(kafka_run.bootstrap,
                                                  kafka_run.topics(connector)))
    counted = total(scrape(rest), "doge_source_records_total", by="topic")
    assert all(counted[t] <= committed[t] for t in counted)


def test_health_log_levels_and_cluster_scope(kafka_run: KafkaRun) -> None:
    """A distributed worker's /health is 200 once joined; a PUT of a logger's level shows
    debug lines that were not there before (worker and task processes); scope=cluster goes
    through the config topic to every worker."""
    connector = kafka_run.connector(ticks="100000", tasks_max="1", pace="realtime",
                                    start_time="now")
    a = start_distributed(kafka_run, "a")
    wait_for(lambda: _health(a.rest) == 200, 60, "a healthy")
    b = start_distributed(kafka_run, "b")  # joins a's group: a rebalance for a
    wait_for(lambda: _health(b.rest) == 200, 60, "b healthy")
    a.rest.ok("PUT", f"/connectors/{connector['name']}/config", connector["config"])
    wait_for(lambda: states(a.rest, connector["name"]) == ["RUNNING"], 90, "RUNNING")
    wait_for(lambda: total(scrape(a.rest), "doge_worker_rebalances_total") >= 1, 30,
             "a's rebalance")
    for w in (a, b):  # each worker counts the connectors once its config topic is read
        wait_for(lambda w=w: total(scrape(w.rest),  # type: ignore[misc]
                                   "doge_worker_connector_count") == 1, 30,
                 f"the connector on {w.name}", lambda w=w: scrape(w.rest))  # type: ignore[misc]
    both = [scrape(w.rest) for w in (a, b)]
    assert sum(total(m, "doge_worker_task_count") for m in both) == 1  # one task, one worker
    assert sum(total(m, "doge_worker_assignment_changes_total") for m in both) >= 1
    time.sleep(3)
    logs = {w.name: kafka_run.tmp / f"worker-{w.name}.log" for w in (a, b)}
    before = {n: p.read_text() for n, p in logs.items()}
    assert not any('"task report"' in t for t in before.values())
    assert a.rest.call("PUT", "/admin/loggers/connector.runtime.task?scope=cluster",
                       {"level": "DEBUG"})[0] == 204
    for w in (a, b):
        wait_for(lambda w=w: w.rest.call(  # type: ignore[misc]
            "GET", "/admin/loggers/connector.runtime.task")[1].get("level") == "DEBUG", 30,
            f"the cluster level on {w.name}")
    wait_for(lambda: any('"task report"' in p.read_text() for p in logs.values()), 30,
             "a task's debug line")
    changed = b.rest.ok("PUT", "/admin/loggers/connector.rest.server", {"level": "DEBUG"})
    assert changed == ["connector.rest.server"]
    b.rest.ok("GET", "/connectors")
    wait_for(lambda: '"REST request"' in logs["b"].read_text(), 10, "the REST debug line")
    assert '"REST request"' not in logs["a"].read_text()  # worker scope: b only
    for path in logs.values():  # JSON logs stay JSON: every line parses
        for line in path.read_text().splitlines():
            assert isinstance(json.loads(line), dict), line


def test_health_is_503_until_the_worker_joins(kafka_run: KafkaRun) -> None:
    """KIP-1017 on a real worker: while Kafka cannot be reached /health is 503 with the reason
    (and Connect's API 503 too); once the worker reached the broker, joined and read its
    configs, 200."""
    with Gate(kafka_run.bootstrap) as gate:
        port = free_port()
        worker = kafka_run.worker_file(**{"bootstrap.servers": f"127.0.0.1:{gate.port}",
                                          "bootstrap.timeout.ms": "120000",
                                          "rest.port": str(port)})
        log = open(kafka_run.tmp / "worker-gated.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen([sys.executable, "-m", "connector", "distributed", str(worker)],
                                stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        kafka_run.procs.append(proc)
        rest = Rest(f"http://127.0.0.1:{port}")
        wait_for(lambda: _health(rest) is not None, 60, "the REST API")
        status, body = rest.call("GET", "/health")
        assert status == 503 and body["status"] == "starting", body
        assert "internal topics" in body["message"]
        assert rest.call("GET", "/connectors")[0] == 503
        gate.open()
        wait_for(lambda: _health(rest) == 200, 120, "a healthy worker",
                 lambda: (kafka_run.tmp / "worker-gated.log").read_text()[-2000:])
        assert rest.call("GET", "/health")[1]["status"] == "healthy"
        assert rest.ok("GET", "/connectors") == []


def test_registry_retries_are_counted(kafka_run: KafkaRun) -> None:
    """A registry that does not answer at start-up: one error line naming it, the tasks
    retry, and /metrics counts each retry the tasks logged; the run then finishes."""
    registry = urlsplit(kafka_run.registry)
    with Gate(registry.netloc) as gate:
        url = f"http://127.0.0.1:{gate.port}{registry.path}"
        connector = kafka_run.connector(ticks="20", tasks_max="1")
        kafka_run.create_topics(connector)
        name = connector["name"]
        proc, rest = standalone(kafka_run, connector, schema_registry_url=url)
        wait_for(lambda: any(e["event"] == "schema registry not reachable, retrying"
                             for e in kafka_run.events(proc)), 90, "a registry retry",
                 kafka_run.logs)
        gate.open()
        wait_for(lambda: states(rest, name) == ["FINISHED"], 120, "FINISHED", kafka_run.logs)
        events = kafka_run.events(proc)
        retried = sum(e["event"] == "schema registry not reachable, retrying" for e in events)
        assert total(scrape(rest), "doge_registry_retries_total") == retried >= 1
    starting = [e for e in events if e["event"] == "worker starting"]
    assert starting[0]["registry"] == url and starting[0]["kafka"] == kafka_run.bootstrap
    down = [e for e in events if e["level"] == "error"]
    assert [e["event"] for e in down] == ["schema registry not reachable; tasks that need it "
                                          "retry"]
    assert down[0]["url"] == url


def test_secrets_resolve_and_stay_out_of_logs_and_rest(kafka_run: KafkaRun,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """${env:...} and ${file:...} resolve in worker and connector configs; the resolved text
    appears in no log line, no REST answer (GET config shows the reference) and no error
    (a PUT refused, a validate answer)."""
    group = f"g-secret-{kafka_run.uid}"
    monkeypatch.setenv("DOGE_T_GROUP", group)
    monkeypatch.setenv("DOGE_T_BAD_SEED", "not-a-seed-5581")
    secrets = kafka_run.tmp / "secrets"
    secrets.mkdir()
    (secrets / "connector.properties").write_text("seed=7349215386\n")
    connector = kafka_run.connector(ticks="30", tasks_max="1")
    kafka_run.create_topics(connector)
    connector["config"]["seed"] = f"${{file:{secrets}/connector.properties:seed}}"
    name = connector["name"]
    _, rest = standalone(kafka_run, connector, group_id="${env:DOGE_T_GROUP}",
                         config_providers="env,file",
                         config_providers_env_class="env", config_providers_file_class="file",
                         **{"config_providers_file_param_allowed_paths": str(secrets)})
    wait_for(lambda: states(rest, name) == ["FINISHED"], 120, "FINISHED", kafka_run.logs)
    config = rest.ok("GET", f"/connectors/{name}/config")
    assert config["seed"] == f"${{file:{secrets}/connector.properties:seed}}"
    answers = json.dumps([rest.ok("GET", f"/connectors/{name}"),
                          rest.ok("GET", f"/connectors/{name}/status"),
                          rest.ok("GET", f"/connectors/{name}/tasks")])
    bad = {**connector["config"], "seed": "${env:DOGE_T_BAD_SEED}"}
    status, refused = rest.call("PUT", f"/connectors/{name}-bad/config", bad)
    assert status == 400 and "config.seed" in refused["message"]
    validated = rest.ok("PUT", "/connector-plugins/DogeSourceConnector/config/validate",
                        {**bad, "name": f"{name}-bad"})
    assert validated["error_count"] == 1
    errors = json.dumps([refused, validated])
    assert "${env:DOGE_T_BAD_SEED}" in errors and "[hidden]" in errors  # as written, masked
    log = kafka_run.logs_full()
    for secret in (group, "7349215386", "not-a-seed-5581"):
        assert secret not in answers and secret not in log and secret not in errors
    assert "[hidden]" in log  # the start-up line's group id


def test_broker_down_is_one_clear_error(tmp_path: Path) -> None:
    """A worker pointed at a broker that is down stops with one error naming the address, its
    JSON log stays JSON lines, and librdkafka's retries are summarised, not repeated."""
    port = free_port()
    worker = tmp_path / "w.properties"
    registry_port = free_port()
    registry = f"http://127.0.0.1:{registry_port}"
    worker.write_text(f"bootstrap.servers=127.0.0.1\\:{port}\nbootstrap.timeout.ms=3000\n"
                      f"listeners=http://127.0.0.1:{free_port()}\nplugin.path=/usr/share/java\n"
                      f"schema.registry.url=http\\://127.0.0.1\\:{registry_port}\n")
    done = subprocess.run([sys.executable, "-m", "connector", "worker", str(worker)],
                          check=False, capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines = [json.loads(line) for line in done.stderr.splitlines()]  # every line parses
    assert done.returncode == 3
    errors = [e for e in lines if e["level"] == "error"]
    assert len(errors) == 1
    assert f"cannot reach Kafka at 127.0.0.1:{port} within 3 s" in errors[0]["event"]
    assert [e["event"] for e in lines if e["level"] == "warning" and
            "plugin.path" in e["event"]]  # an ignored Connect key: one line
    starting = [e for e in lines if e["event"] == "worker starting"]
    assert starting and starting[0]["kafka"] == f"127.0.0.1:{port}"
    assert starting[0]["registry"] == registry
    assert sum(e.get("logger") == "librdkafka" for e in lines) <= 6


def test_connect_standalone_files_run_as_they_are(kafka_run: KafkaRun) -> None:
    """A worker.properties as Java writes it (`host\\:port`), with Connect's `listeners` and
    keys that do not apply here, and a connect-standalone connector .properties file: the run
    finishes exactly as with JSON files."""
    connector = kafka_run.connector(ticks="20", tasks_max="1")
    kafka_run.create_topics(connector)
    values = parse_properties(kafka_run.worker_file().read_text(), "w")
    del values["rest.port"]
    values.update({"listeners": f"http://127.0.0.1:{free_port()}",
                   "plugin.path": "/usr/share/java", "offset.flush.interval.ms": "10000"})
    worker = kafka_run.tmp / "connect-worker.properties"
    worker.write_text(javaproperties.dumps(values))  # escapes `:` and `=` as Java does
    assert "\\:" in worker.read_text()
    flat = {"name": connector["name"], **{k: v if isinstance(v, str) else json.dumps(v)
                                          for k, v in connector["config"].items()}}
    connector_file = kafka_run.tmp / "connector.properties"
    connector_file.write_text(javaproperties.dumps(flat))
    done = subprocess.run([sys.executable, "-m", "connector", "worker", str(worker),
                           str(connector_file), "--exit-when-finished"], check=False,
                          capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    ignored = [e["event"] for e in events if e["level"] == "warning" and "ignored" in e["event"]]
    assert len(ignored) == 2, ignored  # one line for each key that does not apply
    committed = read_all(kafka_run.bootstrap, kafka_run.topics(connector))
    assert committed
