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
from typing import Any

import attrs

from connector.core.checkpoint import Committed, ShardCheckpoint
from connector.kafka.log import read_latest

_CHUNK_HEADER = struct.Struct(">qii")  # snapshot tick, chunk index, chunk count


def offset_key(connector: str, shard: int) -> bytes:
    return f"{connector}/shard/{shard}".encode()


def chunk_key(connector: str, shard: int, index: int) -> bytes:
    return f"{connector}/shard/{shard}/chunk/{index}".encode()


def generations_key(connector: str) -> bytes:
    return f"{connector}/generations".encode()


@attrs.frozen
class OffsetRecord:
    """A shard's committed offset record (what the REST offsets answer and resume read)."""

    next_tick: int
    fingerprint: str
    start_ms: int
    snapshot_tick: int | None
    snapshot_chunks: int
    snapshot_sha: str | None

    @classmethod
    def from_bytes(cls, raw: bytes) -> OffsetRecord:
        record = json.loads(raw)
        return cls(int(record["next_tick"]), str(record["fingerprint"]), int(record["start_ms"]),
                   record.get("snapshot_tick"), int(record.get("snapshot_chunks") or 0),
                   record.get("snapshot_sha"))


def shard_of(key: bytes) -> int:
    """The shard of an offset key `<connector>/shard/<n>`."""
    return int(key.decode().rsplit("/", 1)[1])


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


def committed_for(connector: str, shards: list[int], offsets: dict[bytes, bytes],
                  snapshots: dict[bytes, bytes]) -> Committed | None:
    """Reassemble the checkpoints of `shards` from the latest offset and snapshot records."""
    found: dict[int, ShardCheckpoint] = {}
    last: OffsetRecord | None = None
    for shard in shards:
        raw = offsets.get(offset_key(connector, shard))
        if raw is None:
            continue
        last = record = OffsetRecord.from_bytes(raw)
        snapshot = None
        if record.snapshot_tick is not None:
            snapshot = _assemble(connector, shard, record, snapshots)
        found[shard] = ShardCheckpoint(record.next_tick, snapshot,
                                       record.snapshot_tick if snapshot is not None else None)
    if last is None:
        return None
    return Committed(last.fingerprint, last.start_ms, found)


def _assemble(connector: str, shard: int, record: OffsetRecord,
              snapshots: dict[bytes, bytes]) -> bytes | None:
    parts = []
    for i in range(record.snapshot_chunks):
        raw = snapshots.get(chunk_key(connector, shard, i))
        if raw is None:
            return None
        tick, index, count = _CHUNK_HEADER.unpack_from(raw)
        if tick != record.snapshot_tick or index != i or count != record.snapshot_chunks:
            return None  # not the snapshot this offset refers to: replay from an older point
        parts.append(raw[_CHUNK_HEADER.size:])
    data = b"".join(parts)
    if hashlib.sha256(data).hexdigest() != record.snapshot_sha:
        return None
    return data
