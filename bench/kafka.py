"""Kafka benchmark: doge-connect end to end into the local broker, against a ceiling and DOGE.

    source .cache/infra/env   # scripts/infra.sh up
    .venv/bin/python bench/kafka.py [--users 1e6] [--warmup 10] [--ticks 500] [--repeat 3]
                                    [--profile] [--producer linger.ms=1] [--skip doge,2tasks]
                                    [--boundary-ticks 1]

One run prints, against the broker and registry of DOGE_TEST_BOOTSTRAP / DOGE_TEST_REGISTRY
(default: .cache/infra/env):

* ours, 1 task: the banking model, Avro values framed for the registry, key.format=string,
  transaction.boundary=interval (the default; `--boundary`), pace max, 8 shards
  (`--shards`), ONE task;
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
  one per tick, `--repeat` times, so that each pair met the broker in the same state; one bare
  loop before the first round, not counted, warms the broker up.
* the same bare loop with one transaction per tick (and one offset-sized record per shard in
  each): what the broker's transaction round trips alone allow one producer; ours can only
  approach it, as each of its ticks must also be simulated and encoded.
* Kafka's Java producer (bench/java_producer.py), in every round beside ours: ReplayProducer,
  the Java client sending exactly our records (topics, partitions, keys, values, timestamps of
  the measured ticks) with our settings, then ProducerPerformance (one repeated payload of our
  mean record size, no key, one topic, as many records as ours committed in the round), each
  with transactions of our interval and plain. In the same round as ours, not after all of
  them: the first round meets a broker still settling (one run: ours 415 against 562 and 598
  k events/s in rounds 2 and 3, the bare loop 492 against 617 and 646), and
  ProducerPerformance measured only after the rounds never met it.
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
`--profile [FILE]` prints a cProfile of the 1-task window to stderr (and saves it to FILE for
pstats); `--producer KEY=VALUE` overrides a task producer setting as the worker's
`producer.KEY` would, and the Java yardsticks' setting of the same name where both clients have
it (acks, linger.ms, batch.size, compression.type, enable.idempotence). The task's own figures
(commit_transaction percentiles, the time breakdown, CPU of its main thread and of the whole
process) come from wrappers the bench puts around the destination's methods; product code is not
changed for them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import confluent_kafka

from bench.doge_compat import doge_python
from bench.java_producer import java_classpath, java_props, producer_performance, replay
from bench.kafka_children import (
    child_ceiling,
    child_records,
    child_task,
    child_txn_ceiling,
    records_file,
)
from bench.kafka_setup import (
    BOUNDARIES,
    FORMATS,
    PARTITIONS,
    SHARDS,
    committed_records,
    create_topics,
    delete_topics,
    infra_parser,
    kind_of,
    model_topics,
    prefix,
    read_mark,
)
from connector.logging import configure


# -- parent ------------------------------------------------------------------------------------
def spawn(args: argparse.Namespace, kind: str, *extra: str) -> subprocess.Popen[str]:
    argv = [sys.executable, __file__, "--child", kind, "--uid", args.uid,
            "--bootstrap", args.bootstrap, "--registry", args.registry,
            "--users", str(args.users), "--warmup", str(args.warmup), "--ticks", str(args.ticks),
            "--repeat", str(args.repeat), "--boundary-ticks", str(args.boundary_ticks),
            "--boundary", args.boundary, "--interval-ms", str(args.interval_ms),
            "--value-format", args.value_format, "--round", str(args.round),
            "--shards", str(args.shards),
            *(f"--producer={kv}" for kv in args.producer), *extra]
    return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def run_tasks(args: argparse.Namespace, tasks: int) -> list[dict[str, Any]]:
    """Start `tasks` task processes, release them together after warm-up, collect results
    (each with `events_all`: the records all of them committed while measured)."""
    extra = ["--profile", args.profile] if args.profile is not None and tasks == 1 else []
    procs = [spawn(args, "task", "--tasks", str(tasks), "--task", str(t), *extra)
             for t in range(tasks)]
    try:
        for p in procs:
            if read_mark(p) != "READY":
                raise RuntimeError("unexpected child output")
        kind = kind_of(tasks, args.value_format, args.round, args.boundary)
        topics = [prefix(args, kind) + topic for topic in model_topics()]
        before = committed_records(args.bootstrap, topics) if tasks > 1 else 0
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [json.loads(read_mark(p)) for p in procs]
        for p in procs:
            p.wait(60)
        after = committed_records(args.bootstrap, topics) if tasks > 1 else 0
        for result in results:  # every task's records in the window
            result["events_all"] = after - before if tasks > 1 else result["events"]
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
             ("produce into librdkafka", produce),
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
    parser.add_argument("--profile", nargs="?", const="", default=None, metavar="FILE",
                        help="cProfile the 1-task window (stats also saved to FILE if given)")
    parser.add_argument("--producer", action="append", default=[], metavar="KEY=VALUE",
                        help="producer setting for the tasks (as the worker's producer.KEY)")
    parser.add_argument("--shards", type=int, default=SHARDS,
                        help="the connector's shards (default 8, the connector default)")
    parser.add_argument("--skip", default="",
                        help="comma list of: tick,ceiling,java,doge,2tasks,formats")
    parser.add_argument("--format-rounds", type=int, default=3,
                        help="interleaved rounds of the per-format measurement")
    parser.add_argument("--value-format", default="avro", choices=FORMATS, help=argparse.SUPPRESS)
    parser.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=("task", "ceiling", "txn-ceiling", "records"))
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
    if args.child == "records":
        child_records(args)
        return
    skip = set(filter(None, args.skip.split(",")))

    configure("WARNING")


    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    print(f"cores: {cores} (usable {usable})  python: {sys.version.split()[0]}  "
          f"confluent-kafka: {confluent_kafka.__version__}  "
          f"librdkafka: {confluent_kafka.libversion()[0]}")
    print(f"broker: {args.bootstrap}  registry: {args.registry}  topic prefix: {prefix(args)}")
    print(f"banking model, {args.users:,} users, {args.shards} shards, {PARTITIONS} "
          "partitions/topic, "
          f"key.format=string, transaction.boundary={args.boundary} "
          f"(interval {args.interval_ms} ms, ticks {args.boundary_ticks}), pace=max; "
          f"warm-up {args.warmup} ticks, measured {args.ticks} ticks")
    create_topics(args, skip)
    try:
        report(args, skip)
    finally:
        records_file(args).unlink(missing_ok=True)
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
    classpath = java_classpath() if "java" not in skip else None
    replayed = Path(run_child(once, "records")["path"]) if classpath else None
    if "java" not in skip and classpath is None:
        print("Java producer: kafka-tools could not be fetched; skipped")
    if "ceiling" not in skip:
        # Not counted: a broker JVM just started (or just cleaning up) runs the first minute of
        # any measurement ~30 % slower; one bare loop's ~2 M records get it past that.
        run_child(once, "ceiling")
    for r in range(args.repeat):
        runs.append(ours_round(args, args.boundary, r))
        rates["ours"].append(rate(runs[-1]))
        if "ceiling" not in skip:
            ceiling = run_child(once, "ceiling")
            sizes = (ceiling["value_bytes"] + ceiling["key_bytes"]) / ceiling["events"]
            rates["ceiling"].append(ceiling["events"] / ceiling["seconds"])
            if ceiling["native_seconds"]:
                rates["native ceiling"].append(ceiling["events"] / ceiling["native_seconds"])
        if classpath and replayed:
            props = java_props(args.producer)
            rates["java replay txn"].append(replay(classpath, args.bootstrap, replayed,
                                                   args.interval_ms, f"bench{args.uid}-jrep-{r}",
                                                   props))
            rates["java replay"].append(replay(classpath, args.bootstrap, replayed, 0, "-",
                                               props))
            for kind, rate_ in java_round(args, classpath, r, runs[-1]["events"],
                                          round(sizes or 27)).items():
                rates[kind].append(rate_)
        if "tick" not in skip and args.boundary != "tick":
            rates["ours, tick"].append(rate(ours_round(args, "tick", r)))
        if "ceiling" not in skip:
            rates["bare txn loop, tick"].append(rate(run_child(args, "txn-ceiling")))
    one = runs[0]
    print(f"producer settings: {json.dumps(one['producer_conf'], sort_keys=True)}")
    doge_label = ""
    if "doge" not in skip:
        rates["DOGE 1.0.4 end to end"], doge_label = doge_end_to_end(args)
    two: list[dict[str, Any]] = []
    if "2tasks" not in skip:
        two = run_tasks(args, 2)
        window = max(r["t1"] for r in two) - min(r["t0"] for r in two)
        # Each task counts every record of the shared topics over its own window, the other
        # task's too: the total of both is what the parent counted around the whole run.
        rates["ours, 2 tasks"] = [two[0]["events_all"] / window]
    print()
    labels = {
        "ours": f"ours, 1 task, transaction.boundary={args.boundary} (committed)",
        "ours, tick": "ours, 1 task, one transaction per tick (committed)",
        "ceiling": "bare produce() loop, no transactions",
        "native ceiling": "bare loop of the task's C produce path, no transactions",
        "bare txn loop, tick": "bare produce() loop, one transaction per tick",
        "java": "Java ProducerPerformance, acks=all",
        "java txn": f"Java ProducerPerformance, transactions of {args.interval_ms} ms",
        "java replay": "Java producer, our records, acks=all",
        "java replay txn": f"Java producer, our records, transactions of {args.interval_ms} ms",
        "DOGE 1.0.4 end to end": doge_label,
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
    ratio("ours", "native ceiling", "(against the path the task itself uses)")
    ratio("native ceiling", "java replay", "(C path / Java client, same records)")
    ratio("ours", "java txn", "(target >= 0.8x, stretch 1.0x)")
    ratio("ours", "java replay txn", "(the same target, against our own records)")
    ratio("ours", "java", "")
    ratio("ceiling", "java replay", "(Python client / Java client, same records)")
    ratio("java replay txn", "java txn", "(our records / one repeated payload)")
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
    if two:
        print("where the time of the first of 2 tasks goes:")
        print("\n".join(breakdown(two[0])))


def java_round(args: argparse.Namespace, classpath: str, round_: int, records: int, size: int
               ) -> dict[str, float]:
    """ProducerPerformance with transactions of our interval, then plain: as many records as
    ours committed in this round, of our mean size; run in the same round as ours, so that
    each pair met the broker in the same state."""
    return {kind: producer_performance(classpath, args.bootstrap, prefix(args, "java"), records,
                                       size, args.interval_ms if kind == "java txn" else 0,
                                       f"bench{args.uid}-java-{round_}",
                                       java_props(args.producer))
            for kind in ("java txn", "java")}


def doge_end_to_end(args: argparse.Namespace) -> tuple[list[float], str]:
    """DOGE 1.0.4 itself (its virtualenv) with its KafkaAvroSinkFactory sinks on the seed's
    banking script: events sent per second over `--doge-ticks` ticks, final flush included;
    and what ran (connector.doge's sinks if DOGE could not be installed)."""
    python = doge_python()
    label = ("DOGE 1.0.4: its loop + KafkaAvroSink" if python else
             "connector.doge + its KafkaAvroSink (DOGE 1.0.4 not installable)")
    script = ROOT / "bench/doge_sink.py"
    out = []
    for _ in range(args.repeat):
        done = subprocess.run(
            [str(python or sys.executable), str(script), args.bootstrap, args.registry,
             prefix(args, "dogee2e-"), str(args.users), str(args.doge_ticks)],
            capture_output=True, text=True, timeout=1800, check=True,
            env={**os.environ, "DOGE_IMPL": "doge_datagen" if python else "connector.doge"})
        out.append(rate(json.loads(done.stdout.strip().splitlines()[-1])))
    return out, label


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


if __name__ == "__main__":
    main()
