"""The cost of fake() in the engine, measured by bench/engine.py in a child process.

Three variants of one model (one state, each user moving with 5 % per tick, every move emitting a
record of five strings): `plain` gives the five attributes constant initial values and emits
them; `initial` draws them with fake() when users are created (the stable-identity pattern: a
one-off cost at creation, then the same work per tick as plain); `fields` emits five fake()
fields drawn per event. Faker's pools are built before timing (their one-off cost is reported
apart).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench.memory import rss_bytes
from connector.engine.plan import build_plan
from connector.engine.settings import SimulationSettings
from connector.engine.shard import ShardEngine, step_shards
from connector.model.expr.fakes import FakeDraw
from connector.model.expr.pools import pool
from connector.model.validate import load_model

KINDS = ("email", "name", "city", "phone", "street_address")
START_MS = 1_644_549_708_000


def _model(variant: str) -> dict[str, Any]:
    fields = {k: f"fake('{k}')" for k in KINDS} if variant == "fields" else {}
    attributes = {} if variant == "fields" else {
        k: {"type": "string", "initial": f"fake('{k}')" if variant == "initial" else "'x'"}
        for k in KINDS}
    schema = {"type": "record", "name": "Person", "fields": [
        {"name": "user_id", "type": "long"}, *({"name": k, "type": "string"} for k in KINDS),
        {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}
    return {"states": ["idle"], "initial": "idle", "attributes": attributes,
            "topics": {"people": {"schema": schema}},
            "transitions": [{"name": "move", "from": "idle", "to": "self", "chance": 5,
                             "emit": [{"topic": "people", "fields": fields}]}]}


def measure(users: int, ticks: int, shards: int) -> dict[str, float]:
    out: dict[str, float] = {"users": users}
    started = time.perf_counter()
    for kind in KINDS:  # build the pools once, as the first engine of a process does
        for name, locale in FakeDraw(kind, "en_US").pools():
            pool(name, locale)
    out["pools_s"] = time.perf_counter() - started
    settings = SimulationSettings(users=users, shards=shards, seed=42, tick_ms=60_000,
                                  start_ms=START_MS)
    with tempfile.TemporaryDirectory() as tmp:
        for variant in ("plain", "initial", "fields"):
            path = Path(tmp) / f"{variant}.yaml"
            path.write_text(yaml.safe_dump(_model(variant)))
            plan = build_plan(load_model(path), 60_000)
            before = rss_bytes()
            started = time.perf_counter()
            engines = [ShardEngine(plan, settings, s) for s in range(shards)]
            out[f"{variant}_create_s"] = time.perf_counter() - started
            out[f"{variant}_bytes_per_user"] = (rss_bytes() - before) / users
            step_shards(engines)
            events = 0
            started = time.perf_counter()
            for _ in range(ticks):
                events += sum(b.event_count for b in step_shards(engines))
            elapsed = time.perf_counter() - started
            out[f"{variant}_tick_ms"] = elapsed / ticks * 1e3
            out[f"{variant}_events_per_s"] = events / elapsed
            del engines
    return out


def report(r: dict[str, float]) -> None:
    users = int(r["users"])
    print(f"\nfake() at {users:,} users, 5 string fields ({', '.join(KINDS)}); "
          f"Faker pools built once per process in {r['pools_s']:.2f} s")
    print(f"{'variant':<34} {'create users s':>15} {'B/user':>7} {'ms/tick':>9} "
          f"{'k events/s':>11} {'x plain':>8}")
    labels = {"plain": "constant attributes (reference)",
              "initial": "fake() in initial: (identity)", "fields": "fake() in emitted fields"}
    for v, label in labels.items():
        print(f"{label:<34} {r[f'{v}_create_s']:>15.2f} {r[f'{v}_bytes_per_user']:>7.0f} "
              f"{r[f'{v}_tick_ms']:>9.1f} "
              f"{r[f'{v}_events_per_s'] / 1e3:>11.1f} "
              f"{r[f'{v}_events_per_s'] / r['plain_events_per_s']:>8.2f}")
    extra = (r["initial_create_s"] - r["plain_create_s"]) / users * 1e9
    print(f"one-off cost of 5 fake() attributes at creation: {extra:.0f} ns per user")
