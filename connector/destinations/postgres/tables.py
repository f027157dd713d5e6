"""The topic tables: created from the schema when absent, checked (never altered) when present.

An existing table is accepted when every column doge-connect writes exists with exactly the mapped
type, no column we may leave NULL is NOT NULL, every column we do not write may be left to its
default, and its unique indexes fit the topic's mode (upsert: one on exactly the key columns;
append: none on `doge_user`). Anything else is refused with every mismatch named.
"""

from __future__ import annotations

from typing import Any

import attrs
import psycopg
from psycopg import sql

from connector.destinations.postgres.columns import SEQ_COLUMN, USER_COLUMN, Column, PgType
from connector.destinations.postgres.settings import UpsertSpec
from connector.errors import UserError

Conn = psycopg.Connection[tuple[Any, ...]]


@attrs.frozen
class TablePlan:
    """One topic's table: where it is, its columns, its mode."""

    topic: str
    schema: str
    name: str
    columns: tuple[Column, ...]
    upsert: UpsertSpec | None
    stage: str  # the session's temporary staging table (upsert topics)

    @property
    def ident(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)

    @property
    def shown(self) -> str:
        return f"{self.schema}.{self.name}"

    def column_list(self) -> sql.Composed:
        return sql.SQL(", ").join(sql.Identifier(c.name) for c in self.columns)


def ensure_table(conn: Conn, plan: TablePlan, where: str) -> bool:
    """Create the table if absent (True), else check it can be written as planned (False)."""
    exists = conn.execute("SELECT to_regclass(%s)", (_regclass_text(plan),)).fetchone()
    if exists is not None and exists[0] is not None:
        check_existing(conn, plan, where)
        return False
    columns = [sql.SQL("{} {}{}").format(sql.Identifier(c.name), sql.SQL(c.pg_type.value),
                                         sql.SQL("" if c.nullable else " NOT NULL"))
               for c in plan.columns]
    if plan.upsert is not None:
        columns.append(sql.SQL("PRIMARY KEY ({})").format(
            sql.SQL(", ").join(map(sql.Identifier, plan.upsert.key_columns))))
    conn.execute(sql.SQL("CREATE TABLE {} ({})").format(plan.ident, sql.SQL(", ").join(columns)))
    return True


def check_existing(conn: Conn, plan: TablePlan, where: str) -> None:
    """UserError naming every reason the existing table cannot take this topic's rows."""
    oid = _regclass_text(plan)
    kind = conn.execute("SELECT relkind FROM pg_class WHERE oid = %s::regclass", (oid,)).fetchone()
    if kind is None or kind[0] not in ("r", "p"):
        raise UserError(f"{plan.shown} exists and is not a table; {_advice(where)}")
    rows = conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod), attnotnull, atthasdef OR "
        "attidentity <> '' OR attgenerated <> '' FROM pg_attribute WHERE attrelid = "
        "%s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (oid,)).fetchall()
    existing = {r[0]: (r[1], r[2], r[3]) for r in rows}
    problems = []
    written = set()
    for column in plan.columns:
        written.add(column.name)
        found = existing.get(column.name)
        if found is None:
            problems.append(f'column "{column.name}" ({column.pg_type.value}) is missing')
        elif found[0] != column.pg_type.value:
            problems.append(f'column "{column.name}" is {found[0]}, doge-connect writes '
                            f"{column.pg_type.value}")
        elif found[1] and column.nullable:
            problems.append(f'column "{column.name}" is NOT NULL, but the schema lets it be null')
    for name, (_, not_null, has_default) in existing.items():
        if name not in written and not_null and not has_default:
            problems.append(f'column "{name}" is NOT NULL without a default, and doge-connect '
                            "does not write it")
    problems += _index_problems(conn, plan, oid)
    if problems:
        raise UserError(f"table {plan.shown} exists but does not fit topic {plan.topic!r}: "
                        f"{'; '.join(problems)}. doge-connect never alters an existing table; "
                        f"{_advice(where)}")


def _index_problems(conn: Conn, plan: TablePlan, oid: str) -> list[str]:
    uniques = [set(r[0]) for r in conn.execute(
        "SELECT array_agg(a.attname::text) FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
        "i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND "
        "i.indisunique AND i.indpred IS NULL GROUP BY i.indexrelid", (oid,)).fetchall()]
    if plan.upsert is not None:
        keys = set(plan.upsert.key_columns)
        if keys not in uniques:
            shown = ", ".join(plan.upsert.key_columns)
            return [f"upsert mode needs a primary key or unique index on exactly ({shown})"]
        return []
    if any(USER_COLUMN in u for u in uniques):
        return [f"it has a unique index on {USER_COLUMN} (an upsert table?), but the topic is "
                "appended to; add it to postgres.upsert.topics / --upsert"]
    return []


def _advice(where: str) -> str:
    return (f"drop or rename it, or choose another postgres.schema or postgres.table.prefix "
            f"({where})")


def _regclass_text(plan: TablePlan) -> str:
    return sql.Identifier(plan.schema, plan.name).as_string(None)


def missing_privileges(conn: Conn, plan: TablePlan) -> list[str]:
    """Privileges on the table that this role lacks for the topic's mode."""
    needed = ["INSERT"] + (["SELECT", "UPDATE", "DELETE"] if plan.upsert is not None else [])
    return table_privileges(conn, _regclass_text(plan), needed)


def table_privileges(conn: Conn, regclass: str, needed: list[str]) -> list[str]:
    row = conn.execute(sql.SQL("SELECT {}").format(sql.SQL(", ").join(
        sql.SQL("has_table_privilege(%s::regclass, {})").format(sql.Literal(p))
        for p in needed)), [regclass] * len(needed)).fetchone()
    assert row is not None
    return [p for p, ok in zip(needed, row, strict=True) if not ok]


def create_stage(conn: Conn, plan: TablePlan) -> None:
    """The session's staging table of an upsert topic: the written columns plus `doge_seq`."""
    columns = [sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.pg_type.value))
               for c in plan.columns]
    columns.append(sql.SQL("{} {}").format(sql.Identifier(SEQ_COLUMN),
                                           sql.SQL(PgType.BIGINT.value)))
    conn.execute(sql.SQL("CREATE TEMPORARY TABLE IF NOT EXISTS {} ({}) ON COMMIT DELETE ROWS")
                 .format(sql.Identifier(plan.stage), sql.SQL(", ").join(columns)))


def copy_statement(plan: TablePlan) -> sql.Composed:
    """COPY into the table (append) or into its staging table (upsert)."""
    if plan.upsert is None:
        return sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            plan.ident, plan.column_list())
    return sql.SQL("COPY {} ({}, {}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(plan.stage), plan.column_list(), sql.Identifier(SEQ_COLUMN))


def merge_statement(plan: TablePlan) -> sql.Composed:
    """Staged rows into the table: the latest row of each key inserts or updates its row."""
    assert plan.upsert is not None
    keys = sql.SQL(", ").join(map(sql.Identifier, plan.upsert.key_columns))
    updates = sql.SQL(", ").join(
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c.name))
        for c in plan.columns if c.name not in plan.upsert.key_columns)
    return sql.SQL(
        "INSERT INTO {table} ({cols}) SELECT DISTINCT ON ({keys}) {cols} FROM {stage} "
        "ORDER BY {keys}, {seq} DESC ON CONFLICT ({keys}) DO UPDATE SET {updates}").format(
        table=plan.ident, cols=plan.column_list(), keys=keys, stage=sql.Identifier(plan.stage),
        seq=sql.Identifier(SEQ_COLUMN), updates=updates)


def delete_statement(plan: TablePlan) -> sql.Composed:
    """The rows of users that reached a final state."""
    return sql.SQL("DELETE FROM {} WHERE {} = ANY(%s)").format(
        plan.ident, sql.Identifier(USER_COLUMN))
