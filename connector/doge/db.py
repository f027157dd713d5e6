"""DOGE's database sinks on PostgreSQL: the rows of a tick, of every table, in one transaction.

`DbSinkFactory(db_url)` takes DOGE's SQLAlchemy-style URL (`postgresql://user:password@host/db`,
a `+driver` suffix is ignored); `create(table_name, row_mapper_function)` writes the dicts the
function returns into the existing table (as DOGE, a missing table is a ValueError). Each tick's
rows go in with COPY in one transaction with the other tables of the same factory, so a reader
sees whole ticks or nothing. Other databases than PostgreSQL are refused: our destinations
speak PostgreSQL. Passwords never appear in messages.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from psycopg import sql

from connector.api.values import CallSite, call_site, user_errors
from connector.destinations.postgres.conninfo import PgTarget
from connector.destinations.postgres.tables import Conn
from connector.doge.core import DogeError, EventSink, RunInfo, TickCommitter, Transition
from connector.errors import UserError

_DRIVER = re.compile(r"^(postgres(?:ql)?)\+[A-Za-z0-9_]+://")


class DbChannel:
    """One PostgreSQL connection committing its sinks' rows once per tick."""

    def __init__(self, db_url: str, site: CallSite) -> None:
        if not isinstance(db_url, str):
            raise DogeError(site, "db_url", f"expected a PostgreSQL URL, got {db_url!r}")
        try:  # SQLAlchemy's `postgresql+psycopg2://` is libpq's `postgresql://`
            self.target = PgTarget.parse(_DRIVER.sub(r"\1://", db_url.strip()), "db_url")
        except UserError as exc:
            raise DogeError(site, "db_url", "; ".join(p.message for p in exc.problems) +
                            " (doge-connect's database sinks write to PostgreSQL)") from None
        self.tables: dict[str, CallSite] = {}
        self._staged: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._conn: Conn | None = None

    def open(self, run: RunInfo) -> None:
        if self._conn is not None:
            return
        conn = self.target.connect()
        for table, site in self.tables.items():
            with self.target.errors(f"cannot look up table {table}", UserError):
                found = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
            if found is None or found[0] is None:
                conn.close()
                raise DogeError(site, "table_name", f"Table {table} does not exist")
        conn.rollback()
        self._conn = conn

    def stage(self, table: str, row: dict[str, Any]) -> None:
        self._staged[table].append(row)

    def commit(self, tick: int) -> None:
        conn = self._conn
        assert conn is not None, "open() comes first"
        with self.target.errors(f"cannot write tick {tick}"), conn.transaction(), \
                conn.cursor() as cur:
            for table, rows in self._staged.items():
                for columns, group in _by_columns(rows).items():
                    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                        _identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))
                    with cur.copy(statement) as copy:
                        for row in group:
                            copy.write_row([row[c] for c in columns])
        self._staged.clear()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def _by_columns(rows: list[dict[str, Any]]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """Rows grouped by the columns they give (a row mapper may leave some out)."""
    out: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[tuple(row)].append(row)
    return out


def _identifier(table: str) -> sql.Identifier:
    """`schema.table` or `table`, quoted."""
    return sql.Identifier(*table.split(".", 1))


class DbSink(EventSink):
    """Rows of one table: row_mapper_function(timestamp, subject, transition) -> {column: value}."""

    def __init__(self, channel: DbChannel, table_name: str,
                 row_mapper_function: Callable[[int, Any, Transition], dict[str, Any]],
                 batch_size: int) -> None:
        self.channel = channel
        self.table_name = table_name
        self.row_mapper_function = row_mapper_function
        self.batch_size = batch_size

    def collect(self, timestamp: int, subject: Any, transition: Transition) -> None:
        self.channel.stage(self.table_name, self.row_mapper_function(timestamp, subject,
                                                                     transition))

    def committer(self) -> TickCommitter:
        return self.channel


class DbSinkFactory:
    """Sinks inserting into existing PostgreSQL tables (`db_url` as DOGE's SQLAlchemy URL)."""

    @user_errors
    def __init__(self, db_url: str) -> None:
        self.channel = DbChannel(db_url, call_site())

    @user_errors
    def create(self, table_name: str,
               row_mapper_function: Callable[[int, Any, Transition], dict[str, Any]],
               batch_size: int = 1000) -> DbSink:
        """A sink for the existing table `table_name`; `batch_size` is accepted and not needed
        (each tick is one transaction)."""
        site = call_site()
        if not isinstance(table_name, str) or not table_name:
            raise DogeError(site, "table_name", f"expected a table name, got {table_name!r}")
        if not callable(row_mapper_function):
            raise DogeError(site, "row_mapper_function", f"expected a function, got "
                            f"{row_mapper_function!r}")
        self.channel.tables[table_name] = site
        return DbSink(self.channel, table_name, row_mapper_function, batch_size)
