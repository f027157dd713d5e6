"""Engine benchmark: the banking model at 1e5, 1e6 and 1e7 users against DOGE's per-user loop.

Prints user-ticks/s, events/s (events built as columns, not encoded), resident bytes per user, and
the ratio to the reference loop measured in the same run. The shards (default 8) are stepped
together each tick (`step_shards`), as a task owning all of them steps them. Each size runs in
its own process so memory figures are not polluted by the previous size. Then
bench/doge_compat.py measures the DOGE-compatible path (the seed script with its Python
callbacks) against DOGE 1.0.4's own loop.

    .venv/bin/python bench/engine.py [--sizes 1e5,1e6,1e7] [--ticks 20] [--values-users 1e6]
                                     [--no-doge-compat]

Then the cost of fake() (bench/values.py): creating 1e6 users with five fake() attributes in
`initial:` (a one-off) against five constant attributes, and a tick that emits five fake()
fields against one that emits five attributes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.doge_reference import ReferenceGenerator
from bench.memory import rss_bytes
from bench.values import measure as measure_values
from bench.values import report as report_values
from connector.engine.plan import build_plan
from connector.engine.settings import SimulationSettings
from connector.engine.shard import ShardEngine, step_shards
from connector.model.validate import load_model


def measure_engine(users: int, ticks: int, shards: int) -> dict[str, float]:
    model = load_model(ROOT / "config/models/banking.yaml")
    plan = build_plan(model, 60_000)
    settings = SimulationSettings(users=users, shards=shards, seed=42, tick_ms=60_000,
                                  start_ms=1_644_549_708_000)
    before = rss_bytes()
    engines = [ShardEngine(plan, settings, s) for s in range(shards)]
    for _ in range(3):  # warm up: first-tick allocations, lazy imports
        step_shards(engines)
    events = 0
    started = time.perf_counter()
    for _ in range(ticks):  # all shards together, as one task owning them steps them
        events += sum(b.event_count for b in step_shards(engines))
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"users": users, "user_ticks_per_s": users * ticks / elapsed,
            "events_per_s": events / elapsed, "bytes_per_user": (peak - before) / users,
            "steady_bytes_per_user": (rss_bytes() - before) / users}


def measure_reference(users: int, ticks: int) -> dict[str, float]:
    gen = ReferenceGenerator(users, seed=42, start_ms=1_644_549_708_000, tick_ms=60_000)
    gen.step()
    events = 0
    started = time.perf_counter()
    for _ in range(ticks):
        events += gen.step()
    elapsed = time.perf_counter() - started
    return {"users": users, "user_ticks_per_s": users * ticks / elapsed,
            "events_per_s": events / elapsed}


def child(kind: str, users: int, ticks: int, shards: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--users", str(users), "--ticks", str(ticks),
         "--shards", str(shards)], check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e5,1e6,1e7")
    parser.add_argument("--ticks", type=int, default=20)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--reference-ticks", type=int, default=3)
    parser.add_argument("--values-users", default="1e6", help="users of the fake() bench (0: skip)")
    parser.add_argument("--child", choices=("engine", "reference", "values"))
    parser.add_argument("--users", type=int)
    parser.add_argument("--no-doge-compat", action="store_true",
                        help="Skip bench/doge_compat.py (DOGE 1.0.4 vs connector.doge).")
    args = parser.parse_args()
    if args.child == "engine":
        print(json.dumps(measure_engine(args.users, args.ticks, args.shards)))
        return
    if args.child == "reference":
        print(json.dumps(measure_reference(args.users, args.ticks)))
        return
    if args.child == "values":
        print(json.dumps(measure_values(args.users, args.ticks, args.shards)))
        return

    print(f"cores: {os.cpu_count()}  python: {sys.version.split()[0]}  shards: {args.shards}")
    ref = child("reference", 1_000_000, args.reference_ticks, 1)
    print(f"reference DOGE loop @1e6 users: {ref['user_ticks_per_s'] / 1e6:8.2f} M user-ticks/s "
          f"{ref['events_per_s'] / 1e3:8.1f} k events/s")
    print(f"{'users':>10} {'M user-ticks/s':>15} {'k events/s':>11} {'peak B/user':>12} "
          f"{'steady B/user':>14} {'x reference':>12}")
    for size in (int(float(s)) for s in args.sizes.split(",")):
        r = child("engine", size, args.ticks, args.shards)
        print(f"{size:>10,} {r['user_ticks_per_s'] / 1e6:>15.1f} {r['events_per_s'] / 1e3:>11.1f} "
              f"{r['bytes_per_user']:>12.1f} {r['steady_bytes_per_user']:>14.1f} "
              f"{r['user_ticks_per_s'] / ref['user_ticks_per_s']:>12.1f}")
    print("targets: >= 50x the reference at 1e6 users; <= 100 bytes per user at 1e7 users")
    values_users = int(float(args.values_users))
    if values_users:
        report_values(child("values", values_users, args.ticks, args.shards))
    if not args.no_doge_compat:
        print()
        subprocess.run([sys.executable, str(ROOT / "bench" / "doge_compat.py")], check=True)


if __name__ == "__main__":
    main()
