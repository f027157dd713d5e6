"""Offsets and snapshots in compacted Kafka topics: record formats and reading them back.

Per shard, one offset record (JSON) keyed `<connector>/shard/<n>`, and its latest snapshot as
chunks keyed `<connector>/shard/<n>/chunk/<i>` (chunked: a shard's state may exceed the broker's
maximum message size). Both are written in the task's transaction with the events, so a
read_committed reader sees a shard's offset and its snapshot change together with its output.
`<connector>/generations` lists every `tasks.max` the connector ran with, so a new generation can
fence the transactional ids of older ones.
"""

from __future__ import annotations

import hashlib
import json
import struct
import time
from typing import Any

from confluent_kafka import Consumer, KafkaError, TopicPartition

from connector.core.checkpoint import Committed, ShardCheckpoint

_CHUNK_HEADER = struct.Struct(">qii")  # snapshot tick, chunk index, chunk count


def offset_key(connector: str, shard: int) -> bytes:
    return f"{connector}/shard/{shard}".encode()


def chunk_key(connector: str, shard: int, index: int) -> bytes:
    return f"{connector}/shard/{shard}/chunk/{index}".encode()


def generations_key(connector: str) -> bytes:
    return f"{connector}/generations".encode()


def read_generations(consumer_conf: dict[str, Any], topic: str, connector: str,
                     timeout_s: float = 60.0) -> set[int]:
    """Every `tasks.max` the connector ran with (recorded before its tasks start)."""
    key = generations_key(connector)
    raw = read_latest(consumer_conf, topic, key, timeout_s)
    return {int(g) for g in json.loads(raw[key])} if key in raw else set()


def generations_value(generations: set[int]) -> bytes:
    return json.dumps(sorted(generations)).encode()


def offset_value(checkpoint: ShardCheckpoint, fingerprint: str, start_ms: int,
                 snapshot_tick: int | None, snapshot_chunks: int, snapshot_sha: str | None,
                 task: str) -> bytes:
    return json.dumps({"next_tick": checkpoint.next_tick, "fingerprint": fingerprint,
                       "start_ms": start_ms, "snapshot_tick": snapshot_tick,
                       "snapshot_chunks": snapshot_chunks, "snapshot_sha": snapshot_sha,
                       "task": task}, separators=(",", ":")).encode()


def chunks(snapshot: bytes, tick: int, size: int) -> list[bytes]:
    """The snapshot split into records of at most `size` payload bytes, each with a header."""
    parts = [snapshot[i:i + size] for i in range(0, len(snapshot), size)] or [b""]
    return [_CHUNK_HEADER.pack(tick, i, len(parts)) + p for i, p in enumerate(parts)]


def read_latest(consumer_conf: dict[str, Any], topic: str, prefix: bytes,
                timeout_s: float = 60.0, complete: bool = False) -> dict[bytes, bytes]:
    """The latest committed value of every key starting with `prefix` (tombstones drop keys).

    By default it reads up to the last stable offset: what is committed and readable now. A
    transaction of another producer that is still open hides every record after its start, even
    records committed later. `complete=True` reads up to the high watermark instead, waiting for
    such transactions to end, so nothing committed before the call is missed: a task needs this
    after fencing its predecessor, whose last commits may lie beyond another task's open
    transaction (a worker killed mid-commit leaves those open until their owners are fenced).
    """
    conf = {**consumer_conf, "group.id": consumer_conf.get("group.id", "doge-offset-reader"),
            "enable.auto.commit": False, "isolation.level": "read_committed",
            "auto.offset.reset": "earliest", "enable.partition.eof": True}
    consumer = Consumer(conf)
    # A read_committed client's watermark query answers the last stable offset; the high
    # watermark needs a read_uncommitted one.
    marks = Consumer({**conf, "isolation.level": "read_uncommitted"}) if complete else consumer
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s).topics[topic]
        if metadata.error is not None:
            return {}
        partitions = [TopicPartition(topic, p) for p in metadata.partitions]
        ends = {}
        for tp in partitions:
            low, high = marks.get_watermark_offsets(tp, timeout=timeout_s)
            if high > low:
                ends[tp.partition] = high
                tp.offset = low
        consumer.assign([tp for tp in partitions if tp.partition in ends])
        latest: dict[bytes, bytes] = {}
        deadline = time.monotonic() + timeout_s
        remaining = set(ends)
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic} did not reach its end in {timeout_s:.0f}s "
                                   "(an open transaction of another producer?)")
            msg = consumer.poll(0.5)
            if msg is None:
                _drop_finished(consumer, remaining, ends, topic)
                continue
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    _drop_finished(consumer, remaining, ends, topic)
                    continue
                raise RuntimeError(f"reading {topic}: {error}")
            key = msg.key()
            if key is not None and key.startswith(prefix):
                value = msg.value()
                if value is None:
                    latest.pop(key, None)
                else:
                    latest[key] = value
            partition, offset = msg.partition() or 0, msg.offset() or 0
            if offset + 1 >= ends[partition]:
                remaining.discard(partition)
        return latest
    finally:
        consumer.close()
        if marks is not consumer:
            marks.close()


def _drop_finished(consumer: Consumer, remaining: set[int], ends: dict[int, int],
                   topic: str) -> None:
    """Partitions whose position passed their end (control records count as read)."""
    for tp in consumer.position([TopicPartition(topic, p) for p in list(remaining)]):
        if tp.offset >= ends[tp.partition]:
            remaining.discard(tp.partition)


def committed_for(connector: str, shards: list[int], offsets: dict[bytes, bytes],
                  snapshots: dict[bytes, bytes]) -> Committed | None:
    """Reassemble the checkpoints of `shards` from the latest offset and snapshot records."""
    found: dict[int, ShardCheckpoint] = {}
    fingerprint, start_ms = None, None
    for shard in shards:
        raw = offsets.get(offset_key(connector, shard))
        if raw is None:
            continue
        record = json.loads(raw)
        fingerprint, start_ms = record["fingerprint"], record["start_ms"]
        snapshot = None
        if record.get("snapshot_tick") is not None:
            snapshot = _assemble(connector, shard, record, snapshots)
        found[shard] = ShardCheckpoint(record["next_tick"], snapshot,
                                       record["snapshot_tick"] if snapshot is not None else None)
    if fingerprint is None or start_ms is None:
        return None
    return Committed(fingerprint, int(start_ms), found)


def _assemble(connector: str, shard: int, record: dict[str, Any],
              snapshots: dict[bytes, bytes]) -> bytes | None:
    parts = []
    for i in range(record["snapshot_chunks"]):
        raw = snapshots.get(chunk_key(connector, shard, i))
        if raw is None:
            return None
        tick, index, count = _CHUNK_HEADER.unpack_from(raw)
        if tick != record["snapshot_tick"] or index != i or count != record["snapshot_chunks"]:
            return None  # not the snapshot this offset refers to: replay from an older point
        parts.append(raw[_CHUNK_HEADER.size:])
    data = b"".join(parts)
    if hashlib.sha256(data).hexdigest() != record["snapshot_sha"]:
        return None
    return data
