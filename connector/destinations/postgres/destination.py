"""The PostgreSQL destination: one table per topic, events and offsets in one transaction.

Per commit, in ONE database transaction: per topic a `COPY ... FROM STDIN (FORMAT BINARY)` of its
staged rows (append: into the table; upsert: into a temporary staging table, then `INSERT ...
SELECT DISTINCT ON (key) ... ON CONFLICT DO UPDATE` keeps the latest row of each key); `DELETE` of
the rows of users who reached a final state (upsert tables); then every shard's checkpoint (and,
when due, snapshot), written only if the stored offsets are still those this task last saw. The
COMMIT completes in the background (see `commit`). A crash at any moment rolls the whole
transaction back, so a restart resumes from exactly what is committed.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import psycopg
import structlog

from connector.core.batch import EventColumns, TickBatch
from connector.core.checkpoint import Committed, ShardCheckpoint
from connector.core.staged import merge
from connector.destinations.postgres import offsets, tables
from connector.destinations.postgres.columns import table_columns
from connector.destinations.postgres.copybin import CopyEncodeError, encode_rows
from connector.destinations.postgres.settings import PostgresSettings
from connector.destinations.postgres.tables import Conn, TablePlan
from connector.errors import InfrastructureError, UserError
from connector.model.avro import LoadedSchema

log = structlog.get_logger(__name__)


@attrs.frozen
class _Encoded:
    """One topic's rows of a commit as COPY BINARY data."""

    plan: TablePlan
    header: bytes
    body: npt.NDArray[np.uint8]


# A topic's staged rows of a commit.
_Staged = tuple[TablePlan, list[tuple[int, EventColumns]]]


class PostgresDestination:
    """Topic tables plus `doge_offsets` in one PostgreSQL database (see the module doc)."""

    def __init__(self, settings: PostgresSettings, connector: str,
                 schemas: Mapping[str, LoadedSchema], shards: list[int],
                 final_transitions: Collection[str] = ()) -> None:
        self.settings = settings
        self.target = settings.target
        self.connector = connector
        self.shards = sorted(shards)
        # Events of these transitions are the last of their user (it enters a final state).
        self.final_transitions = frozenset(final_transitions)
        self.plans = {topic: TablePlan(topic, settings.schema, settings.table(topic),
                                       table_columns(schema), settings.upsert_of(topic),
                                       f"doge_stage_{i}")
                      for i, (topic, schema) in enumerate(sorted(schemas.items()))}
        self._conn: Conn | None = None
        self._staged: dict[str, list[tuple[int, EventColumns]]] = defaultdict(list)
        self._finished: list[np.ndarray] = []  # user ids that reached a final state
        self._expected: dict[int, int] = {}  # shard -> next tick we last read or committed
        self._fingerprint = ""
        self._start_ms = 0
        self._committer: ThreadPoolExecutor | None = None  # completes each COMMIT
        self._in_flight: Future[None] | None = None

    # -- start-up -------------------------------------------------------------------------
    def committed(self) -> Committed | None:
        """Fence earlier writers of our shards, then read what is committed."""
        with contextlib.suppress(Exception):
            self.flush()  # whatever its outcome: what counts is what is committed
        self._close_connection()
        conn = self._conn = self.target.connect(autocommit=True)
        schema = self.settings.schema
        with self.target.errors("cannot read the committed offsets", UserError):
            offsets.fence(conn, offsets.lock_key(schema, self.connector), self.shards)
            committed, self._expected = offsets.read(conn, schema, self.connector, self.shards)
        log.info("postgres destination connected", target=self.target.display,
                 resuming=committed is not None)
        return committed

    def begin(self, fingerprint: str, start_ms: int) -> None:
        """Create what is missing and check what exists, in one transaction (all or nothing)."""
        conn = self._connection()
        self._fingerprint, self._start_ms = fingerprint, start_ms
        self._staged.clear()
        self._finished.clear()
        with self.target.errors("cannot prepare the tables", UserError), conn.transaction():
            # One preparer per schema at a time: tasks (or connectors) starting together must not
            # race on CREATE TABLE.
            conn.execute("SELECT pg_advisory_xact_lock(%s, -1)",
                         (offsets.lock_key(self.settings.schema, ""),))
            self._ensure_schema(conn)
            offsets.create_tables(conn, self.settings.schema)
            claimed = [(p.schema, p.name, tables.ensure_table(conn, p, self._where()))
                       for p in self.plans.values()]
            self._check_privileges(conn)
            offsets.claim_tables(conn, self.settings.schema, self.connector, fingerprint,
                                 claimed)
            for plan in self.plans.values():
                if plan.upsert is not None:
                    tables.create_stage(conn, plan)

    def _ensure_schema(self, conn: Conn) -> None:
        schema = self.settings.schema
        row = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
        if row is None:
            conn.execute(psycopg.sql.SQL("CREATE SCHEMA {}").format(
                psycopg.sql.Identifier(schema)))

    def _check_privileges(self, conn: Conn) -> None:
        """One error listing every privilege this role lacks, before anything is written."""
        missing = []
        for plan in self.plans.values():
            lacks = tables.missing_privileges(conn, plan)
            if lacks:
                missing.append(f"{'/'.join(lacks)} on {plan.shown}")
        for regclass in offsets.offsets_regclass(self.settings.schema):
            lacks = tables.table_privileges(conn, regclass, ["SELECT", "INSERT", "UPDATE"])
            if lacks:
                missing.append(f"{'/'.join(lacks)} on {regclass}")
        if missing:
            row = conn.execute("SELECT current_user").fetchone()
            role = row[0] if row else "?"
            raise UserError(f"PostgreSQL {self.target.display}: role {role!r} lacks "
                            f"{'; '.join(missing)}; grant them or connect as another role")

    def _where(self) -> str:
        return f"connector {self.connector!r}, {self.target.display}"

    # -- the transaction ------------------------------------------------------------------
    def write(self, batch: TickBatch) -> None:
        for events in batch.events:
            if not len(events):
                continue
            self._staged[events.topic].append((batch.tick, events))
            if events.transition in self.final_transitions:
                self._finished.append(events.user_ids)

    def send_ahead(self) -> None:
        """Nothing sent ahead: the commit COPYs the staged rows in one database transaction."""

    def commit(self, checkpoints: dict[int, ShardCheckpoint]) -> None:
        """Staged rows and checkpoints in one transaction. Everything but the final COMMIT's
        round trip (the server's WAL flush) happens here; that one completes in the background,
        overlapping the caller's next ticks: durable once `flush` or the next `commit` has
        returned, which raise if it failed."""
        conn = self._connection()
        schema = self.settings.schema
        try:
            finished = np.unique(np.concatenate(self._finished)).tolist() \
                if self._finished else []
            items = [(self.plans[topic], staged) for topic, staged in self._staged.items()]
            encoded: list[_Encoded | None] = [None] * len(items)
            # Encode while the previous COMMIT is still in flight (at least the first topic).
            for i, item in enumerate(items):
                if i and (self._in_flight is None or self._in_flight.done()):
                    break
                encoded[i] = self._encode(*item)
        finally:
            self._staged.clear()
            self._finished.clear()
        self.flush()  # one transaction at a time, in order
        with self.target.errors("commit failed (rolled back)"), _rollback_on_error(conn):
            conn.execute("BEGIN")
            with conn.cursor() as cur:
                self._copy_all(cur, items, encoded)
                # Users who reached a final state leave every upsert table, after this
                # commit's upserts (a user's final event is its last).
                if finished:
                    for plan in self.plans.values():
                        if plan.upsert is not None:
                            cur.execute(tables.delete_statement(plan), (finished,))
            offsets.write(conn, schema, self.connector, self._fingerprint, self._start_ms,
                          checkpoints, self._expected)
        if self._committer is None:
            self._committer = ThreadPoolExecutor(1, thread_name_prefix="doge-pg-commit")
        self._in_flight = self._committer.submit(self._finish, conn, dict(checkpoints))

    def _finish(self, conn: Conn, checkpoints: dict[int, ShardCheckpoint]) -> None:
        """COMMIT (on the committer thread: one round trip, the GIL released while waiting)."""
        with self.target.errors("commit failed (rolled back)"), _rollback_on_error(conn):
            conn.execute("COMMIT")
        self._expected.update({s: cp.next_tick for s, cp in checkpoints.items()})

    def flush(self) -> None:
        """Wait until the last commit is durable; raises what made it fail."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            in_flight.result()

    def _copy_all(self, cur: psycopg.Cursor[Any], items: list[_Staged],
                  encoded: list[_Encoded | None]) -> None:
        """One COPY per topic. A topic not encoded yet is encoded while the server ingests the
        rows just sent, before waiting for that COPY to complete: the encoding overlaps the
        server's work."""
        for i, item in enumerate(items):
            done = encoded[i] or self._encode(*item)
            with cur.copy(tables.copy_statement(done.plan)) as copy:
                copy.write(done.header)
                copy.write(done.body.data)
                if i + 1 < len(items) and encoded[i + 1] is None:
                    encoded[i + 1] = self._encode(*items[i + 1])
            if done.plan.upsert is not None:
                cur.execute(tables.merge_statement(done.plan))

    def _encode(self, plan: TablePlan, staged: list[tuple[int, EventColumns]]) -> _Encoded:
        rows = merge(staged)
        extra = [np.arange(len(rows), dtype=np.int64)] if plan.upsert is not None else []
        try:
            header, body = encode_rows(plan.columns, rows, extra)
        except CopyEncodeError as exc:
            raise InfrastructureError(f"topic {plan.topic!r}: {exc}") from None
        return _Encoded(plan, header, body)

    def close(self) -> None:
        """Wait for a commit in flight, then close the connection (an open transaction rolls
        back, the shard locks are released); never raises."""
        self._staged.clear()
        self._finished.clear()
        with contextlib.suppress(Exception):
            self.flush()
        if self._committer is not None:
            self._committer.shutdown(wait=True)
            self._committer = None
        self._close_connection()

    def _connection(self) -> Conn:
        if self._conn is None:
            raise RuntimeError("committed() must run first")
        return self._conn

    def _close_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None


@contextlib.contextmanager
def _rollback_on_error(conn: Conn) -> Iterator[None]:
    """Roll the open transaction back when the block fails (the connection may be gone)."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(psycopg.Error):
            conn.rollback()
        raise


__all__ = ["PostgresDestination"]
