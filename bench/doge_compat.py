"""DOGE compatibility benchmark: the seed script with its Python callbacks at 1e6 users, stepped
by DOGE 1.0.4's own loop and by connector.doge, with the YAML model's engine beside them.

DOGE 1.0.4 is installed from PyPI into its own virtualenv (.cache/doge-datagen-venv): its pinned
dependencies (confluent-kafka 1.8.2, fastavro 1.4.10...) have no wheels for Python >= 3.11, so the
package goes in with --no-deps and newer versions of the two libraries its __init__ imports:
SQLAlchemy 1.4 and confluent-kafka 2.13 with the extras its Avro sink imports (the registry
client's certifi, httpx...). Not 2.14 or later: their AvroSerializer looks each subject up
through Confluent's schema-associations API first, which our registry lacks (the request hung);
2.13 serializes as the 1.8 DOGE pinned did (topic name strategy). Its stepping loop (`__tick`)
needs neither library. If that install
fails, bench/doge_reference.py's loop (written from the article) stands in, and it says so.

All three run the same script (bench/doge_seed.py, sinks keeping records in memory), each
measurement in a process of its own, rounds repeated; subject creation is not timed (both sides
call the same factory once per subject). Prints user-ticks/s and the ratios to DOGE's loop.

    .venv/bin/python bench/doge_compat.py [--users 1e6] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.doge_seed import build, collecting_sinks
from bench.engine import measure_engine, measure_reference
from connector.doge.subjects import SubjectStore
from connector.engine.shard import step_shards

VENV = ROOT / ".cache" / "doge-datagen-venv"
DOGE_PACKAGES = (["--no-deps", "doge-datagen==1.0.4"],
                 ["sqlalchemy<2", "confluent-kafka[avro,schemaregistry]>=2.13,<2.14"])
# Installed and the confluent-kafka it needs (an older virtualenv is brought in line).
_CHECK = ("import doge_datagen, confluent_kafka, sys; "
          "sys.exit(0 if confluent_kafka.__version__.startswith('2.13.') else 1)")


def doge_python() -> Path | None:
    """The Python of a virtualenv with DOGE 1.0.4 installed from PyPI, or None if that fails."""
    python = VENV / "bin" / "python"
    check = [str(python), "-c", _CHECK]
    if python.exists() and subprocess.run(check, check=False, capture_output=True).returncode == 0:
        return python
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        for packages in DOGE_PACKAGES:
            subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True,
                           capture_output=True)
        subprocess.run(check, check=True, capture_output=True)
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"DOGE 1.0.4 could not be installed ({exc}); using bench/doge_reference.py")
        return None
    return python


def measure(kind: str, users: int, ticks: int) -> dict[str, float]:
    """One measurement in this process (a child): connector.doge, the YAML model's engine, or
    the article's reference loop."""
    if kind == "yaml":
        result = measure_engine(users, ticks, 8)
    elif kind == "reference":
        result = measure_reference(users, ticks)
    else:
        return _compat(users, ticks)
    return {"user_ticks_per_s": result["user_ticks_per_s"],
            "events_per_tick": result["events_per_s"] * users / result["user_ticks_per_s"]}


def _compat(users: int, ticks: int) -> dict[str, float]:
    """DataOnlineGenerator.start()'s loop without its (here absent) per-tick commits."""
    sinks = collecting_sinks()
    gen = build(sinks["clickstream"], sinks["trx"], sinks["balance"], sinks["loan"],
                subjects=users, ticks=ticks)
    store = SubjectStore([gen.subject_factory.create() for _ in range(users)], gen._site)
    engine = gen._engine(store)
    step_shards([engine], build_events=False)  # warm up
    started = time.perf_counter()
    for _ in range(ticks):
        step_shards([engine], build_events=False)
    elapsed = time.perf_counter() - started
    events = sum(len(s.rows) for s in sinks.values())
    return {"user_ticks_per_s": users * ticks / elapsed, "events_per_tick": events / (ticks + 1)}


def child(kind: str, users: int, ticks: int, python: Path | None = None) -> dict[str, float]:
    """A measurement in a process of its own (DOGE's: bench/doge_loop.py in its virtualenv)."""
    if kind == "doge" and python is not None:
        command = [str(python), str(ROOT / "bench" / "doge_loop.py"), str(users), str(ticks)]
    else:
        command = [sys.executable, __file__, "--child", kind, "--users", str(users),
                   "--ticks", str(ticks)]
    env = {**os.environ, "DOGE_IMPL": "doge_datagen" if kind == "doge" else "connector.doge",
           "LOGLEVEL": "WARNING"}
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env, cwd=ROOT)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def report(users: int, rounds: int, doge_ticks: int = 5, ticks: int = 60) -> None:
    """Run the rounds and print the table (bench/engine.py calls this too)."""
    python = doge_python()
    reference = "doge" if python is not None else "reference"
    label = "DOGE 1.0.4 loop" if python is not None else "reference loop (article)"
    results: dict[str, list[dict[str, Any]]] = {reference: [], "compat": [], "yaml": []}
    for _ in range(rounds):
        results[reference].append(child(reference, users, doge_ticks, python))
        results["compat"].append(child("compat", users, ticks))
        results["yaml"].append(child("yaml", users, ticks))
    base = statistics.median(r["user_ticks_per_s"] for r in results[reference])
    print(f"seed script with Python callbacks, {users:,} users, {rounds} rounds "
          f"(median; each round: {label} then connector.doge then the YAML model)")
    print(f"{'path':<34} {'M user-ticks/s':>15} {'x ' + reference:>10} {'rounds (M/s)':>24}")
    names = {reference: label, "compat": "connector.doge (callbacks)",
             "yaml": "YAML model (engine, 8 shards)"}
    for key, name in names.items():
        rates = [r["user_ticks_per_s"] for r in results[key]]
        median = statistics.median(rates)
        each = " ".join(f"{r / 1e6:.1f}" for r in rates)
        print(f"{name:<34} {median / 1e6:>15.2f} {median / base:>10.1f} {each:>24}")
    print("target: connector.doge >= 30x DOGE's own loop")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="1e6")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", choices=("reference", "compat", "yaml"))
    parser.add_argument("--ticks", type=int, default=60)
    args = parser.parse_args()
    users = int(float(args.users))
    if args.child:
        print(json.dumps(measure(args.child, users, args.ticks)))
        return
    report(users, args.rounds, ticks=args.ticks)


if __name__ == "__main__":
    main()
