"""The per-user key and partition table gives exactly what encoding each record would."""

from __future__ import annotations

import numpy as np
import pytest

from connector.serde import userkeys
from connector.serde.keybatch import KeyBatch
from connector.serde.keys import KeyFormat, KeySerializer
from connector.serde.partitioner import partitions
from connector.serde.userkeys import UserKeys


def _direct(keys: KeySerializer, ids: np.ndarray, count: int) -> tuple[list[bytes], list[int]]:
    encoded = keys.encode(ids)
    return list(encoded.values()), partitions(encoded, count).tolist()


def _keys(batch: KeyBatch) -> list[bytes | None]:
    """The keys of a batch, checking that its buffer view (what the C path reads) and its
    Python values agree."""
    raw = [None if n < 0 else batch.buffer[s : s + n]
           for s, n in zip(batch.starts.tolist(), batch.lengths.tolist(), strict=True)]
    assert batch.values() == raw
    return raw


@pytest.mark.parametrize("key_format", [KeyFormat.STRING, KeyFormat.BYTES, KeyFormat.AVRO_LONG,
                                        KeyFormat.AVRO_STRING])
def test_lookups_equal_encoding_each_time(key_format: KeyFormat) -> None:
    """Repeated, growing and mixed lookups (two partition counts) match a fresh encoding."""
    framed = key_format in (KeyFormat.AVRO_LONG, KeyFormat.AVRO_STRING)
    keys = KeySerializer(key_format, schema_id=7 if framed else None)
    table = UserKeys(keys)
    rng = np.random.default_rng(3)
    for high, count in ((500, 6), (5000, 6), (5000, 4), (100_000, 6), (300, 4)):
        ids = rng.integers(0, high, 2000).astype(np.int64)
        got_keys, got_parts = table.lookup(ids, count)
        assert (_keys(got_keys), got_parts.tolist()) == _direct(keys, ids, count)


def test_ids_beyond_the_limit_are_encoded_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids the table does not keep still get their exact keys and partitions."""
    monkeypatch.setattr(userkeys, "LIMIT", 1000)
    keys = KeySerializer()
    ids = np.array([5, 999, 1000, 123_456_789], dtype=np.int64)
    got_keys, got_parts = UserKeys(keys).lookup(ids, 6)
    assert (_keys(got_keys), got_parts.tolist()) == _direct(keys, ids, 6)


def test_empty_lookup() -> None:
    """No ids: no keys."""
    got_keys, got_parts = UserKeys(KeySerializer()).lookup(np.zeros(0, dtype=np.int64), 3)
    assert _keys(got_keys) == [] and got_parts.shape == (0,)


def test_keys_ending_in_nul_keep_their_bytes() -> None:
    """8-byte keys of ids that are multiples of 256 end in a NUL byte; looked up after keys
    that do not (the table then holds objects), each is still exactly the encoded key."""
    keys = KeySerializer(KeyFormat.BYTES)
    table = UserKeys(keys)
    for ids in (np.array([1, 2, 3]), np.array([256, 3, 512, 7]), np.array([1, 256, 1023])):
        got_keys, got_parts = table.lookup(ids.astype(np.int64), 6)
        assert (_keys(got_keys), got_parts.tolist()) == _direct(keys, ids.astype(np.int64), 6)
        assert all(len(k or b"") == 8 for k in got_keys.values())


def test_string_keys_widen_as_ids_grow_and_stay_compact() -> None:
    """Digit keys of growing ids (1, then 6 digits) come back whole, from a byte table one
    8-byte word per id (gathered as integers) rather than one object per user."""
    keys = KeySerializer()
    table = UserKeys(keys)
    for ids in (np.arange(10), np.array([5, 999_999, 12]), np.arange(0, 1_000_000, 997)):
        got_keys, got_parts = table.lookup(ids.astype(np.int64), 6)
        assert (_keys(got_keys), got_parts.tolist()) == _direct(keys, ids.astype(np.int64), 6)
    assert table._table.dtype == np.dtype("S8")


def test_keys_longer_than_a_word_come_back_whole() -> None:
    """Framed string keys (5-byte header, length, digits: 7 to 12 bytes) widen the table past
    one word as the ids grow, and every key, old and new, comes back whole."""
    keys = KeySerializer(KeyFormat.AVRO_STRING, schema_id=7)
    table = UserKeys(keys)
    for ids in (np.arange(10), np.arange(0, 1_000_000, 997), np.array([3, 999_999, 0])):
        got_keys, got_parts = table.lookup(ids.astype(np.int64), 6)
        assert (_keys(got_keys), got_parts.tolist()) == _direct(keys, ids.astype(np.int64), 6)
    assert table._table.dtype == np.dtype("S16")
