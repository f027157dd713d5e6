"""Record keys of a batch as one buffer with a start and a length per key (-1: a null key).

Starts and lengths rather than offsets, so that rows gathered from the fixed-width key table
(serde/userkeys.py) are used where they lie, NUL padding skipped, without compacting them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from connector.serde.encoder import EncodedBatch

NULL_KEY = -1  # the length that marks a null key


@attrs.frozen
class KeyBatch:
    """n keys: key i is `buffer[starts[i]:starts[i] + lengths[i]]`, or None where the length
    is NULL_KEY."""

    buffer: bytes
    starts: npt.NDArray[np.int64] = attrs.field(eq=False)
    lengths: npt.NDArray[np.int64] = attrs.field(eq=False)
    _rows: npt.NDArray[np.bytes_] | None = attrs.field(default=None, eq=False, repr=False)

    @classmethod
    def from_rows(cls, rows: npt.NDArray[np.bytes_], lengths: npt.NDArray[np.integer[Any]]
                  ) -> KeyBatch:
        """Keys as rows of a fixed-width byte array (no key ends with NUL), with their
        lengths."""
        width = rows.dtype.itemsize
        rows = np.ascontiguousarray(rows)
        starts = np.arange(rows.shape[0], dtype=np.int64) * width
        return cls(rows.tobytes(), starts, lengths.astype(np.int64, copy=False), rows)

    @classmethod
    def from_encoded(cls, encoded: EncodedBatch) -> KeyBatch:
        """The keys of an encoded batch, none null."""
        return cls(encoded.buffer, encoded.offsets[:-1], encoded.lengths)

    @classmethod
    def from_values(cls, values: Sequence[bytes | None]) -> KeyBatch:
        """Keys that exist one by one (None: a null key)."""
        lengths = np.fromiter((NULL_KEY if v is None else len(v) for v in values),
                              dtype=np.int64, count=len(values))
        starts = np.zeros(len(values), dtype=np.int64)
        np.cumsum(np.maximum(lengths[:-1], 0), out=starts[1:])
        return cls(b"".join(v for v in values if v is not None), starts, lengths)

    def scattered(self, rows: npt.NDArray[np.int64], n: int) -> KeyBatch:
        """These keys at positions `rows` of n, null everywhere else."""
        starts = np.zeros(n, dtype=np.int64)
        lengths = np.full(n, NULL_KEY, dtype=np.int64)
        starts[rows] = self.starts
        lengths[rows] = self.lengths
        return KeyBatch(self.buffer, starts, lengths)

    def __len__(self) -> int:
        return int(self.lengths.shape[0])

    def values(self) -> list[bytes | None]:
        """Each key as its own `bytes` (None for a null key), as `Producer.produce` takes them."""
        if self._rows is not None:
            keys: list[bytes | None] = self._rows.tolist()  # tolist strips the NUL padding
            return keys
        buffer = self.buffer
        return [None if length < 0 else buffer[start : start + length]
                for start, length in zip(self.starts.tolist(), self.lengths.tolist(),
                                         strict=True)]
