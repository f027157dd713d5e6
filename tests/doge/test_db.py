"""DOGE's database sinks against the real PostgreSQL server: the seed script's balance and loan
tables, one transaction per tick, DOGE's errors with the password masked."""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import psycopg
import pytest

from bench.doge_seed import balance_value, collecting_sinks, loan_value
from connector.doge import DbSinkFactory
from connector.errors import UserError
from tests.doge.support import run_seed

pytestmark = pytest.mark.integration
TABLES = ("CREATE TABLE balance (timestamp bigint, user_id text, balance bigint)",
          "CREATE TABLE loan (timestamp bigint, user_id text, loan bigint)")


def _run(sinks: dict[str, Any]) -> None:
    run_seed(sinks, users=2000, ticks=300, seed=31)


def test_seed_script_with_database_sinks(pg_database: str) -> None:
    """Rows of DbSinkFactory sinks land in the script's existing tables exactly as an in-memory
    run with the same seeds collects them (a SQLAlchemy URL with a driver is accepted)."""
    with psycopg.connect(pg_database, autocommit=True) as conn:
        for statement in TABLES:
            conn.execute(statement)
    factory = DbSinkFactory(pg_database.replace("postgresql://", "postgresql+psycopg2://"))
    sinks = collecting_sinks()
    sinks["balance"] = factory.create("balance", balance_value)  # type: ignore[assignment]
    sinks["loan"] = factory.create("loan", loan_value)  # type: ignore[assignment]
    _run(sinks)
    expected = collecting_sinks()
    _run(expected)
    with psycopg.connect(pg_database) as conn:
        for table, columns in (("balance", "timestamp, user_id, balance"),
                               ("loan", "timestamp, user_id, loan")):
            rows = conn.execute(f"SELECT {columns} FROM {table}").fetchall()
            wanted = [(r["timestamp"], r["user_id"], r[table]) for r in expected[table].rows]
            assert wanted and Counter(rows) == Counter(wanted), table


def test_missing_table_and_bad_password(pg_database: str) -> None:
    """A missing table is DOGE's ValueError at start() naming the create() line; a refused
    login is a UserError that never shows the password."""
    factory = DbSinkFactory(pg_database)
    line = sys._getframe().f_lineno + 1
    sink = factory.create("nowhere", balance_value)
    sinks = {**collecting_sinks(), "balance": sink}
    with pytest.raises(ValueError, match="Table nowhere does not exist") as caught:
        _run(sinks)
    assert f"{__file__}:{line}" in str(caught.value)
    wrong = pg_database.replace("doge-test", "not-the-password")
    with pytest.raises(UserError) as refused:
        _run({**collecting_sinks(), "loan": DbSinkFactory(wrong).create("loan", loan_value)})
    assert "not-the-password" not in str(refused.value) and "***" in str(refused.value)
    with pytest.raises(ValueError, match="PostgreSQL"):
        DbSinkFactory("sqlite:///doge.db")
