"""`doge_offsets` (each shard's committed tick and latest snapshot), `doge_tables` (which run
owns a table) and fencing of earlier writers of the same shards.

Fencing: a writer holds a session advisory lock per shard for its whole life. A new writer of a
shard terminates the backend of any session still holding that lock (a task that lost its shards,
a process that was killed but whose backend has not noticed yet) and waits for the lock: once it
has it, every transaction of the old writer is either committed or rolled back, so the offsets it
then reads are final. Each commit also checks that the offsets are still those it last read or
wrote (a compare-and-set), which catches a reset done by hand.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

import structlog
from psycopg import sql

from connector.core.checkpoint import Committed, ShardCheckpoint
from connector.destinations.postgres.tables import Conn
from connector.errors import InfrastructureError, UserError

log = structlog.get_logger(__name__)

OFFSETS_TABLE: Final = "doge_offsets"
TABLES_TABLE: Final = "doge_tables"
LOCK_TIMEOUT: Final = "30s"
TERMINATE_WAIT_MS: Final = 10_000


def create_tables(conn: Conn, schema: str) -> None:
    """Create doge_offsets and doge_tables where absent (a role that may not create tables can
    still use existing ones: so check before CREATE, which needs the privilege even if absent)."""
    if not all(_exists(conn, name) for name in offsets_regclass(schema)):
        _create(conn, schema)


def _create(conn: Conn, schema: str) -> None:
    conn.execute(sql.SQL(
        "CREATE TABLE IF NOT EXISTS {} (connector text NOT NULL, shard integer NOT NULL, "
        "fingerprint text NOT NULL, start_ms bigint NOT NULL, next_tick bigint NOT NULL, "
        "snapshot bytea, snapshot_tick bigint, committed_at timestamptz NOT NULL DEFAULT now(), "
        "PRIMARY KEY (connector, shard))").format(sql.Identifier(schema, OFFSETS_TABLE)))
    conn.execute(sql.SQL(
        "CREATE TABLE IF NOT EXISTS {} (table_schema text NOT NULL, table_name text NOT NULL, "
        "connector text NOT NULL, fingerprint text NOT NULL, "
        "PRIMARY KEY (table_schema, table_name))").format(sql.Identifier(schema, TABLES_TABLE)))


def offsets_exist(conn: Conn, schema: str) -> bool:
    return _exists(conn, _regclass(schema, OFFSETS_TABLE))


def _exists(conn: Conn, regclass: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s)", (regclass,)).fetchone()
    return row is not None and row[0] is not None


def _regclass(schema: str, table: str) -> str:
    return sql.Identifier(schema, table).as_string(None)


def offsets_regclass(schema: str) -> list[str]:
    return [_regclass(schema, OFFSETS_TABLE), _regclass(schema, TABLES_TABLE)]


def read(conn: Conn, schema: str, connector: str, shards: list[int]
         ) -> tuple[Committed | None, dict[int, int]]:
    """What is committed for `shards` of `connector`, and each shard's committed next tick."""
    if not offsets_exist(conn, schema):
        return None, {}
    rows = conn.execute(sql.SQL(
        "SELECT shard, fingerprint, start_ms, next_tick, snapshot, snapshot_tick FROM {} "
        "WHERE connector = %s AND shard = ANY(%s) ORDER BY shard").format(
        sql.Identifier(schema, OFFSETS_TABLE)), (connector, shards)).fetchall()
    if not rows:
        return None, {}
    found = {int(r[0]): ShardCheckpoint(int(r[3]), bytes(r[4]) if r[4] is not None else None,
                                        int(r[5]) if r[4] is not None else None) for r in rows}
    return Committed(str(rows[0][1]), int(rows[0][2]), found), \
        {s: cp.next_tick for s, cp in found.items()}


def write(conn: Conn, schema: str, connector: str, fingerprint: str, start_ms: int,
          checkpoints: dict[int, ShardCheckpoint], expected: dict[int, int]) -> None:
    """Upsert every shard's checkpoint (without a snapshot: keep the stored one), provided each
    stored row is still the one we last read or wrote (`expected`; absent: no row). One
    statement, so one round trip; InfrastructureError (the caller's transaction rolls back) if
    another writer or a manual reset moved them."""
    shards = sorted(checkpoints)
    cps = [checkpoints[s] for s in shards]
    rows = conn.execute(sql.SQL(
        "WITH input AS (SELECT * FROM unnest(%s::integer[], %s::bigint[], %s::bigint[], "
        "%s::bytea[], %s::bigint[]) AS t(shard, next_tick, expected, snapshot, snapshot_tick)) "
        "INSERT INTO {table} AS o (connector, shard, fingerprint, start_ms, next_tick, snapshot, "
        "snapshot_tick) SELECT %s, shard, %s, %s, next_tick, snapshot, snapshot_tick FROM input "
        "ON CONFLICT (connector, shard) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, "
        "start_ms = EXCLUDED.start_ms, next_tick = EXCLUDED.next_tick, "
        "snapshot = COALESCE(EXCLUDED.snapshot, o.snapshot), "
        "snapshot_tick = COALESCE(EXCLUDED.snapshot_tick, o.snapshot_tick), committed_at = now() "
        "WHERE o.next_tick IS NOT DISTINCT FROM (SELECT expected FROM input i WHERE i.shard = "
        "o.shard) RETURNING shard").format(table=sql.Identifier(schema, OFFSETS_TABLE)),
        (shards, [cp.next_tick for cp in cps], [expected.get(s) for s in shards],
         [cp.snapshot for cp in cps],
         [cp.snapshot_tick if cp.snapshot is not None else None for cp in cps],
         connector, fingerprint, start_ms)).fetchall()
    written = {int(r[0]) for r in rows}
    if written != set(shards):
        moved = sorted(set(shards) - written)
        raise InfrastructureError(
            f"the offsets of connector {connector!r} shard(s) {moved} in {schema}.{OFFSETS_TABLE} "
            "changed under this task (another writer or a manual reset); nothing of this commit "
            "was written. Start the run again to resume from what is committed")


def claim_tables(conn: Conn, schema: str, connector: str, fingerprint: str,
                 tables: list[tuple[str, str, bool]]) -> None:
    """Record that this run owns each (schema, table, created now) table; refuse a table that
    holds another run's rows (another connector, or this one with another model or seed)."""
    ident = sql.Identifier(schema, TABLES_TABLE)
    for table_schema, table, created in tables:
        row = conn.execute(sql.SQL(
            "SELECT connector, fingerprint FROM {} WHERE table_schema = %s AND table_name = %s")
            .format(ident), (table_schema, table)).fetchone()
        if row is not None and not created and (row[0], row[1]) != (connector, fingerprint):
            who = f"connector {row[0]!r}" if row[0] != connector else \
                "an earlier run of this connector with another model, seed or settings"
            raise UserError(
                f"table {table_schema}.{table} holds the output of {who}; writing to it would "
                "mix two runs. Drop or truncate the table (and delete its row from "
                f"{schema}.{TABLES_TABLE}), or choose another postgres.table.prefix or "
                "postgres.schema")
        conn.execute(sql.SQL(
            "INSERT INTO {} (table_schema, table_name, connector, fingerprint) VALUES "
            "(%s, %s, %s, %s) ON CONFLICT (table_schema, table_name) DO UPDATE SET "
            "connector = EXCLUDED.connector, fingerprint = EXCLUDED.fingerprint").format(ident),
            (table_schema, table, connector, fingerprint))


def lock_key(schema: str, connector: str) -> int:
    """The first half of the shard locks' key: 31 bits of a hash of where the offsets live."""
    digest = hashlib.blake2b(f"doge-connect/{schema}/{connector}".encode(), digest_size=4)
    return int.from_bytes(digest.digest(), "big") & 0x7FFF_FFFF


def fence(conn: Conn, key: int, shards: list[int]) -> None:
    """Take every shard's session lock, terminating the sessions that hold one (see module doc).
    Runs in autocommit mode: session locks outlive transactions."""
    for shard in shards:
        row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (key, shard)).fetchone()
        if row is not None and row[0]:
            continue
        for pid, user in _holders(conn, key, shard):
            log.warning("fencing an earlier writer of this shard", shard=shard, pid=pid)
            ok = conn.execute("SELECT pg_terminate_backend(%s, %s)",
                              (pid, TERMINATE_WAIT_MS)).fetchone()
            if ok is None or not ok[0]:
                raise UserError(f"shard {shard} is being written by another session (pid {pid}, "
                                f"role {user}) that this role may not stop; stop it first")
        conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
        conn.execute("SELECT pg_advisory_lock(%s, %s)", (key, shard))
        conn.execute("RESET lock_timeout")


def _holders(conn: Conn, key: int, shard: int) -> list[tuple[int, Any]]:
    rows = conn.execute(
        "SELECT l.pid, a.usename FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM "
        "pg_database WHERE datname = current_database()) AND l.classid = %s::oid "
        "AND l.objid = %s::oid AND l.objsubid = 2 AND l.pid <> pg_backend_pid()",
        (key, shard)).fetchall()
    return [(int(r[0]), r[1]) for r in rows]
