"""bench/kafka.py's children, each measuring in a process of its own: one task on the production
path (`child_task`), the bare produce() loops (`child_ceiling`, `child_txn_ceiling`) and the
records file of the Java replay (`child_records`)."""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from confluent_kafka import Producer

from bench.java_producer import Message, write_records
from bench.kafka_setup import (
    MARK,
    ROOT,
    committed_records,
    connector_data,
    prefix,
    worker_values,
)
from connector.core.sharding import shards_of_task
from connector.core.staged import merge
from connector.destinations.kafka import KafkaDestination
from connector.engine.shard import step_shards
from connector.kafka import native
from connector.logging import configure
from connector.runtime import runner as runner_module
from connector.runtime.config import parse_connector, resolve_start_ms
from connector.runtime.runner import Runner
from connector.runtime.simulation import prepare
from connector.runtime.task import kafka_destination, settle_heap
from connector.runtime.worker_config import worker_config_from
from connector.serde.records import Records, kafka_records


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
        self.events_produce: list[float] = []  # _produce_events: records into librdkafka
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
    profile = cProfile.Profile() if args.profile is not None else None
    marks: dict[str, float] = {}

    def on_progress(runner: Runner) -> None:
        if timings.active:
            timings._add("tick", 0.0)

    runner = Runner(sim, destination, shards, on_progress=on_progress)
    runner.resume()
    settle_heap()  # as run_task does
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
        if args.profile:
            stats.dump_stats(args.profile)
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
    ticks = [[(batch.tick, e) for batch in step_shards(engines) for e in batch.events if len(e)]
             for _ in range(args.ticks + 1)]
    return destination, ticks[:1], ticks[1:]


def encoded_records(destination: Any, ticks: list[list[Any]], topic_prefix: str
                    ) -> list[Records]:
    """Exactly what KafkaDestination produces for these ticks (one encode per topic per tick)."""
    out: list[Records] = []
    for events in ticks:
        by_topic: dict[str, list[Any]] = {}
        for tick, e in events:
            by_topic.setdefault(e.topic, []).append((tick, e))
        for topic, staged in by_topic.items():
            records = kafka_records(destination.topics[topic], merge(staged))
            out.append(attrs.evolve(records, topic=topic_prefix + topic))
    return out


def encoded_messages(destination: Any, ticks: list[list[Any]], topic_prefix: str
                     ) -> list[Message]:
    """The same, record by record."""
    return [(r.topic, v, k, p, ts) for r in encoded_records(destination, ticks, topic_prefix)
            for v, k, p, ts in r]


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
    """The engine's records, pre-built, into a plain producer: one produce() per record, and
    (where it is available) the task's C path, one call per topic per tick."""
    destination, warm, measured = engine_output(args)
    warm_msgs = encoded_messages(destination, warm, prefix(args, "ceil-"))
    msgs = encoded_messages(destination, measured, prefix(args, "ceil-"))
    batches = encoded_records(destination, measured, prefix(args, "ceil-"))
    producer = Producer(plain_conf(destination))

    def send(produce: Callable[[], None]) -> float:
        t0 = time.perf_counter()
        produce()
        left = producer.flush(60)
        if left:
            raise RuntimeError(f"{left} messages not delivered")
        return time.perf_counter() - t0

    def natively() -> None:
        for records in batches:
            KafkaDestination._produce_natively(producer, records)

    send(lambda: produce_all(producer, warm_msgs))  # connections, metadata, producer id
    runs = [send(lambda: produce_all(producer, msgs)) for _ in range(args.repeat)]
    native_runs = ([send(natively) for _ in range(args.repeat)]
                   if native.available(producer) else [])
    print(MARK + json.dumps({
        "events": len(msgs), "seconds": min(runs), "runs": runs,
        "native_seconds": min(native_runs) if native_runs else None,
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
        for shard in range(args.shards):
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


def records_file(args: argparse.Namespace) -> Path:
    """Where the records the Java replay sends are written (one file per run)."""
    return ROOT / ".cache" / f"bench-records-{args.uid}.bin"


def child_records(args: argparse.Namespace) -> None:
    """Write the records ours sends for the warm-up's last tick and the measured ticks (topics
    of kind `jrep-`) for bench/java/ReplayProducer.java."""
    destination, warm, measured = engine_output(args)
    path = records_file(args)
    msgs = encoded_messages(destination, measured, prefix(args, "jrep-"))
    write_records(path, encoded_messages(destination, warm, prefix(args, "jrep-")), msgs)
    print(MARK + json.dumps({"events": len(msgs), "path": str(path)}), flush=True)
