"""Latency and recovery of one Kafka task at 1e6 users (banking, the default boundary).

    source .cache/infra/env   # scripts/infra.sh up
    .venv/bin/python bench/recovery.py [--users 1e6] [--repeat 3] [--realtime-ticks 30]
                                       [--producer retry.backoff.max.ms=100] [--skip realtime]

* realtime: `pace=realtime`, `tick.ms=1000`, tick 0 starting a few seconds ahead; per
  commit, seconds from the end of its last tick (event time = wall time) to the return of its
  commit_transaction (durable). p50 / p99 / max over `--realtime-ticks` ticks.
* resume: a `pace=max` task killed with SIGKILL while a transaction is open (the interval
  boundary always has one), then restarted on the same connector: seconds from the restart
  (the process start) to its first durable commit, with the share of `init_transactions` (which
  makes the broker abort the dead producer's transaction) and of `resume()` as a whole
  (fencing, reading offsets, restoring snapshots, replaying to the committed tick), each as
  seconds from the process start, and how long reading the offsets and the snapshots took; against a
  fresh start of a new connector, measured the same way in the same run.

Each task is a child process (`--child`) running the production path as bench/kafka.py's does.
`--producer KEY=VALUE` sets a task producer setting as the worker's `producer.KEY` would.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from confluent_kafka.admin import AdminClient

from bench.kafka_setup import MARK, MODEL, PARTITIONS, SHARDS, infra_parser, model_topics, read_mark
from connector.core.sharding import shards_of_task
from connector.destinations import kafka as kafka_module
from connector.kafka.topics import COMPACT, ensure_topics
from connector.logging import configure
from connector.runtime.config import parse_connector
from connector.runtime.runner import Runner
from connector.runtime.simulation import prepare
from connector.runtime.task import kafka_destination, settle_heap
from connector.runtime.worker_config import worker_config_from


def worker_values(args: argparse.Namespace) -> dict[str, str]:
    return {"bootstrap.servers": args.bootstrap, "schema.registry.url": args.registry,
            "group.id": f"recov-{args.uid}", "offset.storage.topic": f"recov{args.uid}-offsets",
            "snapshot.storage.topic": f"recov{args.uid}-snapshots", "log.level": "WARNING",
            **{f"producer.{k}": v for k, v in (kv.split("=", 1) for kv in args.producer)}}


def connector_data(args: argparse.Namespace) -> dict[str, Any]:
    realtime = args.child == "realtime"
    return {"name": f"recov{args.uid}-{args.name}", "config": {
        "connector.class": "io.dogeconnect.DogeSourceConnector", "model": str(MODEL),
        "users": str(args.users), "shards": str(args.shards), "seed": "42",
        "tick.ms": "1000" if realtime else "60000",
        "start.time": str(args.start_ms) if realtime else "2024-01-01T00:00:00Z",
        "ticks": str(args.realtime_ticks + 3) if realtime else "100000",
        "pace": "realtime" if realtime else "max", "tasks.max": "1",
        "topic.prefix": f"recov{args.uid}-",
        "topic.creation.default.partitions": str(PARTITIONS),
        "topic.creation.default.retention.ms": "-1"}}


def say(**fields: Any) -> None:
    print(MARK + json.dumps(fields), flush=True)


def child(args: argparse.Namespace) -> None:
    """One task: prints a mark at init_transactions' return, after resume, and per durable
    commit (wall time and the simulated end of its last tick)."""
    configure("WARNING")
    say(kind="started", t=time.time())
    worker = worker_config_from(worker_values(args), None)
    config = parse_connector(connector_data(args), None, ROOT)
    sim = prepare(config)
    destination = kafka_destination(worker, config, sim, 0, shards_of_task(config.shards, 1, 0))
    say(kind="built", t=time.time())
    read_latest = getattr(kafka_module, "read_latest")  # noqa: B009

    def timed_read(consumer_conf: Any, topic: str, *a: Any, **kw: Any) -> Any:
        t0 = time.time()
        out = read_latest(consumer_conf, topic, *a, **kw)
        say(kind="read", topic=topic.rsplit("-", 1)[-1], seconds=time.time() - t0)
        return out

    setattr(kafka_module, "read_latest", timed_read)  # noqa: B010
    runner = Runner(sim, destination, shards_of_task(config.shards, 1, 0))
    call, commit, committed = destination._call, destination.commit, destination.committed

    def noted_committed() -> Any:
        out = committed()
        say(kind="committed", t=time.time())
        return out

    def timed_call(func: Any, *a: Any) -> Any:
        t0 = time.time()
        out = call(func, *a)
        if getattr(func, "__name__", "") == "init_transactions":
            say(kind="init", t=time.time(), seconds=time.time() - t0)
        return out

    def noted_commit(checkpoints: dict[int, Any]) -> None:
        end_ms = runner.start_ms + min(cp.next_tick for cp in checkpoints.values()) * config.tick_ms
        commit(checkpoints)
        future = destination._in_flight

        def durable(f: Any) -> None:
            if f.exception() is None:
                say(kind="commit", t=time.time(), end_ms=end_ms)
        if future is not None:
            future.add_done_callback(durable)

    setattr(destination, "_call", timed_call)  # noqa: B010
    setattr(destination, "commit", noted_commit)  # noqa: B010
    setattr(destination, "committed", noted_committed)  # noqa: B010
    tick = runner.resume()
    settle_heap()  # as run_task does
    say(kind="resumed", t=time.time(), tick=tick)
    try:
        runner.run()
    finally:
        destination.close()
    say(kind="done", t=time.time())


def spawn(args: argparse.Namespace, kind: str, name: str, start_ms: int = 0
          ) -> subprocess.Popen[str]:
    argv = [sys.executable, __file__, "--child", kind, "--uid", args.uid, "--name", name,
            "--bootstrap", args.bootstrap, "--registry", args.registry,
            "--users", str(args.users), "--shards", str(args.shards),
            "--realtime-ticks", str(args.realtime_ticks),
            "--start-ms", str(start_ms), *(f"--producer={kv}" for kv in args.producer)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def marks(proc: subprocess.Popen[str]) -> Iterator[Any]:
    while True:
        yield json.loads(read_mark(proc))


def realtime(args: argparse.Namespace) -> list[float]:
    """Commit delays (s) of a realtime task, after its first three ticks."""
    start_ms = (int(time.time()) + 15) * 1000  # after start-up (users, schemas, fencing)
    proc = spawn(args, "realtime", f"rt{uuid.uuid4().hex[:4]}", start_ms)
    delays = []
    try:
        for mark in marks(proc):
            if mark["kind"] == "commit" and mark["end_ms"] > start_ms + 3000:
                delays.append(mark["t"] - mark["end_ms"] / 1000)
            elif mark["kind"] == "done":
                break
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return delays


def first_commit(proc: subprocess.Popen[str], t0: float) -> dict[str, float]:
    """Seconds from `t0` to init_transactions' return, resume's and the first durable commit."""
    out: dict[str, float] = {}
    for mark in marks(proc):
        if mark["kind"] == "built":
            out["destination built"] = mark["t"] - t0
        elif mark["kind"] == "read":
            out[f"(read {mark['topic']} alone)"] = mark["seconds"]
        elif mark["kind"] == "init":
            out["init_transactions"] = mark["seconds"]
        elif mark["kind"] == "committed":
            out["offsets read"] = mark["t"] - t0
        elif mark["kind"] == "resumed":
            out["resumed"], out["tick"] = mark["t"] - t0, mark["tick"]
        elif mark["kind"] == "commit":
            out["first_commit"] = mark["t"] - t0
            return out
    raise RuntimeError("no commit")


def resume(args: argparse.Namespace, name: str) -> tuple[dict[str, float], dict[str, float]]:
    """A fresh start of connector `name`, killed -9 mid-transaction after a few commits, and
    its restart: (fresh, restart) figures."""
    t0 = time.time()
    proc = spawn(args, "run", name)
    fresh = first_commit(proc, t0)
    commits = 1
    for mark in marks(proc):
        commits += mark["kind"] == "commit"
        if commits >= args.commits_before_kill:
            break
    time.sleep(0.3)  # into the next transaction
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    t0 = time.time()
    proc = spawn(args, "run", name)
    try:
        again = first_commit(proc, t0)
    finally:
        proc.kill()
        proc.wait()
    return fresh, again


def create_topics(args: argparse.Namespace) -> None:
    wanted = {f"recov{args.uid}-offsets": (1, -1, COMPACT),
              f"recov{args.uid}-snapshots": (1, -1, COMPACT)}
    for topic in model_topics():
        wanted[f"recov{args.uid}-{topic}"] = (PARTITIONS, -1, {"retention.ms": "-1"})
    ensure_topics({"bootstrap.servers": args.bootstrap}, wanted)
    time.sleep(3)  # leadership of the new partitions settles


def spread(values: list[float]) -> str:
    return (f"{min(values):6.2f} {statistics.median(values):6.2f} {max(values):6.2f}"
            if values else "-")


def main() -> None:
    parser = infra_parser(__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shards", type=int, default=SHARDS,
                        help="the connector's shards (default 8, the connector default)")
    parser.add_argument("--realtime-ticks", type=int, default=30)
    parser.add_argument("--commits-before-kill", type=int, default=4)
    parser.add_argument("--producer", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--skip", default="", help="comma list of: realtime,resume")
    parser.add_argument("--child", choices=("realtime", "run"))
    parser.add_argument("--uid", default=uuid.uuid4().hex[:8])
    parser.add_argument("--name", default="")
    parser.add_argument("--start-ms", type=int, default=0)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    skip = set(filter(None, args.skip.split(",")))
    print(f"banking, {args.users:,} users, {args.shards} shards, 1 task, transaction.boundary "
          f"default; producer overrides: {args.producer or 'none'}")
    create_topics(args)
    try:
        measure(args, skip)
    finally:
        admin = AdminClient({"bootstrap.servers": args.bootstrap})
        mine = [t for t in admin.list_topics(timeout=30).topics
                if t.startswith(f"recov{args.uid}-")]
        for future in admin.delete_topics(mine, operation_timeout=30).values():
            with contextlib.suppress(Exception):
                future.result()


def measure(args: argparse.Namespace, skip: set[str]) -> None:
    if "realtime" not in skip:
        for r in range(args.repeat):
            d = sorted(realtime(args))
            q = statistics.quantiles(d, n=100, method="inclusive")
            print(f"realtime {r}: commit delay after the tick's end over {len(d)} commits: "
                  f"p50 {q[49] * 1e3:.0f} ms, p99 {q[98] * 1e3:.0f} ms, max {d[-1] * 1e3:.0f} ms")
    if "resume" not in skip:
        rows: dict[str, list[float]] = {}
        for r in range(args.repeat):
            fresh, again = resume(args, f"run{r}")
            print(f"resume {r}: fresh {json.dumps(fresh)}  after kill -9 {json.dumps(again)}")
            for label, figures in (("fresh", fresh), ("after kill -9", again)):
                for key in ("destination built", "offsets read", "resumed", "first_commit",
                            "init_transactions", "(read offsets alone)",
                            "(read snapshots alone)"):
                    name = key if key != "init_transactions" else "(init_transactions alone)"
                    rows.setdefault(f"{label}: {name}", []).append(figures[key])
        print(f"{'seconds from the process start (min median max)':<52}")
        for label, values in rows.items():
            print(f"  {label:<50} {spread(values)}")


if __name__ == "__main__":
    main()
