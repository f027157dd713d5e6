"""A key batch's buffer view (what the C produce path reads) and its Python keys agree."""

from __future__ import annotations

import numpy as np

from connector.serde.encoder import EncodedBatch
from connector.serde.keybatch import NULL_KEY, KeyBatch


def _view(batch: KeyBatch) -> list[bytes | None]:
    return [None if n == NULL_KEY else batch.buffer[s : s + n]
            for s, n in zip(batch.starts.tolist(), batch.lengths.tolist(), strict=True)]


def test_null_empty_and_ordinary_keys_keep_apart() -> None:
    """None stays a null key and b"" an empty one, in the view and in the values."""
    keys: list[bytes | None] = [b"a", None, b"", b"\x00bc\x00", None]
    batch = KeyBatch.from_values(keys)
    assert batch.values() == _view(batch) == keys
    assert batch.lengths.tolist() == [1, NULL_KEY, 0, 4, NULL_KEY]


def test_rows_of_a_fixed_width_table_are_read_without_their_padding() -> None:
    """Rows of an S-table (NUL-padded) give back each key whole, through both paths."""
    keys = [b"7", b"123456", b"42"]
    rows = np.array(keys, dtype="S6")
    batch = KeyBatch.from_rows(rows, np.array([len(k) for k in keys], dtype=np.int16))
    assert batch.values() == _view(batch) == keys


def test_scattered_keys_are_null_between_their_rows() -> None:
    """Keys of some rows of a batch: the other rows have null keys."""
    encoded = EncodedBatch.from_values([b"x", b"yy"])
    batch = KeyBatch.from_encoded(encoded).scattered(np.array([1, 3]), 5)
    assert batch.values() == _view(batch) == [None, b"x", None, b"yy", None]
