"""Kafka's own Java producer as a yardstick for bench/kafka.py, two ways:

* `producer_performance`: `org.apache.kafka.tools.ProducerPerformance` (kafka-tools of the
  broker's version), as many records as ours committed, of our mean size (value + key), our
  producer settings, plain and with transactions of our interval. Its workload is not ours:
  one payload repeated for every record (lz4 shrinks a batch of them to almost nothing), no key,
  one topic, the sticky partitioner filling one partition's batch at a time.
* `replay`: bench/java/ReplayProducer.java, run by the JVM's source launcher against the
  broker's kafka-clients, sending exactly our records (topic, partition, timestamp, key, value
  of every event a task sends for the measured ticks, written by `write_records`) with the same
  settings and transaction duration: the same workload, Kafka's client.

Records file (big-endian, as Java's DataInputStream reads it): two parts, the warm-up records
and the measured ones (both sent and committed once before timing: connections, metadata,
producer id, and a JIT that has compiled the send path; then the measured ones are timed),
each an int32 count followed by that many records of
int32 topic length, topic (UTF-8), int32 partition, int64 timestamp, int32 key length (-1: null),
key, int32 value length, value.
"""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPLAY = ROOT / "bench/java/ReplayProducer.java"
Message = tuple[str, bytes, bytes | None, int, int]  # topic, value, key, partition, timestamp

# Our producer settings in the Java client's names (KafkaDestination.producer_conf: acks=all,
# idempotence, linger 5 ms, 1 MB batches, lz4, a 1 GiB buffer).
JAVA_PROPS = ("acks=all", "enable.idempotence=true", "linger.ms=5", "batch.size=1000000",
              "compression.type=lz4", "buffer.memory=1073741824")
# Settings that both clients spell alike: a `--producer` override of one applies to both.
SHARED = frozenset({"acks", "linger.ms", "batch.size", "compression.type", "enable.idempotence"})


def java_props(overrides: Iterable[str]) -> tuple[str, ...]:
    """JAVA_PROPS with the bench's `--producer KEY=VALUE` overrides of the shared settings."""
    props = dict(kv.partition("=")[::2] for kv in JAVA_PROPS)
    for key, _, value in (kv.partition("=") for kv in overrides):
        if key in SHARED:
            props[key] = value
    return tuple(f"{k}={v}" for k, v in props.items())


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


def producer_performance(classpath: str, bootstrap: str, topic: str, records: int, size: int,
                         transaction_ms: int, transactional_id: str,
                         props: tuple[str, ...] = JAVA_PROPS) -> float:
    """ProducerPerformance's records/s (`transaction_ms` 0: no transactions)."""
    argv = ["java", "-cp", classpath, "org.apache.kafka.tools.ProducerPerformance",
            "--topic", topic, "--num-records", str(records), "--record-size", str(size),
            "--throughput", "-1", "--producer-props", f"bootstrap.servers={bootstrap}",
            *props]
    if transaction_ms:
        argv += ["--transactional-id", transactional_id,
                 "--transaction-duration-ms", str(transaction_ms)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=True)
    final = [line for line in done.stdout.splitlines() if "records sent" in line][-1]
    return float(final.split(" records/sec")[0].split(", ")[-1])


def write_records(path: Path, warm: list[Message], measured: list[Message]) -> None:
    """The records file ReplayProducer reads (format in the module docstring)."""
    head, record = struct.Struct(">i"), struct.Struct(">iq")
    with path.open("wb") as out:
        for part in (warm, measured):
            out.write(head.pack(len(part)))
            out.writelines(_encoded(part, head, record))


def _encoded(part: Iterable[Message], head: struct.Struct, record: struct.Struct
             ) -> Iterable[bytes]:
    topics: dict[str, bytes] = {}
    for topic, value, key, partition, timestamp in part:
        name = topics.get(topic)
        if name is None:
            raw = topic.encode()
            name = topics[topic] = head.pack(len(raw)) + raw
        yield b"".join((name, record.pack(partition, timestamp),
                        head.pack(-1) if key is None else head.pack(len(key)) + key,
                        head.pack(len(value)), value))


def replay(classpath: str, bootstrap: str, path: Path, transaction_ms: int,
           transactional_id: str, props: tuple[str, ...] = JAVA_PROPS) -> float:
    """ReplayProducer's records/s over the measured records of `path` (`transaction_ms` 0:
    no transactions, flushed at the end)."""
    argv = ["java", "-Xmx4g", "-cp", classpath, str(REPLAY), str(path), str(transaction_ms),
            transactional_id, f"bootstrap.servers={bootstrap}", *props]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
    lines = [line for line in done.stdout.splitlines() if "records sent" in line]
    if done.returncode or not lines:
        raise RuntimeError(f"ReplayProducer failed ({done.returncode}): "
                           f"{(done.stderr or done.stdout)[-2000:]}")
    return float(lines[-1].split(", ")[1].split(" records/sec")[0])
