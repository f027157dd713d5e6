"""What a test reads back from PostgreSQL: tables' content digests and the committed progress."""

from __future__ import annotations

import psycopg

BANKING_TABLES = ("balance", "clickstream", "loan", "trx")


def digests(url: str, tables: tuple[str, ...]) -> dict[str, tuple[int, str]]:
    """Per table: row count and md5 of every row's text, rows in a total order (their text)."""
    out = {}
    with psycopg.connect(url) as conn:
        for table in tables:
            row = conn.execute(f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' "
                               f"ORDER BY t::text), '')) FROM {table} t").fetchone()
            assert row is not None
            out[table] = (int(row[0]), str(row[1]))
    return out


def progress(url: str) -> tuple[int, object]:
    """(lowest committed next tick, latest commit time) in doge_offsets; (-1, None) before any."""
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT min(next_tick), max(committed_at) FROM doge_offsets"
                               ).fetchone()
    except psycopg.errors.UndefinedTable:
        return -1, None
    return (-1, None) if row is None or row[0] is None else (int(row[0]), row[1])
