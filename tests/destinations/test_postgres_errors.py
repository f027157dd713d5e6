"""`doge run --to postgresql://...` refusals: one clear error, exit 2, nothing half-written, and
the password never shown (in the error or in any log line)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from connector.cli import run  # noqa: F401  (registers the command)
from connector.cli.main import cli
from tests.helpers import ROOT, banking_model, write_connector, write_model

pytestmark = pytest.mark.integration
DOGE = [sys.executable, "-m", "connector"]
SECRET = "Sup3r-Secret_pw"


def _connector(tmp: Path, name: str = "test", **extra: object) -> Path:
    model = write_model(tmp, banking_model())
    path = write_connector(tmp, model, users=500, ticks=30, shards=2, seed=5, **extra)
    if name != "test":
        path.write_text(path.read_text().replace('"name": "test"', f'"name": "{name}"'))
    return path


def _run(connector: Path, url: str, *extra: str, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DOGE, "run", str(connector), "-q", "--to", url, *extra],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def _refused(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    """The run exited 2 with one error paragraph containing `expected`, no traceback, no
    password; returns the error text."""
    text = result.stdout + result.stderr
    assert result.returncode == 2, text
    assert "Traceback" not in text
    assert SECRET not in text
    errors = [line for line in text.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, text
    for part in expected:
        assert part in errors[0], errors[0]
    return errors[0]


def _with_password(url: str, password: str, database: str | None = None) -> str:
    """The same server and role with another password (and database)."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    db = database or info["dbname"]
    return f"postgresql://{info['user']}:{password}@{info['host']}:{info['port']}/{db}"


def _tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]


def test_unreachable_server_is_one_clear_error(tmp_path: Path) -> None:
    """Nothing listening at the URL's port: exit 2, the masked URL and libpq's reason."""
    result = _run(_connector(tmp_path), f"postgresql://doge:{SECRET}@127.0.0.1:1/doge")
    _refused(result, "postgresql://doge:***@127.0.0.1:1/doge", "cannot connect",
             "Connection refused")


def test_wrong_password_is_refused_without_showing_it(tmp_path: Path, pg_database: str) -> None:
    """A wrong password: the server's refusal, the password masked everywhere."""
    result = _run(_connector(tmp_path), _with_password(pg_database, SECRET))
    _refused(result, "password authentication failed", ":***@")


def test_password_from_pgpassword_is_masked_too(tmp_path: Path, pg_database: str) -> None:
    """`--to postgres:` with PG* variables: a wrong PGPASSWORD is not shown either."""
    info = psycopg.conninfo.conninfo_to_dict(pg_database)
    env = {"PGHOST": str(info["host"]), "PGPORT": str(info["port"]),
           "PGUSER": str(info["user"]), "PGDATABASE": str(info["dbname"]), "PGPASSWORD": SECRET}
    _refused(_run(_connector(tmp_path), "postgres:", env=env), "password authentication failed")


def test_missing_database_is_named(tmp_path: Path, pg_database: str) -> None:
    """A database that does not exist: the error names it."""
    info = psycopg.conninfo.conninfo_to_dict(pg_database)
    url = _with_password(pg_database, str(info["password"]), "no_such_db_here")
    _refused(_run(_connector(tmp_path), url), 'database "no_such_db_here" does not exist')


def test_malformed_url_never_echoes_the_password(tmp_path: Path) -> None:
    """A URL libpq cannot parse: the message shows it masked."""
    result = _run(_connector(tmp_path), f"postgresql://doge:{SECRET}@[::1/db")
    _refused(result, "malformed PostgreSQL URL", "doge:***@")


def test_incompatible_existing_table_is_refused_untouched(tmp_path: Path,
                                                          pg_database: str) -> None:
    """A `balance` table with an integer column: refused naming the column, nothing created or
    written (the other topics' tables and doge_offsets do not appear)."""
    with psycopg.connect(pg_database) as conn:
        conn.execute("CREATE TABLE balance (user_id text, balance integer, "
                     "\"timestamp\" timestamptz, doge_user bigint, doge_time timestamptz, "
                     "doge_tick bigint, note text NOT NULL)")
    result = _run(_connector(tmp_path), pg_database)
    error = _refused(result, "table public.balance exists but does not fit topic 'balance'",
                     'column "balance" is integer, doge-connect writes bigint',
                     'column "note" is NOT NULL without a default', "never alters")
    assert "timestamp" not in error.split("exists but")[1].split(".")[0]  # the rest fits
    assert _tables(pg_database) == ["balance"]


def test_read_only_role_is_refused_before_anything_is_written(tmp_path: Path,
                                                              pg_database: str) -> None:
    """A role that may read but not write: one error listing what it lacks; nothing written."""
    connector = _connector(tmp_path)
    assert _run(connector, pg_database, "--ticks", "10").returncode == 0
    role = f"ro_{os.getpid()}_{tmp_path.name[-8:]}".lower().replace("-", "_")
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(role), sql.Literal(SECRET)))
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(
            sql.Identifier(role)))
        before = conn.execute("SELECT next_tick FROM doge_offsets ORDER BY shard").fetchall()
        counts = conn.execute("SELECT count(*) FROM balance").fetchone()
    try:
        info = psycopg.conninfo.conninfo_to_dict(pg_database)
        url = f"postgresql://{role}:{SECRET}@{info['host']}:{info['port']}/{info['dbname']}"
        error = _refused(_run(connector, url), f"role '{role}' lacks", "INSERT on public.balance",
                         "doge_offsets")
        assert "SELECT on" not in error
        with psycopg.connect(pg_database) as conn:
            assert conn.execute("SELECT next_tick FROM doge_offsets ORDER BY shard"
                                ).fetchall() == before
            assert conn.execute("SELECT count(*) FROM balance").fetchone() == counts
        # With no tables yet, it may not create them either.
        with psycopg.connect(pg_database, autocommit=True) as conn:
            conn.execute("DROP TABLE balance, clickstream, trx, loan, doge_offsets, doge_tables")
        _refused(_run(connector, url), "cannot prepare the tables",
                 "permission denied for schema public")
        assert _tables(pg_database) == []
    finally:
        with psycopg.connect(pg_database, autocommit=True) as conn:
            conn.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(
                sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_another_run_in_the_same_tables_is_refused(tmp_path: Path, pg_database: str) -> None:
    """The same connector with another seed, or another connector on the same tables, is refused
    (resuming would mix two runs); the first run's rows stay as they were."""
    first = _run(_connector(tmp_path), pg_database)
    assert first.returncode == 0
    password = str(psycopg.conninfo.conninfo_to_dict(pg_database)["password"])
    assert password not in first.stdout + first.stderr  # nor in the log of a good run
    assert ":***@" in first.stdout + first.stderr
    rows = len(_digestable(pg_database))
    (tmp_path / "b").mkdir()
    other_seed = _connector(tmp_path / "b")
    other_seed.write_text(other_seed.read_text().replace('"seed": "5"', '"seed": "6"'))
    _refused(_run(other_seed, pg_database), "different model, seed or settings")
    (tmp_path / "c").mkdir()
    renamed = _connector(tmp_path / "c", name="renamed")
    _refused(_run(renamed, pg_database), "holds the output of connector 'test'")
    assert len(_digestable(pg_database)) == rows


def _digestable(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT * FROM balance ORDER BY doge_tick, doge_user").fetchall()


def test_upsert_without_a_postgres_target_is_refused(tmp_path: Path) -> None:
    """--upsert names PostgreSQL tables: without --to it is an error, as is --to with -o."""
    connector = _connector(tmp_path)
    result = CliRunner().invoke(cli, ["run", str(connector), "--upsert", "balance"])
    assert result.exit_code == 2 and "--upsert needs --to" in result.output
    result = CliRunner().invoke(cli, ["run", str(connector), "--to", "postgres:", "-o", "x"])
    assert result.exit_code == 2 and "choose one" in result.output
