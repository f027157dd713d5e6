"""The per-user key and partition table gives exactly what encoding each record would."""

from __future__ import annotations

import numpy as np
import pytest

from connector.serde import userkeys
from connector.serde.keys import KeyFormat, KeySerializer
from connector.serde.partitioner import partitions
from connector.serde.userkeys import UserKeys


def _direct(keys: KeySerializer, ids: np.ndarray, count: int) -> tuple[list[bytes], list[int]]:
    encoded = keys.encode(ids)
    return list(encoded.values()), partitions(encoded, count).tolist()


@pytest.mark.parametrize("key_format", [KeyFormat.STRING, KeyFormat.BYTES, KeyFormat.AVRO_LONG])
def test_lookups_equal_encoding_each_time(key_format: KeyFormat) -> None:
    """Repeated, growing and mixed lookups (two partition counts) match a fresh encoding."""
    keys = KeySerializer(key_format, schema_id=7 if key_format is KeyFormat.AVRO_LONG else None)
    table = UserKeys(keys)
    rng = np.random.default_rng(3)
    for high, count in ((500, 6), (5000, 6), (5000, 4), (100_000, 6), (300, 4)):
        ids = rng.integers(0, high, 2000).astype(np.int64)
        got_keys, got_parts = table.lookup(ids, count)
        assert (got_keys, got_parts.tolist()) == _direct(keys, ids, count)


def test_ids_beyond_the_limit_are_encoded_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids the table does not keep still get their exact keys and partitions."""
    monkeypatch.setattr(userkeys, "LIMIT", 1000)
    keys = KeySerializer()
    ids = np.array([5, 999, 1000, 123_456_789], dtype=np.int64)
    got_keys, got_parts = UserKeys(keys).lookup(ids, 6)
    assert (got_keys, got_parts.tolist()) == _direct(keys, ids, 6)


def test_empty_lookup() -> None:
    """No ids: no keys."""
    got_keys, got_parts = UserKeys(KeySerializer()).lookup(np.zeros(0, dtype=np.int64), 3)
    assert got_keys == [] and got_parts.shape == (0,)
