"""The PostgreSQL destination's promises end to end (`doge run --to`): exactly-once across kill -9,
and upsert mode's one row per live key."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import yaml

from tests.destinations.pg_support import BANKING_TABLES, digests, progress
from tests.helpers import ROOT, banking_model, write_connector, write_model

pytestmark = pytest.mark.integration
DOGE = [sys.executable, "-m", "connector"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _doge(connector: Path, url: str, *extra: str) -> list[str]:
    return [*DOGE, "run", str(connector), "-q", "--to", url, *extra]


def _wait_for_commit(url: str, before: tuple[int, object], proc: subprocess.Popen[bytes],
                     seconds: float) -> None:
    """Wait until the run commits past `before`, the process ends, or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while progress(url) == before and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.mark.slow
def test_twenty_kill_9_lose_and_duplicate_nothing(tmp_path: Path,
                                                  pg_database_factory: object) -> None:
    """20 kill -9 at random moments (start-up, mid-COPY, mid-commit), then a run to the end:
    every table's ordered content digest equals an uninterrupted run's, in append and upsert
    mode alike."""
    make = pg_database_factory
    assert callable(make)
    reference, chaos = make(), make()
    ticks = 1000
    model = write_model(tmp_path, banking_model())
    connector = write_connector(tmp_path, model, users=20000, ticks=ticks, shards=4, seed=3,
                                transaction_boundary="ticks", transaction_boundary_ticks=3,
                                snapshot_interval_ticks=40)
    upsert = ("--upsert", "balance")
    started = time.monotonic()
    subprocess.run(_doge(connector, reference, *upsert), check=True, env=ENV,
                   capture_output=True, timeout=600)
    full = time.monotonic() - started
    rng = random.Random(20240611)
    killed_mid_run = 0
    committed_ticks = []
    for attempt in range(20):
        before = progress(chaos)
        proc = subprocess.Popen(_doge(connector, chaos, *upsert), env=ENV,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if attempt % 2 == 0:
            # Anywhere from interpreter start-up through connecting, fencing and preparing: at
            # most until this attempt's first commit, so a fast machine cannot finish the run.
            _wait_for_commit(chaos, before, proc, rng.uniform(0.0, 3.0))
        else:
            # Once this attempt has committed, so that the run moves on whatever the load;
            # then a little more, bounded so that ten such attempts cover at most a quarter of
            # an uninterrupted run.
            _wait_for_commit(chaos, before, proc, 120.0)
            time.sleep(rng.uniform(0.0, min(full / 40, 1.0)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        tick, _ = progress(chaos)
        committed_ticks.append(tick)
        killed_mid_run += 0 < tick < ticks
    print(f"committed tick after each kill: {committed_ticks}")
    assert killed_mid_run >= 5, "too few kills landed mid-run to mean anything"
    assert progress(chaos)[0] < ticks, "the run finished before the last kill"
    subprocess.run(_doge(connector, chaos, *upsert), check=True, env=ENV, capture_output=True,
                   timeout=600)
    assert progress(chaos)[0] == ticks
    assert digests(chaos, BANKING_TABLES) == digests(reference, BANKING_TABLES)


def test_upsert_keeps_one_row_per_live_key_with_the_latest_values(
        tmp_path: Path, pg_database_factory: object) -> None:
    """--upsert: one row per key holding the latest event's values, a user's rows deleted when
    it reaches a final state; equal to what the append run's events imply."""
    make = pg_database_factory
    assert callable(make)
    appended, upserted = make(), make()
    data = dict(yaml.safe_load((ROOT / "config/models/music.yaml").read_text()))
    data["schemas"] = str(ROOT / "schemas")
    model = write_model(tmp_path, data)
    connector = write_connector(tmp_path, model, users=3000, ticks=1500, shards=4, seed=9,
                                transaction_boundary="ticks", transaction_boundary_ticks=25)
    for url, extra in ((appended, ()), (upserted, ("--upsert", "page_views", "--upsert",
                                                   "listen_events:song_id"))):
        subprocess.run(_doge(connector, url, *extra), check=True, env=ENV, capture_output=True,
                       timeout=600)
    gone = "SELECT doge_user FROM page_views WHERE page = 'cancel'"
    with psycopg.connect(appended) as conn:
        cancelled = {r[0] for r in conn.execute(gone)}
        latest_pages = conn.execute(
            f"SELECT DISTINCT ON (doge_user) t::text FROM page_views t WHERE doge_user NOT IN "
            f"({gone}) ORDER BY doge_user, doge_tick DESC").fetchall()
        latest_listens = conn.execute(
            f"SELECT DISTINCT ON (doge_user, song_id) t::text FROM listen_events t WHERE "
            f"doge_user NOT IN ({gone}) ORDER BY doge_user, song_id, doge_tick DESC").fetchall()
        ties = conn.execute("SELECT count(*) FROM (SELECT 1 FROM page_views GROUP BY doge_user, "
                            "doge_tick HAVING count(*) > 1) x").fetchone()
        updated = conn.execute("SELECT count(*) FROM (SELECT 1 FROM page_views GROUP BY "
                               "doge_user HAVING count(*) > 2) x").fetchone()
    assert ties == (0,)  # "latest" is unambiguous per user
    assert cancelled and updated is not None and updated[0] > 100  # deletes and updates happened
    with psycopg.connect(upserted) as conn:
        pages = conn.execute("SELECT t::text FROM page_views t ORDER BY doge_user").fetchall()
        listens = conn.execute("SELECT t::text FROM listen_events t ORDER BY doge_user, song_id"
                               ).fetchall()
        left = conn.execute(f"SELECT count(*) FROM page_views WHERE doge_user IN "
                            f"({', '.join(map(str, cancelled))})").fetchone()
        appended_topic = conn.execute("SELECT count(*) > count(DISTINCT doge_user) FROM "
                                      "auth_events").fetchone()
    assert pages == latest_pages
    assert listens == latest_listens
    assert left == (0,)
    assert appended_topic == (True,)  # topics not named stay in append mode


def test_a_frozen_writer_is_fenced_by_its_successor(tmp_path: Path, pg_database: str) -> None:
    """A writer frozen mid-run (SIGSTOP) loses its shards to a new one, which terminates its
    session; woken, the old one fails without writing, and the output equals a single run's."""
    model = write_model(tmp_path, banking_model())
    connector = write_connector(tmp_path, model, users=20000, ticks=300, shards=2, seed=4,
                                transaction_boundary="ticks", transaction_boundary_ticks=2)
    old = subprocess.Popen(_doge(connector, pg_database), env=ENV, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while progress(pg_database)[0] < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        old.send_signal(signal.SIGSTOP)
        frozen_at = progress(pg_database)[0]
        assert 0 < frozen_at < 300
        new = subprocess.run(_doge(connector, pg_database), env=ENV, capture_output=True,
                             text=True, timeout=600, check=False)
        assert new.returncode == 0, new.stderr
        assert "fencing an earlier writer" in new.stdout + new.stderr
    finally:
        old.send_signal(signal.SIGCONT)
    output, _ = old.communicate(timeout=120)
    assert old.returncode != 0, output  # its connection was terminated
    assert "Traceback" not in output
    assert progress(pg_database)[0] == 300
    mine = digests(pg_database, BANKING_TABLES)
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("DROP TABLE balance, clickstream, loan, trx, doge_offsets, doge_tables")
    subprocess.run(_doge(connector, pg_database), env=ENV, check=True, capture_output=True,
                   timeout=600)
    assert digests(pg_database, BANKING_TABLES) == mine
