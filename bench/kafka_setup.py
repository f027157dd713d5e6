"""What bench/kafka.py's parent and its children share: the broker and registry, the connector under
test, its topics (created as the worker does, counted as a read_committed reader sees them) and
the protocol lines between processes."""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import IO, Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from connector.kafka.topics import COMPACT, ensure_topics
from connector.model.validate import load_model

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "config/models/banking.yaml"
START_TIME = "2024-01-01T00:00:00Z"
SHARDS = 8  # the connector default; bench/kafka.py --shards measures another count
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
        "users": str(args.users), "shards": str(args.shards), "seed": "42", "tick.ms": "60000",
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
    if "java" not in skip:
        kinds.append("jrep-")
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
