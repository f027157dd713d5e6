"""A run's committed position, as every destination and offset store records it."""

from __future__ import annotations

import attrs


@attrs.frozen
class ShardCheckpoint:
    """A shard's committed position: the next tick to produce, and its latest snapshot."""

    next_tick: int
    snapshot: bytes | None = None
    snapshot_tick: int | None = None


@attrs.frozen
class Committed:
    """What a destination holds for a run: tick 0's time and every shard's checkpoint."""

    fingerprint: str
    start_ms: int
    shards: dict[int, ShardCheckpoint]
