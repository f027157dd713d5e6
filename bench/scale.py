"""Scale-out benchmark: one connector run by 1, then 2 distributed workers on the local broker.

For each cluster size it prints events/s (wall time from creating the connector until every task
FINISHED) and CPU seconds per worker process including its task processes, with the machine's core
count: on a 2-core machine two workers share the same two cores, so expect the events/s to grow
with the cores, not with the workers.

    scripts/infra.sh up && .venv/bin/python bench/scale.py [--workers 1,2] [--users 200000]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from connector.runtime.config import parse_connector, resolve_start_ms
from connector.runtime.simulation import prepare

ROOT = Path(__file__).resolve().parent.parent
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(url: str, method: str = "GET", body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        raw = response.read()
        return json.loads(raw) if raw else None


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process and of its reaped children (its task processes)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / TICKS_PER_S


def committed_events(config: dict[str, str]) -> int:
    """How many records the connector commits: its output is deterministic, so count it once
    in-process (task status counts what each process produced, aborted retries included)."""
    sys.path.insert(0, str(ROOT))

    sim = prepare(parse_connector({"name": "count", "config": config}, None, ROOT / "config"))
    settings = sim.settings(resolve_start_ms(sim.config))
    total = 0
    for shard in range(sim.config.shards):
        engine = sim.shard(settings, shard)
        for _ in range(sim.config.ticks or 0):
            total += engine.step().event_count
    return total


def connector_config(args: argparse.Namespace, uid: str) -> dict[str, str]:
    return {"connector.class": "io.dogeconnect.DogeSourceConnector",
            "model": "models/banking.yaml", "users": str(args.users), "shards": "8",
            "tasks.max": str(args.tasks), "ticks": str(args.ticks), "pace": "max",
            "seed": "1", "start.time": "2024-01-01T00:00:00Z",
            "topic.prefix": f"s{uid}-", "transaction.boundary": "tick"}


def run(workers: int, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    uid = uuid.uuid4().hex[:8]
    procs, urls = [], []
    for i in range(workers):
        port = free_port()
        props = tmp / f"w{uid}-{i}.properties"
        props.write_text("\n".join([
            f"bootstrap.servers={args.bootstrap}", f"schema.registry.url={args.registry}",
            f"group.id=scale{uid}", f"offset.storage.topic=s{uid}-offsets",
            f"snapshot.storage.topic=s{uid}-snapshots", f"status.storage.topic=s{uid}-status",
            f"config.storage.topic=s{uid}-configs", f"slots.topic=s{uid}-slots",
            f"rest.port={port}", "session.timeout.ms=6000", "heartbeat.interval.ms=1000",
            f"models.dir={ROOT / 'config'}", "log.level=WARNING"]) + "\n")
        procs.append(subprocess.Popen([sys.executable, "-m", "connector", "distributed",
                                       str(props)], cwd=ROOT, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            _wait(lambda u=url: _answers(u), 60)
        time.sleep(3)  # let the group settle so tasks start where they will run
        name = f"scale{uid}"
        config = connector_config(args, uid)
        started = time.monotonic()
        call(f"{urls[0]}/connectors", "POST", {"name": name, "config": config})
        _wait(lambda: call(f"{urls[0]}/connectors/{name}/status")["connector"]["state"]
              == "FINISHED", 1800)
        elapsed = time.monotonic() - started
        status = call(f"{urls[0]}/connectors/{name}/status")
        produced = sum(t.get("events", 0) for t in status["tasks"])
        placement: dict[str, int] = {}
        for t in status["tasks"]:
            placement[t["worker_id"]] = placement.get(t["worker_id"], 0) + 1
        cpu = [cpu_seconds(p.pid) for p in procs]
        return {"workers": workers, "produced": produced, "seconds": elapsed, "cpu": cpu,
                "placement": placement}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(60)


def _answers(url: str) -> bool:
    try:
        call(url + "/")
        return True
    except OSError:
        return False


def _wait(condition: Any, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark step timed out")
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--tasks", type=int, default=4)
    parser.add_argument("--ticks", type=int, default=300)
    parser.add_argument("--bootstrap", default=os.environ.get("DOGE_TEST_BOOTSTRAP",
                                                              "127.0.0.1:19092"))
    parser.add_argument("--registry", default=os.environ.get(
        "DOGE_TEST_REGISTRY", "http://127.0.0.1:18081/apis/ccompat/v7"))
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}  banking model, {args.users:,} users, {args.tasks} tasks, "
          f"{args.ticks} ticks, one transaction per tick")
    events = committed_events(connector_config(args, "count"))
    print(f"committed events per run (deterministic): {events:,}")
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(w) for w in args.workers.split(",")):
            r = run(n, args, Path(tmp))
            rate = events / r["seconds"]
            base = base or rate
            cpu = ", ".join(f"{c:.1f}s" for c in r["cpu"])
            print(f"{n} worker(s): {r['seconds']:.1f}s = {rate:,.0f} events/s "
                  f"({rate / base:.2f}x)  CPU per worker incl. tasks: {cpu}  tasks per worker: "
                  f"{sorted(r['placement'].values())}  produced incl. retried: "
                  f"{r['produced']:,}")


if __name__ == "__main__":
    main()
