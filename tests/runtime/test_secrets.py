"""A password in a connector's `postgres.url`, given over REST to a real worker: it appears in no
log line, no `config/validate` answer and no error (GET .../config returns the config as stored,
as Connect does)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.runtime.cluster import start_distributed, wait_for
from tests.runtime.harness import KafkaRun

pytestmark = pytest.mark.integration
PLUGIN = "io.dogeconnect.DogeSourceConnector"


def _role_url(database: str, role: str, password: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(database)
    return f"postgresql://{role}:{password}@{info['host']}:{info['port']}/{info['dbname']}"


def _states(rest: Any, name: str) -> list[str]:
    return [t["state"] for t in rest.ok("GET", f"/connectors/{name}/status")["tasks"]]


def test_a_postgres_password_is_in_no_log_answer_or_error(kafka_run: KafkaRun,
                                                         pg_database: str) -> None:
    """Validate shows `[hidden]`; a malformed URL, a wrong password (task FAILED, its trace) and
    a good run never show the password in validate answers, errors, statuses, or the worker's
    and tasks' logs."""
    secret, wrong = f"Pw-{uuid.uuid4().hex}", f"Wrong-{uuid.uuid4().hex}"
    role = f"r_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(role), sql.Literal(secret)))
        conn.execute(sql.SQL("GRANT ALL ON SCHEMA public TO {}").format(sql.Identifier(role)))
    try:
        good = _role_url(pg_database, role, secret)
        worker = start_distributed(kafka_run, "secrets", **{"log.level": "DEBUG"})
        rest = worker.rest
        answers: list[Any] = []

        def config(url: str) -> dict[str, Any]:
            base = kafka_run.connector(users="200", shards="2", tasks_max="2", ticks="20",
                                       destination="postgresql", postgres_url=url)
            return dict(base["config"])

        validated = rest.ok("PUT", f"/connector-plugins/{PLUGIN}/config/validate", config(good))
        answers.append(validated)
        shown = {c["value"]["name"]: c["value"] for c in validated["configs"]}
        assert validated["error_count"] == 0, validated
        assert shown["postgres.url"]["value"] == "[hidden]"
        assert [c["definition"]["type"] for c in validated["configs"]
                if c["definition"]["name"] == "postgres.url"] == ["PASSWORD"]

        malformed = good + "?no_such_option=1"
        status, refused = rest.call("POST", "/connectors", {"name": f"bad-{role}",
                                                            "config": config(malformed)})
        answers.append(refused)
        assert status == 400 and "malformed PostgreSQL URL" in refused["message"], refused
        answers.append(rest.ok("PUT", f"/connector-plugins/{PLUGIN}/config/validate",
                               config(malformed)))

        failing = f"wrong-{role}"
        rest.ok("POST", "/connectors", {
            "name": failing, "config": config(_role_url(pg_database, role, wrong))})
        wait_for(lambda: "FAILED" in _states(rest, failing), 120, "the task to fail")
        failed = rest.ok("GET", f"/connectors/{failing}/status")
        answers.append(failed)
        assert any("password authentication failed" in (t.get("trace") or "")
                   for t in failed["tasks"]), failed

        name = f"good-{role}"
        created = rest.ok("POST", "/connectors", {"name": name, "config": config(good)})
        wait_for(lambda: _states(rest, name) == ["FINISHED", "FINISHED"], 300,
                 "the run to finish", lambda: rest.ok("GET", f"/connectors/{name}/status"))
        answers.append(rest.ok("GET", f"/connectors/{name}/status"))
        # Connect answers the config as stored (POST /connectors, GET .../config): config
        # providers keep passwords out of it.
        assert created["config"]["postgres.url"] == good
        assert rest.ok("GET", f"/connectors/{name}/config")["postgres.url"] == good
        with psycopg.connect(good) as conn:
            assert conn.execute("SELECT count(*) FROM balance").fetchone() != (0,)
    finally:
        with psycopg.connect(_role_url(pg_database, role, secret), autocommit=True) as conn:
            conn.execute("DROP OWNED BY CURRENT_USER")  # its tables
        with psycopg.connect(pg_database, autocommit=True) as conn:
            conn.execute(sql.SQL("REVOKE ALL ON SCHEMA public FROM {}").format(
                sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))

    leaks = [a for a in answers if secret in json.dumps(a) or wrong in json.dumps(a)]
    assert not leaks
    logs = "\n".join(p.read_text(errors="replace") for p in kafka_run.tmp.glob("*.log"))
    assert "postgres destination connected" in logs  # the tasks' own lines are in these logs
    assert secret not in logs and wrong not in logs
