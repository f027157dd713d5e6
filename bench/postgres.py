"""PostgreSQL benchmark: the destination's rows/s against a COPY ceiling and a DOGE-style sink.

    scripts/postgres.sh start        # or scripts/infra.sh up
    .venv/bin/python bench/postgres.py [--users 300000] [--ticks 240] [--boundary-ticks 10]
                                       [--repeat 7] [--doge-rows 20000] [--url postgresql://...]

The banking model's events for `--ticks` ticks (8 shards, or `--shards`) are stepped by the
engine BEFORE any timing, so every figure is the database side only. In a fresh database
(dropped at the end), the same rows go, commit by commit (`--boundary-ticks` ticks per
transaction, as transaction.boundary=ticks would cut them), through:

* ours: `PostgresDestination.write` + `commit` (numpy binary COPY encoding, one transaction with a
  COPY per topic and the shard offsets, on the committer thread so that encoding the next commit
  overlaps it), then `flush`: what `doge run --to` does per commit;
* ceiling: the same rows as COPY BINARY bytes encoded before timing, one COPY per topic and one
  commit per transaction from one connection, into tables of the same shape: what the server and
  the wire allow, with no encoding and no offsets;
* psycopg write_row: the same COPYs with psycopg's own per-row binary encoder
  (`Copy.write_row`, C-accelerated), the rows built from the engine's columns as Python tuples
  (datetimes for timestamps), what a plain psycopg COPY loader does: whether columnar pays;
* DOGE-style: what the seed's database sink does per event: a dict per event and one
  `INSERT ... VALUES (...)` per event through psycopg into the seed's table shape (the value's
  fields, timestamps as bigint), one commit per tick (generous: per-event commits would be far
  slower); over the first `--doge-rows` rows only, as it is slow.

Each is repeated `--repeat` times, in turn, into emptied tables; min/median/max rows/s are printed,
and the ratios ours/ceiling (target >= 0.60) and ours/DOGE-style (target >= 20): of the best runs
(the least disturbed by whatever else the machine runs), of the medians, and "paired": the median
over repeats of the ratio within one repeat (its measurements run back to back, so a change of
the machine's load between repeats cancels out; the targets are judged on this one).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg
from psycopg import sql

from connector.core.batch import EventColumns, TickBatch
from connector.core.checkpoint import ShardCheckpoint
from connector.core.staged import merge
from connector.destinations.postgres import postgres_destination
from connector.destinations.postgres.copybin import encode_rows
from connector.destinations.postgres.destination import PostgresDestination
from connector.engine.shard import step_shards
from connector.runtime.config import parse_connector
from connector.runtime.simulation import prepare

SHARDS = 8  # the connector default (--shards measures another count)
START_MS = 1_704_067_200_000  # 2024-01-01

Commit = list[TickBatch]  # the batches of one transaction


def events(users: int, ticks: int, boundary: int, shards: int) -> tuple[Any, list[Commit]]:
    """The simulation and its batches grouped into commits (stepped before any timing)."""
    data = {"name": "bench", "config": {"model": str(ROOT / "config/models/banking.yaml"),
                                        "users": str(users), "shards": str(shards), "seed": "1",
                                        "ticks": str(ticks), "start.time": str(START_MS)}}
    sim = prepare(parse_connector(data, None, ROOT))
    settings = sim.settings(START_MS)
    engines = [sim.shard(settings, s) for s in range(shards)]
    commits: list[Commit] = []
    for tick in range(ticks):
        if tick % boundary == 0:
            commits.append([])
        commits[-1].extend(step_shards(engines))
    return sim, commits


def rows_of(commits: list[Commit]) -> int:
    return sum(b.event_count for c in commits for b in c)


def measure_ours(sim: Any, url: str, commits: list[Commit]) -> float:
    """Seconds for write+commit of every commit through the destination (tables pre-made)."""
    shards = sim.config.shards
    destination = postgres_destination("bench", {}, {}, sim.model, list(range(shards)), url)
    destination.committed()
    destination.begin("bench", START_MS)
    tick = 0
    started = time.perf_counter()
    for commit in commits:
        for batch in commit:
            destination.write(batch)
            tick = batch.tick + 1
        destination.commit({s: ShardCheckpoint(tick) for s in range(shards)})
    destination.flush()
    elapsed = time.perf_counter() - started
    destination.close()
    return elapsed


def staged(commit: Commit) -> dict[str, list[tuple[int, EventColumns]]]:
    out: dict[str, list[tuple[int, EventColumns]]] = {}
    for batch in commit:
        for e in batch.events:
            if len(e):
                out.setdefault(e.topic, []).append((batch.tick, e))
    return out


def measure_ceiling(conn: psycopg.Connection[Any], plans: dict[str, Any],
                    encoded: list[dict[str, bytes]], prefix: str) -> float:
    """Seconds for the pre-encoded COPYs, one transaction per commit."""
    started = time.perf_counter()
    for commit in encoded:
        with conn.transaction(), conn.cursor() as cur:
            for topic, data in commit.items():
                statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
                    sql.Identifier(prefix + topic), plans[topic].column_list())
                with cur.copy(statement) as copy:
                    copy.write(data)
    return time.perf_counter() - started


def measure_write_row(conn: psycopg.Connection[Any], plans: dict[str, Any],
                      stage: list[dict[str, list[tuple[int, EventColumns]]]],
                      prefix: str) -> float:
    """Seconds for the same COPYs with psycopg encoding each row (write_row), the rows built
    from the engine's columns as such a loader must (timed too)."""
    started = time.perf_counter()
    for commit in stage:
        with conn.transaction(), conn.cursor() as cur:
            for topic, staged_rows in commit.items():
                plan = plans[topic]
                statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
                    sql.Identifier(prefix + topic), plan.column_list())
                with cur.copy(statement) as copy:
                    copy.set_types([c.pg_type.value for c in plan.columns])
                    for row in python_rows(plan, staged_rows):
                        copy.write_row(row)
    return time.perf_counter() - started


def python_rows(plan: Any, staged_rows: list[tuple[int, EventColumns]]) -> list[tuple[Any, ...]]:
    """Rows as Python tuples for write_row (timestamps as datetimes, as a loader would)."""
    out = []
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    for tick, e in staged_rows:
        cols = []
        for c in plan.columns:
            if c.name == "doge_user":
                cols.append(e.user_ids.tolist())
            elif c.name == "doge_tick":
                cols.append([tick] * len(e))
            elif c.name == "doge_time":
                cols.append([epoch + dt.timedelta(milliseconds=v) for v in e.timestamps.tolist()])
            elif c.pg_type.value.startswith("timestamp"):
                cols.append([epoch + dt.timedelta(milliseconds=v)
                             for v in e.array(c.name).tolist()])
            else:
                cols.append(e.array(c.name).tolist())
        out += list(zip(*cols, strict=True))
    return out


def measure_doge(conn: psycopg.Connection[Any], commits: list[Commit], limit: int,
                 prefix: str, schemas: dict[str, Any]) -> tuple[float, int]:
    """DOGE's DB sink per event: a dict, one INSERT; a commit per tick. (seconds, rows)."""
    statements = {t: sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(prefix + t), sql.SQL(", ").join(sql.Identifier(f["name"])
                                                      for f in s.parsed["fields"]),
        sql.SQL(", ").join(sql.Placeholder(f["name"]) for f in s.parsed["fields"]))
        for t, s in schemas.items()}
    done = 0
    started = time.perf_counter()
    for commit in commits:
        for batch in commit:
            with conn.transaction(), conn.cursor() as cur:
                for e in batch.events:
                    names = list(e.fields)
                    columns = [e.array(n).tolist() for n in names]
                    for values in zip(*columns, strict=True):
                        cur.execute(statements[e.topic], dict(zip(names, values, strict=True)))
                        done += 1
            if done >= limit:
                return time.perf_counter() - started, done
    return time.perf_counter() - started, done


def summary(name: str, rows: int, seconds: list[float]) -> tuple[float, float]:
    """Print min/median/max rows/s; returns (best, median)."""
    rates = sorted(rows / s for s in seconds)
    median = statistics.median(rates)
    print(f"  {name:<24} {rates[0]:>11,.0f} {median:>11,.0f} {rates[-1]:>11,.0f}   rows/s "
          f"(min/median/max of {len(rates)})")
    return rates[-1], median


def default_url() -> str:
    if os.environ.get("DOGE_TEST_POSTGRES"):
        return os.environ["DOGE_TEST_POSTGRES"]
    return subprocess.run([str(ROOT / "scripts/postgres.sh"), "url"], capture_output=True,
                          text=True, check=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300_000)
    parser.add_argument("--shards", type=int, default=SHARDS)
    parser.add_argument("--ticks", type=int, default=240)
    parser.add_argument("--boundary-ticks", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--doge-rows", type=int, default=20_000)
    parser.add_argument("--url", default=None, help="server URL (default: DOGE_TEST_POSTGRES, "
                        "else scripts/postgres.sh url)")
    args = parser.parse_args()
    server = args.url or default_url()
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = server.rsplit("/", 1)[0] + "/" + name
    try:
        run(args, url)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def run(args: argparse.Namespace, url: str) -> None:
    t0 = time.perf_counter()
    sim, commits = events(args.users, args.ticks, args.boundary_ticks, args.shards)
    rows = rows_of(commits)
    print(f"banking model, {args.users:,} users, {args.shards} shards, {args.ticks} ticks, "
          f"{len(commits)} commits of "
          f"{args.boundary_ticks} ticks: {rows:,} rows (stepped in {time.perf_counter() - t0:.1f}s"
          f", not timed)")
    probe: PostgresDestination = postgres_destination("bench", {}, {}, sim.model,
                                                      list(range(args.shards)), url)
    probe.committed()
    probe.begin("bench", START_MS)  # creates the topic tables and doge_offsets
    probe.close()
    plans = probe.plans
    stage = [staged(c) for c in commits]
    started = time.perf_counter()
    encoded = [{t: b"".join(bytes(p) for p in encode_rows(plans[t].columns, merge(s)))
                for t, s in commit.items()} for commit in stage]
    encode_s = time.perf_counter() - started
    with psycopg.connect(url, autocommit=True) as conn:
        for prefix in ("ceil_", "row_"):
            for topic in plans:
                conn.execute(sql.SQL("CREATE TABLE {} (LIKE {})").format(
                    sql.Identifier(prefix + topic), sql.Identifier(topic)))
        for topic, plan in plans.items():
            # DOGE's tables: the value's fields only, timestamps as epoch-millisecond bigints.
            conn.execute(sql.SQL("CREATE TABLE {} ({})").format(
                sql.Identifier("doge_" + topic), sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(
                        "bigint" if c.pg_type.value.startswith("timestamp") else c.pg_type.value))
                    for c in plan.columns if not c.name.startswith("doge_"))))
    times: dict[str, list[float]] = {"ours": [], "ceiling": [], "write_row": [], "doge": []}
    doge_rows = 0

    def truncate(conn: psycopg.Connection[Any], prefix: str) -> None:
        conn.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(
            sql.Identifier(prefix + t) for t in plans)))
        if prefix == "":
            conn.execute("TRUNCATE doge_offsets")

    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(args.repeat):
            truncate(conn, "")
            times["ours"].append(measure_ours(sim, url, commits))
            truncate(conn, "ceil_")
            times["ceiling"].append(measure_ceiling(conn, plans, encoded, "ceil_"))
            truncate(conn, "row_")
            times["write_row"].append(measure_write_row(conn, plans, stage, "row_"))
            truncate(conn, "doge_")
            seconds, doge_rows = measure_doge(conn, commits, args.doge_rows, "doge_",
                                              sim.model.schemas)
            times["doge"].append(seconds)
        counts = {t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier(t))).fetchone() for t in plans}
    assert sum(int(c[0]) for c in counts.values() if c) == rows, counts
    print(f"numpy COPY encoding alone: {rows / encode_s:,.0f} rows/s")
    ours = summary("ours (destination)", rows, times["ours"])
    ceiling = summary("ceiling (pre-encoded)", rows, times["ceiling"])
    write_row = summary("psycopg write_row COPY", rows, times["write_row"])
    doge = summary("DOGE-style INSERTs", doge_rows, times["doge"])
    print("ratios                      best    median    paired")
    for name, key, ref, target in (
            ("ours / ceiling", "ceiling", ceiling, "  (target >= 0.60)"),
            ("ours / DOGE-style", "doge", doge, "  (target >= 20)"),
            ("ours / psycopg write_row", "write_row", write_row, "")):
        scale = rows / doge_rows if key == "doge" else 1.0  # rows/s of ours over the reference
        paired = statistics.median(t_ref * scale / t_ours for t_ours, t_ref
                                   in zip(times["ours"], times[key], strict=True))
        print(f"  {name:<24} {ours[0] / ref[0]:>7.2f} {ours[1] / ref[1]:>9.2f} {paired:>9.2f}"
              f"{target}")

if __name__ == "__main__":
    main()
