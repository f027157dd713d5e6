"""Kafka's Java-client partitioner for keyed records: `toPositive(murmur2(key)) % numPartitions`.

Matching it keeps our topics co-partitioned with topics written by Java producers, Kafka Streams and
Flink. librdkafka's default partitioner is CRC32-based, so the producer must either be configured
with `partitioner=murmur2_random` or be given the partition computed here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from connector.serde import pieces as P
from connector.serde.encoder import SMALL_BATCH, EncodedBatch

_SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK32 = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's `Utils.murmur2`: the signed 32-bit hash Java returns."""
    length = len(data)
    h = (_SEED ^ length) & _MASK32
    body = length & ~3
    for i in range(0, body, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * _M) & _MASK32
        k ^= k >> 24
        k = (k * _M) & _MASK32
        h = ((h * _M) & _MASK32) ^ k
    tail = length & 3
    if tail:
        h ^= int.from_bytes(data[body:], "little")
        h = (h * _M) & _MASK32
    h ^= h >> 13
    h = (h * _M) & _MASK32
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition(key: bytes, num_partitions: int) -> int:
    """The partition the Java client picks for a record with this serialized key."""
    if num_partitions <= 0:
        raise ValueError(f"num_partitions must be positive, not {num_partitions}")
    return (murmur2(key) & 0x7FFFFFFF) % num_partitions


def murmur2_many(keys: Sequence[bytes] | EncodedBatch) -> npt.NDArray[np.int32]:
    """murmur2 of many keys at once (numpy over all keys; per key only a length and a copy)."""
    if len(keys) < SMALL_BATCH:
        return np.array([murmur2(k) for k in keys], dtype=np.int32)
    if isinstance(keys, EncodedBatch):
        flat = np.frombuffer(keys.buffer, dtype=np.uint8)
        lens = np.diff(keys.offsets)
    else:
        flat = np.frombuffer(b"".join(keys), dtype=np.uint8)
        lens = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
    return _murmur2_ragged(flat, lens)


def partitions(keys: Sequence[bytes] | EncodedBatch, num_partitions: int) -> npt.NDArray[np.int32]:
    """The Java client's partition for each serialized key."""
    if num_partitions <= 0:
        raise ValueError(f"num_partitions must be positive, not {num_partitions}")
    h = murmur2_many(keys).view(np.uint32) & np.uint32(0x7FFFFFFF)
    return (h % np.uint32(num_partitions)).astype(np.int32)


def _murmur2_ragged(flat: P.U8, lens: P.I64) -> npt.NDArray[np.int32]:
    n = int(lens.shape[0])
    if n == 0:
        return np.zeros(0, dtype=np.int32)
    # Zero-padded rows of whole 4-byte words, plus one spare word: the tail word of every key is
    # then simply its word at index len // 4 (padding bytes are zero, as the tail switch implies).
    words_per_row = int(lens.max()) // 4 + 1
    rows = np.zeros((n, words_per_row * 4), dtype=np.uint8)
    if flat.shape[0]:
        src = np.cumsum(lens) - lens
        index = np.repeat(np.arange(n, dtype=np.int64) * rows.shape[1] - src, lens)
        index += np.arange(flat.shape[0])
        rows.reshape(-1)[index] = flat
    words = rows.view("<u4").astype(np.uint32)
    m = np.uint32(_M)
    h = np.uint32(_SEED) ^ lens.astype(np.uint32)
    blocks = lens // 4
    for j in range(int(blocks.max())):
        k = words[:, j] * m
        k ^= k >> np.uint32(24)
        k *= m
        mixed = (h * m) ^ k
        h = np.where(blocks > j, mixed, h)
    tail = words[np.arange(n), blocks]
    h = np.where((lens & 3) > 0, (h ^ tail) * m, h)
    h ^= h >> np.uint32(13)
    h *= m
    h ^= h >> np.uint32(15)
    return h.view(np.int32)
