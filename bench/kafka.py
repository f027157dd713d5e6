"""Kafka benchmark: doge-connect end to end into the local broker, against a ceiling and DOGE.

    source .cache/infra/env   # scripts/infra.sh up
    .venv/bin/python bench/kafka.py [--users 1e6] [--warmup 10] [--ticks 500] [--repeat 3]
                                    [--profile] [--producer linger.ms=1] [--skip doge,2tasks]
                                    [--boundary-ticks 1]

One run prints, against the broker and registry of DOGE_TEST_BOOTSTRAP / DOGE_TEST_REGISTRY
(default: .cache/infra/env):

* ours, 1 task: the banking model, Avro values framed for the registry, key.format=string,
  transaction.boundary=interval (the default; `--boundary`), pace max, 8 shards, ONE task;
  counted as what a read_committed consumer sees; then the same with one transaction per
  tick. It runs in a child process the way a task process runs (`run_task`): the connector
  config is parsed, `kafka_destination()` registers the schemas and builds the
  KafkaDestination, a Runner resumes (fences, reads offsets) and steps every shard (each
  commit_transaction overlapping the next tick, as in production). Topics are
  created first as the worker does. Measured over `--ticks` ticks after `--warmup` ticks; with
  the defaults the window includes a periodic snapshot round (snapshot.interval.ticks=500)
  and lasts a few of the interval boundary's transactions: a window of one would count the wait
  for its last commit, which a backfill pays once, as a tenth of the run.
* ceiling: a bare confluent-kafka `produce()` loop over the engine's real encoded values, keys,
  partitions and timestamps for the same ticks (built before timing), with the task producer's
  settings (KafkaDestination.producer_conf without the transactional ones), flushed at the end.
  Rounds alternate: ours, the bare loop, ours with one transaction per tick, the bare loop with
  one per tick, `--repeat` times, so that each pair met the broker in the same state.
* the same bare loop with one transaction per tick (and one offset-sized record per shard in
  each): what the broker's transaction round trips alone allow one producer; ours can only
  approach it, as each of its ticks must also be simulated and encoded.
* DOGE-style: what the seed's Kafka Avro sink does per event, over the same events (stepped by our
  engine before timing, so no simulation cost is counted): a dict per event, a
  SerializationContext per field, StringSerializer key, confluent-kafka AvroSerializer value
  (SchemaRegistryClient on the real registry), `produce(..., on_delivery=...)`, a flush every
  100 000 messages (the seed's buffer) and at the end; same producer settings, no transactions.
  Also printed, derived: DOGE end to end, that sink plus the seed's per-user loop
  (bench/doge_reference.py, measured here over 3 ticks), which one thread runs in turn.
* ours, 2 tasks: tasks.max=2, two task processes each owning half of the shards, started
  together after their warm-up; events/s is the sum over the common wall window.

* per format: the 1-task measurement again with value.format json, json-schema and protobuf
  against avro, in `--format-rounds` interleaved rounds (each round its own connector and
  topics): events/s min / median / max per format and each median's ratio to avro's (targets:
  json and protobuf >= 70 %).

Each measurement runs in its own process. Ratios use figures of this same run. Topic names carry
a random prefix, so reruns never interfere; they are deleted at the end (unless --keep-topics).
`--profile` prints a cProfile of the 1-task window to stderr; `--producer KEY=VALUE` overrides a
task producer setting as the worker's `producer.KEY` would. The task's own figures
(commit_transaction percentiles, the time breakdown, CPU of its main thread and of the whole
process) come from wrappers the bench puts around the destination's methods; product code is not
changed for them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import cProfile
import pstats

import confluent_kafka
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from bench.doge_compat import doge_python
from connector.core.sharding import shards_of_task
from connector.engine.shard import step_shards
from connector.kafka.topics import COMPACT, ensure_topics
from connector.logging import configure
from connector.model.validate import load_model
from connector.runtime import runner as runner_module
from connector.runtime.config import parse_connector, resolve_start_ms
from connector.runtime.runner import Runner
from connector.runtime.simulation import prepare
from connector.runtime.task import kafka_destination
from connector.runtime.worker_config import worker_config_from
from connector.serde.records import kafka_records

MODEL = ROOT / "config/models/banking.yaml"
START_TIME = "2024-01-01T00:00:00Z"
SHARDS = 8
PARTITIONS = 6
MARK = "BENCH "


# -- configuration shared by parent and children ----------------------------------------------
def worker_values(args: argparse.Namespace) -> dict[str, str]:
    return {"bootstrap.servers": args.bootstrap, "schema.registry.url": args.registry,
            "group.id": f"bench-{args.uid}", "offset.storage.topic": f"{prefix(args)}offsets",
            "snapshot.storage.topic": f"{prefix(args)}snapshots", "log.level": "WARNING",
            **{f"producer.{k}": v for k, v in (kv.split("=", 1) for kv in args.producer)}}


def prefix(args: argparse.Namespace, kind: str = "") -> str:
    return f"bench{args.uid}-{kind}"


FORMATS = ("avro", "json", "json-schema", "protobuf")


BOUNDARIES = ("interval", "tick", "ticks")


def kind_of(tasks: int, fmt: str = "avro", round_: int = 0, boundary: str = "interval") -> str:
    """The topic-prefix kind of a connector: its task count, format, boundary and round."""
    return f"{tasks}t-{fmt}-{boundary}{round_}-"


def connector_data(args: argparse.Namespace, tasks: int) -> dict[str, Any]:
    """The connector under test; with 2 tasks, another format or round a separate connector
    with its own topics."""
    kind = kind_of(tasks, args.value_format, args.round, args.boundary)
    name = f"bench{args.uid}-{kind.rstrip('-')}"
    return {"name": name, "config": {
        "value.format": args.value_format,
        "connector.class": "io.dogeconnect.DogeSourceConnector", "model": str(MODEL),
        "users": str(args.users), "shards": str(SHARDS), "seed": "42", "tick.ms": "60000",
        "start.time": START_TIME, "ticks": str(args.warmup + args.ticks + 1), "pace": "max",
        "tasks.max": str(tasks), "topic.prefix": prefix(args, kind),
        "topic.creation.default.partitions": str(PARTITIONS),
        "transaction.boundary": args.boundary,
        "transaction.boundary.ticks": str(args.boundary_ticks),
        "transaction.boundary.interval.ms": str(args.interval_ms)}}


def model_topics() -> list[str]:
    return list(load_model(MODEL).schemas)


def create_topics(args: argparse.Namespace, skip: set[str]) -> None:
    """What the worker creates: internal topics (compacted) and the topics of each connector
    this run measures (only those: a broker's open files grow with its partitions)."""
    admin = {"bootstrap.servers": args.bootstrap}
    wanted = {f"{prefix(args)}offsets": (1, -1, COMPACT),
              f"{prefix(args)}snapshots": (1, -1, COMPACT)}
    kinds = [kind_of(1, "avro", r, args.boundary) for r in range(args.repeat)]
    if "tick" not in skip and args.boundary != "tick":
        kinds += [kind_of(1, "avro", r, "tick") for r in range(args.repeat)]
    if "ceiling" not in skip:
        kinds.append("ceil-")
    if "doge" not in skip:
        kinds.append("dogee2e-")
    if "2tasks" not in skip:
        kinds.append(kind_of(2, boundary=args.boundary))
    if "formats" not in skip:
        kinds += [kind_of(1, f, r, args.boundary) for f in FORMATS
                  for r in range(args.repeat, args.repeat + args.format_rounds)]
    # Event times lie in 2024: time-based retention (24 h on the shared broker) would delete
    # the records before they are counted.
    keep = {"retention.ms": "-1"}
    for kind in dict.fromkeys(kinds):
        for topic in model_topics():
            wanted[prefix(args, kind) + topic] = (PARTITIONS, -1, keep)
    if "java" not in skip:
        # Kafka's own producer writes as many partitions per transaction as one task does.
        wanted[prefix(args, "java")] = (PARTITIONS * len(model_topics()), -1, keep)
    ensure_topics(admin, wanted)
    # Many topics at once: wait until every partition has a leader (reads of the offsets topic
    # right after creation otherwise meet NOT_LEADER_FOR_PARTITION).
    client = AdminClient(admin)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        meta = client.list_topics(timeout=30).topics
        if all(t in meta and meta[t].partitions and
               all(p.leader >= 0 for p in meta[t].partitions.values()) for t in wanted):
            break
        time.sleep(0.5)
    time.sleep(2)  # leadership known to the controller reaches every broker view a moment later


def committed_records(bootstrap: str, topics: list[str], timeout_s: float = 120) -> int:
    """Records a read_committed consumer sees in these topics (every partition read to its
    end). A broker still settling (NOT_LEADER_FOR_PARTITION, a topic without partitions yet
    right after its creation) is retried until `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return _count_committed(bootstrap, topics)
        except KafkaException as exc:
            if time.monotonic() > deadline or not exc.args[0].retriable():
                raise
            time.sleep(0.5)


def _count_committed(bootstrap: str, topics: list[str], timeout_s: float = 120) -> int:
    """Read every partition up to its high watermark at the start of the read. The position,
    not PARTITION_EOF, says when a partition is done: a commit returns before the coordinator
    writes its markers, and until then read_committed stops short of the watermark."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"count-{uuid.uuid4()}",
                         "isolation.level": "read_committed", "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "fetch.max.bytes": 52_428_800})
    try:
        meta = consumer.list_topics(timeout=30).topics
        ends: dict[tuple[str, int], int] = {}
        for topic in topics:
            if topic not in meta or not meta[topic].partitions or meta[topic].error is not None:
                raise KafkaException(KafkaError(KafkaError.NOT_LEADER_FOR_PARTITION,
                                                f"{topic} has no partitions yet", retriable=True))
            for p in meta[topic].partitions:
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
                if high > low:
                    ends[(topic, p)] = high
        consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in ends])
        count, deadline = 0, time.monotonic() + timeout_s
        while ends and time.monotonic() < deadline:
            for msg in consumer.consume(100_000, 0.5):
                error = msg.error()
                if error is not None:
                    raise KafkaException(error)
                if (msg.offset() or 0) < ends.get((str(msg.topic()), msg.partition() or 0), 0):
                    count += 1
            for tp in consumer.position([TopicPartition(t, p) for t, p in ends]):
                if tp.offset >= ends[(tp.topic, tp.partition)]:
                    del ends[(tp.topic, tp.partition)]
        if ends:
            raise RuntimeError(f"did not reach the end of {sorted(ends)} in {timeout_s} s")
        return count
    finally:
        consumer.close()


def delete_topics(args: argparse.Namespace) -> None:
    """Drop this run's topics (all carry its unique prefix); the registry subjects stay."""
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    mine = [t for t in admin.list_topics(timeout=30).topics if t.startswith(prefix(args))]
    for future in admin.delete_topics(mine, operation_timeout=30).values():
        with contextlib.suppress(Exception):
            future.result()


# -- child: one task, the production path ------------------------------------------------------
class Timings:
    """Per-tick figures of the measured window, from wrappers around the task's objects."""

    def __init__(self) -> None:
        self.active = False
        # destination.commit: prepare, wait for the previous commit, begin, produce, start commit
        self.commit: list[float] = []
        self.commit_txn: list[float] = []  # producer.commit_transaction (a background thread)
        self.begin_txn: list[float] = []
        self.prepare: list[float] = []  # _prepare: encode values, keys, partitions
        self.encode: list[float] = []  # RecordEncoder.encode (values) only
        self.wait: list[float] = []  # flush: waiting for the previous transaction's commit
        self.events_produce: list[float] = []  # _produce_events: the produce() loop
        self.step: list[float] = []  # step_shards of one tick (every shard of the task)
        self.snapshot_commits: list[int] = []  # indexes of commits that carried snapshots
        self._sums = dict.fromkeys(("produce", "encode", "prepare", "wait", "step"), 0.0)

    def timed(self, func: Callable[..., Any], sink: str) -> Callable[..., Any]:
        def wrapper(*a: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return func(*a, **kw)
            finally:
                if self.active:
                    self._add(sink, time.perf_counter() - t0)
        return wrapper

    def _add(self, sink: str, dt: float) -> None:
        sums = self._sums
        if sink in sums:
            sums[sink] += dt
        elif sink == "commit":
            self.commit.append(dt)
            for name, into in (("produce", self.events_produce), ("encode", self.encode),
                               ("prepare", self.prepare), ("wait", self.wait)):
                into.append(sums[name])
                sums[name] = 0.0
        elif sink == "tick":
            self.step.append(sums["step"])
            sums["step"] = 0.0

    def reset(self) -> None:
        self._sums = dict.fromkeys(self._sums, 0.0)

    def commit_timer(self, commit: Callable[..., Any]) -> Callable[..., Any]:
        """Wraps KafkaDestination.commit; notes which commits carry shard snapshots."""
        timed = self.timed(commit, "commit")

        def wrapper(checkpoints: dict[int, Any]) -> Any:
            if self.active and any(cp.snapshot is not None for cp in checkpoints.values()):
                self.snapshot_commits.append(len(self.commit))
            return timed(checkpoints)
        return wrapper

    def call_timer(self, call: Callable[..., Any]) -> Callable[..., Any]:
        """Wraps KafkaDestination._call to time begin/commit_transaction by name."""
        def wrapper(func: Any, *a: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return call(func, *a)
            finally:
                name = getattr(func, "__name__", "")
                if self.active and name == "commit_transaction":
                    self.commit_txn.append(time.perf_counter() - t0)
                elif self.active and name == "begin_transaction":
                    self.begin_txn.append(time.perf_counter() - t0)
        return wrapper


def child_task(args: argparse.Namespace) -> None:
    configure("WARNING")
    worker = worker_config_from(worker_values(args), None)
    config = parse_connector(connector_data(args, args.tasks), None, ROOT)
    sim = prepare(config)
    shards = shards_of_task(config.shards, config.tasks_max, args.task)
    destination = kafka_destination(worker, config, sim, args.task, shards)
    timings = Timings()
    setattr(destination, "commit", timings.commit_timer(destination.commit))  # noqa: B010
    setattr(destination, "_call", timings.call_timer(destination._call))  # noqa: B010
    for name, sink in (("_produce_events", "produce"), ("_prepare", "prepare"), ("flush", "wait")):
        if hasattr(destination, name):  # _prepare: only while the destination has one
            setattr(destination, name, timings.timed(getattr(destination, name), sink))
    setattr(runner_module, "step_shards",  # noqa: B010
            timings.timed(getattr(runner_module, "step_shards"), "step"))  # noqa: B009
    for plan in destination.topics.values():
        setattr(plan.encoder, "encode", timings.timed(plan.encoder.encode, "encode"))  # noqa: B010
    profile = cProfile.Profile() if args.profile else None
    marks: dict[str, float] = {}

    def on_progress(runner: Runner) -> None:
        if timings.active:
            timings._add("tick", 0.0)

    runner = Runner(sim, destination, shards, on_progress=on_progress)
    runner.resume()
    topics = [plan.kafka_topic for plan in destination.topics.values()]
    try:
        runner.run(args.warmup)  # ends with every warm-up tick committed
        print(f"{MARK}READY", flush=True)
        sys.stdin.readline()  # the parent starts every task of a measurement together
        committed0 = committed_records(args.bootstrap, topics)
        timings.active = True
        timings.reset()
        marks.update(t0=time.monotonic(), cpu0=time.process_time(), main0=time.thread_time(),
                     commits0=runner.stats.commits, commit_s0=runner.stats.commit_seconds)
        if profile is not None:
            profile.enable()
        runner.run(args.warmup + args.ticks)  # returns once its last commit is durable
        if profile is not None:
            profile.disable()
        marks.update(t1=time.monotonic(), cpu1=time.process_time(), main1=time.thread_time(),
                     commits1=runner.stats.commits, commit_s1=runner.stats.commit_seconds)
        timings.active = False
    finally:
        destination.close()
    marks["events0"] = committed0
    marks["events1"] = committed_records(args.bootstrap, topics)
    if profile is not None:
        stats = pstats.Stats(profile, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(40)
    result = {
        "events": marks["events1"] - marks["events0"], "t0": marks["t0"], "t1": marks["t1"],
        "seconds": marks["t1"] - marks["t0"], "commits": marks["commits1"] - marks["commits0"],
        "cpu_s": marks["cpu1"] - marks["cpu0"], "main_cpu_s": marks["main1"] - marks["main0"],
        "runner_commit_s": marks["commit_s1"] - marks["commit_s0"], "aborts": runner.stats.aborts,
        "commit": timings.commit, "commit_txn": timings.commit_txn,
        "begin_txn": timings.begin_txn, "events_produce": timings.events_produce,
        "encode": timings.encode, "prepare": timings.prepare, "wait": timings.wait,
        "step": timings.step,
        "snapshot_commits": timings.snapshot_commits,
        "producer_conf": {k: v for k, v in destination.producer_conf.items()
                          if k not in ("bootstrap.servers", "logger")}}
    print(MARK + json.dumps(result), flush=True)


# -- children: the ceiling and the DOGE-style sink ------------------------------------------
Message = tuple[str, bytes, bytes | None, int, int]  # topic, value, key, partition, timestamp


def engine_output(args: argparse.Namespace) -> tuple[Any, list[list[Any]], list[list[Any]]]:
    """The 1-task connector's destination plus the events of the warm-up's last tick and of the
    measured ticks, each tick as a list of EventColumns (the bytes the task sends)."""
    worker = worker_config_from(worker_values(args), None)
    config = parse_connector(connector_data(args, 1), None, ROOT)
    sim = prepare(config)
    # Registers (already registered by the 1-task run: same ids) and reads partition counts.
    destination = kafka_destination(worker, config, sim, 0, list(range(config.shards)))
    settings = sim.settings(resolve_start_ms(config))
    engines = [sim.shard(settings, s) for s in range(config.shards)]
    for _ in range(args.warmup - 1):
        step_shards(engines, build_events=False)
    ticks = [[e for batch in step_shards(engines) for e in batch.events if len(e)]
             for _ in range(args.ticks + 1)]
    return destination, ticks[:1], ticks[1:]


def encoded_messages(destination: Any, ticks: list[list[Any]], topic_prefix: str
                     ) -> list[Message]:
    """Exactly what KafkaDestination produces for these ticks (one encode per topic per tick)."""
    out: list[Message] = []
    for events in ticks:
        by_topic: dict[str, list[Any]] = {}
        for e in events:
            by_topic.setdefault(e.topic, []).append(e)
        for topic, staged in by_topic.items():
            kt = topic_prefix + topic
            out.extend((kt, v, k, p, ts) for v, k, p, ts in
                       kafka_records(destination.topics[topic], staged))
    return out


def plain_conf(destination: Any) -> dict[str, Any]:
    """The task's producer settings without transactions."""
    return {k: v for k, v in destination.producer_conf.items()
            if k not in ("transactional.id", "transaction.timeout.ms")}


def produce_all(producer: Any, batch: list[Message]) -> None:
    """The bare produce() loop of the ceilings: positional arguments, no callback."""
    produce = producer.produce
    for topic, value, key, part, ts in batch:
        try:
            produce(topic, value, key, part, None, None, ts)
        except BufferError:
            producer.poll(0.05)
            produce(topic, value, key, part, None, None, ts)


def child_ceiling(args: argparse.Namespace) -> None:
    destination, warm, measured = engine_output(args)
    warm_msgs = encoded_messages(destination, warm, prefix(args, "ceil-"))
    msgs = encoded_messages(destination, measured, prefix(args, "ceil-"))
    producer = Producer(plain_conf(destination))

    def send(batch: list[Message]) -> float:
        t0 = time.perf_counter()
        produce_all(producer, batch)
        left = producer.flush(60)
        if left:
            raise RuntimeError(f"{left} messages not delivered")
        return time.perf_counter() - t0

    send(warm_msgs)  # connections, metadata, producer id
    runs = [send(msgs) for _ in range(args.repeat)]
    print(MARK + json.dumps({
        "events": len(msgs), "seconds": min(runs), "runs": runs,
        "value_bytes": sum(len(m[1]) for m in msgs),
        "key_bytes": sum(len(m[2] or b"") for m in msgs),
        "producer_conf": {k: v for k, v in plain_conf(destination).items()
                          if k not in ("bootstrap.servers", "logger")}}), flush=True)


def child_txn_ceiling(args: argparse.Namespace) -> None:
    """The same pre-built messages, one transaction per tick, each with one offset-sized record
    per shard, as the task's transactions hold: what the broker's transaction round trips alone
    allow one producer, with no simulation, encoding or bookkeeping at all."""
    destination, warm, measured = engine_output(args)
    offsets_topic = f"{prefix(args)}offsets"
    offset_value = b"x" * 220  # about the size of a shard offset record
    ticks = [encoded_messages(destination, [tick], prefix(args, "ceil-")) for tick in measured]
    producer = Producer({**destination.producer_conf,
                         "transactional.id": f"bench-{args.uid}-txn-ceiling"})
    producer.init_transactions(60)
    latencies: list[float] = []

    def send(batch: list[Message]) -> None:
        producer.begin_transaction()
        produce_all(producer, batch)
        for shard in range(SHARDS):
            producer.produce(offsets_topic, offset_value, f"txn-ceiling/{shard}".encode())
        t0 = time.perf_counter()
        producer.commit_transaction(60)
        latencies.append(time.perf_counter() - t0)

    send(encoded_messages(destination, warm, prefix(args, "ceil-")))  # connections, producer id
    latencies.clear()
    started = time.perf_counter()
    for batch in ticks:
        send(batch)
    seconds = time.perf_counter() - started
    print(MARK + json.dumps({"events": sum(len(t) for t in ticks), "seconds": seconds,
                             "commit_txn": latencies}), flush=True)


# -- parent ------------------------------------------------------------------------------------
def spawn(args: argparse.Namespace, kind: str, *extra: str) -> subprocess.Popen[str]:
    argv = [sys.executable, __file__, "--child", kind, "--uid", args.uid,
            "--bootstrap", args.bootstrap, "--registry", args.registry,
            "--users", str(args.users), "--warmup", str(args.warmup), "--ticks", str(args.ticks),
            "--repeat", str(args.repeat), "--boundary-ticks", str(args.boundary_ticks),
            "--boundary", args.boundary, "--interval-ms", str(args.interval_ms),
            "--value-format", args.value_format, "--round", str(args.round),
            *(f"--producer={kv}" for kv in args.producer), *extra]
    return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def read_mark(proc: subprocess.Popen[str]) -> str:
    """The next protocol line of a child (anything else it prints is passed through)."""
    stream: IO[str] | None = proc.stdout
    assert stream is not None
    for line in stream:
        if line.startswith(MARK):
            return line[len(MARK):].strip()
        sys.stderr.write(line)
    code = proc.wait()
    raise RuntimeError(f"child {proc.args!r} ended (exit {code}) without a result")


def run_tasks(args: argparse.Namespace, tasks: int) -> list[dict[str, Any]]:
    """Start `tasks` task processes, release them together after warm-up, collect results."""
    extra = ["--profile"] if args.profile and tasks == 1 else []
    procs = [spawn(args, "task", "--tasks", str(tasks), "--task", str(t), *extra)
             for t in range(tasks)]
    try:
        for p in procs:
            if read_mark(p) != "READY":
                raise RuntimeError("unexpected child output")
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [json.loads(read_mark(p)) for p in procs]
        for p in procs:
            p.wait(60)
        return results
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


def run_child(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    proc = spawn(args, kind)
    try:
        result: dict[str, Any] = json.loads(read_mark(proc))
        proc.wait(60)
        return result
    finally:
        if proc.poll() is None:
            proc.kill()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    return (f"mean {statistics.fmean(values) * 1e3:6.2f}  p50 {pct(values, 50) * 1e3:6.2f}  "
            f"p95 {pct(values, 95) * 1e3:6.2f}  p99 {pct(values, 99) * 1e3:6.2f}  "
            f"max {max(values) * 1e3:6.2f} ms")


def breakdown(r: dict[str, Any]) -> list[str]:
    """Where a task's main thread spent the window, per tick on average (commit_transaction runs
    in a background thread meanwhile; only the wait for it shows here)."""
    ticks = len(r["step"]) or 1
    wall = r["seconds"]
    step, txn, begin = sum(r["step"]), sum(r["commit_txn"]), sum(r["begin_txn"])
    produce, encode = sum(r["events_produce"]), sum(r["encode"])
    prepare, wait = sum(r["prepare"]), sum(r["wait"])
    parts = [("engine step (all shards)", step), ("encode values", encode),
             ("keys + partitions + records", prepare - encode),
             ("wait for the previous commit_transaction", wait),
             ("produce() loop", produce),
             ("rest (runner, offsets, begin, snapshots)", wall - step - prepare - wait - produce)]
    lines = [f"    {'per tick, ms':<46} {'ms':>7} {'share':>6}"]
    for name, seconds in parts:
        lines.append(f"    {name:<46} {seconds / ticks * 1e3:7.2f} {seconds / wall:6.1%}")
    lines.append(f"    {'(begin_transaction alone)':<46} {begin / ticks * 1e3:7.2f}")
    lines.append(f"    {'(commit_transaction, in the background)':<46} {txn / ticks * 1e3:7.2f}")
    lines.append(f"    {'CPU: main thread / whole process (librdkafka)':<46} "
                 f"{r['main_cpu_s'] / ticks * 1e3:7.2f} / {r['cpu_s'] / ticks * 1e3:.2f}")
    return lines


def main() -> None:
    parser = infra_parser(__doc__)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--ticks", type=int, default=500)
    parser.add_argument("--boundary", default="interval", choices=BOUNDARIES,
                        help="transaction.boundary of ours (the default: interval)")
    parser.add_argument("--boundary-ticks", type=int, default=20,
                        help="transaction.boundary.ticks with --boundary ticks")
    parser.add_argument("--interval-ms", type=int, default=1000,
                        help="transaction.boundary.interval.ms (and Java's transaction duration)")
    parser.add_argument("--doge-ticks", type=int, default=3, help="ticks of DOGE end to end")
    parser.add_argument("--repeat", type=int, default=3,
                        help="repetitions of every measurement (min/median/max)")
    parser.add_argument("--keep-topics", action="store_true", help="do not delete the topics")
    parser.add_argument("--profile", action="store_true", help="cProfile the 1-task window")
    parser.add_argument("--producer", action="append", default=[], metavar="KEY=VALUE",
                        help="producer setting for the tasks (as the worker's producer.KEY)")
    parser.add_argument("--skip", default="",
                        help="comma list of: tick,ceiling,java,doge,2tasks,formats")
    parser.add_argument("--format-rounds", type=int, default=3,
                        help="interleaved rounds of the per-format measurement")
    parser.add_argument("--value-format", default="avro", choices=FORMATS, help=argparse.SUPPRESS)
    parser.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=("task", "ceiling", "txn-ceiling"))
    parser.add_argument("--uid", default=uuid.uuid4().hex[:8])
    parser.add_argument("--tasks", type=int, default=1)
    parser.add_argument("--task", type=int, default=0)
    args = parser.parse_args()
    if not args.bootstrap or not args.registry:
        parser.error("no broker/registry: run scripts/infra.sh up (or pass --bootstrap/--registry)")
    if args.child == "task":
        child_task(args)
        return
    if args.child == "ceiling":
        child_ceiling(args)
        return
    if args.child == "txn-ceiling":
        child_txn_ceiling(args)
        return
    skip = set(filter(None, args.skip.split(",")))

    configure("WARNING")


    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    print(f"cores: {cores} (usable {usable})  python: {sys.version.split()[0]}  "
          f"confluent-kafka: {confluent_kafka.__version__}  "
          f"librdkafka: {confluent_kafka.libversion()[0]}")
    print(f"broker: {args.bootstrap}  registry: {args.registry}  topic prefix: {prefix(args)}")
    print(f"banking model, {args.users:,} users, {SHARDS} shards, {PARTITIONS} partitions/topic, "
          f"key.format=string, transaction.boundary={args.boundary} "
          f"(interval {args.interval_ms} ms, ticks {args.boundary_ticks}), pace=max; "
          f"warm-up {args.warmup} ticks, measured {args.ticks} ticks")
    create_topics(args, skip)
    try:
        report(args, skip)
    finally:
        if not args.keep_topics:
            delete_topics(args)


def rate(r: dict[str, Any]) -> float:
    return float(r["events"] / r["seconds"])


def spread(rates: list[float]) -> str:
    """min / median / max in k events/s."""
    return (f"{min(rates) / 1e3:8.1f} {statistics.median(rates) / 1e3:8.1f} "
            f"{max(rates) / 1e3:8.1f}")


def ours_round(args: argparse.Namespace, boundary: str, round_: int) -> dict[str, Any]:
    """One 1-task run, its own connector and topics."""
    return run_tasks(argparse.Namespace(**{**vars(args), "boundary": boundary, "round": round_}),
                     1)[0]


def report(args: argparse.Namespace, skip: set[str]) -> None:
    """Run every measurement and print the results. Ours and the bare loops take turns, round
    by round, so that each ratio compares runs that met the broker in the same state (right after
    topic creation, or while it cleans up the previous run's segments, every run is slower)."""
    rates: dict[str, list[float]] = defaultdict(list)
    runs: list[dict[str, Any]] = []
    sizes = None
    once = argparse.Namespace(**{**vars(args), "repeat": 1})
    for r in range(args.repeat):
        runs.append(ours_round(args, args.boundary, r))
        rates["ours"].append(rate(runs[-1]))
        if "ceiling" not in skip:
            ceiling = run_child(once, "ceiling")
            sizes = (ceiling["value_bytes"] + ceiling["key_bytes"]) / ceiling["events"]
            rates["ceiling"].append(ceiling["events"] / ceiling["seconds"])
        if "tick" not in skip and args.boundary != "tick":
            rates["ours, tick"].append(rate(ours_round(args, "tick", r)))
        if "ceiling" not in skip:
            rates["bare txn loop, tick"].append(rate(run_child(args, "txn-ceiling")))
    one = runs[0]
    print(f"producer settings: {json.dumps(one['producer_conf'], sort_keys=True)}")
    events = statistics.median(r["events"] for r in runs)
    if "java" not in skip:
        rates.update(java_producer(args, int(events), round(sizes or 27)))
    if "doge" not in skip:
        rates["DOGE 1.0.4 end to end"] = doge_end_to_end(args)
    two: list[dict[str, Any]] = []
    if "2tasks" not in skip:
        two = run_tasks(args, 2)
        window = max(r["t1"] for r in two) - min(r["t0"] for r in two)
        rates["ours, 2 tasks"] = [sum(r["events"] for r in two) / window]
    print()
    labels = {
        "ours": f"ours, 1 task, transaction.boundary={args.boundary} (committed)",
        "ours, tick": "ours, 1 task, one transaction per tick (committed)",
        "ceiling": "bare produce() loop, no transactions",
        "bare txn loop, tick": "bare produce() loop, one transaction per tick",
        "java": "Java ProducerPerformance, acks=all",
        "java txn": f"Java ProducerPerformance, transactions of {args.interval_ms} ms",
        "DOGE 1.0.4 end to end": "DOGE 1.0.4: its loop + KafkaAvroSink",
        "ours, 2 tasks": "ours, 2 tasks (sum over the common window)"}
    print(f"{'k events/s over ' + str(args.repeat) + ' repetitions':<60} {'min':>8} "
          f"{'median':>8} {'max':>8}")
    for key, values in rates.items():
        print(f"{labels[key]:<60} {spread(values)}")
    print(f"(ours: {one['commits']} transactions of {args.ticks} ticks, "
          f"{one['events']:,} committed records per repetition; mean record "
          f"{sizes or 0:.1f} B value + key)")
    print()
    median = {k: statistics.median(v) for k, v in rates.items()}

    def ratio(name: str, ref: str, target: str) -> None:
        if ref in median and name in median:
            paired = ""
            if len(rates[name]) == len(rates[ref]) > 1:  # rounds that took turns
                paired = "   per round " + " ".join(
                    f"{a / b:.2f}" for a, b in zip(rates[name], rates[ref], strict=True))
            print(f"{labels[name] + ' / ' + labels[ref]:<110} {median[name] / median[ref]:7.2f}x"
                  f"   {target}{paired}")

    print("ratios of medians:")
    ratio("ours", "ceiling", "(target >= 0.5x)")
    ratio("ours", "java txn", "(target >= 0.8x, stretch 1.0x)")
    ratio("ours", "java", "")
    ratio("ours", "DOGE 1.0.4 end to end", "(target >= 20x)")
    ratio("ours, tick", "bare txn loop, tick", "(target >= 1.0x)")
    ratio("bare txn loop, tick", "ceiling", "")
    ratio("ours, 2 tasks", "ours", "")
    if "formats" not in skip:
        per_format(args)
    print()
    print(f"commit_transaction per transaction, 1 task ({len(one['commit_txn'])} txns): "
          f"{ms(one['commit_txn'])}")
    print(f"destination.commit, 1 task:   {ms(one['commit'])}")
    print(f"runner stats: commit_seconds {one['runner_commit_s']:.3f} s over {one['commits']} "
          f"commits; aborts {one['aborts']}")
    print("where the 1-task time goes (first repetition):")
    print("\n".join(breakdown(one)))


def java_classpath() -> str | None:
    """The broker's jars plus kafka-tools (ProducerPerformance) of the same version, fetched
    into Maven's local repository the way scripts/kafka.sh fetches the broker's."""
    libs = sorted((ROOT / ".cache/infra").glob("kafka-*/libs"))
    if not libs:
        return None
    version = libs[-1].parent.name.removeprefix("kafka-")
    jar = (Path.home() / ".m2/repository/org/apache/kafka/kafka-tools" / version /
           f"kafka-tools-{version}.jar")
    if not jar.exists():
        subprocess.run(["mvn", "-B", "-q", "--no-transfer-progress",
                        "org.apache.maven.plugins:maven-dependency-plugin:2.8:get",
                        f"-Dartifact=org.apache.kafka:kafka-tools:{version}",
                        "-Dtransitive=false"], check=False, capture_output=True)
    return f"{jar}:{libs[-1]}/*" if jar.exists() else None


def java_producer(args: argparse.Namespace, records: int, size: int) -> dict[str, list[float]]:
    """Kafka's ProducerPerformance: as many records as ours committed, of our mean size
    (value + key), our producer settings, plain and with transactions of our interval."""
    classpath = java_classpath()
    if classpath is None:
        print("Java ProducerPerformance: kafka-tools could not be fetched; skipped")
        return {}
    props = [f"bootstrap.servers={args.bootstrap}", "acks=all", "linger.ms=20",
             "batch.size=1000000", "compression.type=lz4"]
    out: dict[str, list[float]] = {"java": [], "java txn": []}
    for i in range(args.repeat):
        for kind, values in out.items():
            argv = ["java", "-cp", classpath, "org.apache.kafka.tools.ProducerPerformance",
                    "--topic", prefix(args, "java"), "--num-records", str(records),
                    "--record-size", str(size), "--throughput", "-1", "--producer-props", *props]
            if kind == "java txn":
                argv += ["--transactional-id", f"bench{args.uid}-java-{i}",
                         "--transaction-duration-ms", str(args.interval_ms)]
            done = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=True)
            final = [line for line in done.stdout.splitlines() if "records sent" in line][-1]
            values.append(float(final.split(" records/sec")[0].split(", ")[-1]))
    return out


def doge_end_to_end(args: argparse.Namespace) -> list[float]:
    """DOGE 1.0.4 itself (its virtualenv) with its KafkaAvroSinkFactory sinks on the seed's
    banking script: events sent per second over `--doge-ticks` ticks, final flush included."""
    python = doge_python()
    script = ROOT / "bench/doge_sink.py"
    out = []
    for _ in range(args.repeat):
        done = subprocess.run(
            [str(python or sys.executable), str(script), args.bootstrap, args.registry,
             prefix(args, "dogee2e-"), str(args.users), str(args.doge_ticks)],
            capture_output=True, text=True, timeout=1800, check=True,
            env={**os.environ, "DOGE_IMPL": "doge_datagen" if python else "connector.doge"})
        out.append(rate(json.loads(done.stdout.strip().splitlines()[-1])))
    return out


def per_format(args: argparse.Namespace) -> None:
    """The 1-task run per value format, formats interleaved in rounds; min/median/max."""
    rates: dict[str, list[float]] = {f: [] for f in FORMATS}
    for round_ in range(args.repeat, args.repeat + args.format_rounds):  # after ours' rounds
        for fmt in FORMATS:
            one = run_tasks(argparse.Namespace(**{**vars(args), "value_format": fmt,
                                                  "round": round_}), 1)[0]
            rates[fmt].append(one["events"] / one["seconds"])
    base = statistics.median(rates["avro"])
    print(f"per value format, 1 task, {args.format_rounds} interleaved rounds "
          "(k events/s min / median / max; median vs avro):")
    for fmt, values in rates.items():
        median = statistics.median(values)
        target = "  (target >= 70 %)" if fmt in ("json", "protobuf") else ""
        print(f"  {fmt:<12} {min(values) / 1e3:7.1f} / {median / 1e3:7.1f} / "
              f"{max(values) / 1e3:7.1f}   {median / base:6.1%}{target}")


def row(name: str, events: int, seconds: float) -> None:
    print(f"{name:<44} {events:>9,} {seconds:>8.3f} {events / seconds / 1e3:>11.1f}")


def infra_parser(doc: str | None) -> argparse.ArgumentParser:
    """A bench's parser with the broker, the registry and `--users` (1e6 by default)."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    env = infra_env()
    parser.add_argument("--bootstrap", default=env.get("DOGE_TEST_BOOTSTRAP"))
    parser.add_argument("--registry", default=env.get("DOGE_TEST_REGISTRY"))
    parser.add_argument("--users", type=lambda s: int(float(s)), default=1_000_000)
    return parser


def infra_env() -> dict[str, str]:
    """DOGE_TEST_* from the environment, else from .cache/infra/env (scripts/infra.sh up)."""
    out: dict[str, str] = {}
    path = ROOT / ".cache/infra/env"
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                out[key.strip()] = value.strip()
    out.update({k: v for k, v in os.environ.items() if k.startswith("DOGE_TEST_")})
    return out


if __name__ == "__main__":
    main()
