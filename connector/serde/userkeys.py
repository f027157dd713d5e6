"""Keys and partitions of records keyed by the user id, computed once per user and kept.

A user's key bytes and its partition are a pure function of (user id, key serializer, partition
count), so they are computed the first time a user emits and looked up by id after that: a
numpy gather instead of rendering digits and hashing them for every record of every commit
(~20x faster per record at 1e6 users, bench/kafka.py).

The keys are kept in one fixed-width byte table (numpy `S<width>`: a user's key padded with
NULs, which `tolist` strips again), rows padded to a multiple of 8 bytes (8 a user for the
default string keys, gathered as one uint64 each), rather than one bytes object per user (~60
bytes, scattered over the heap: gathering them was memory-latency bound, ~230 ns a record
among the engine's work against ~110 for the table, and so was produce() reading them). A key
ending in a NUL byte (an 8-byte `bytes` key of a multiple of 256, a varint of 0) would lose it,
so a serializer that writes one switches its table to objects. Ids at or beyond `LIMIT` are
not kept (a population that large is encoded per record instead).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from connector.serde.encoder import EncodedBatch
from connector.serde.keybatch import KeyBatch
from connector.serde.keys import KeySerializer
from connector.serde.partitioner import partitions
from connector.serde.pieces import ragged_block

LIMIT = 1 << 22  # ids kept: tens of MB for the tables (~200 MB with key objects)
UNKNOWN = -1  # the length of a key not computed yet
WORD = 8  # table rows are padded to a multiple of 8 bytes (one word for keys up to 8)


class UserKeys:
    """The encoded key and the Java client's partition of each user id, for one serializer."""

    def __init__(self, keys: KeySerializer) -> None:
        self.keys = keys
        # id -> key bytes: fixed width while no key ends with NUL, else objects (None: not yet)
        self._table: np.ndarray = np.zeros(0, dtype="S8")
        # id -> its key's length (keys are short), UNKNOWN until _table holds its key: one
        # gather tells both (a record costs a cache miss per table it reads)
        self._lengths = np.zeros(0, dtype=np.int16)
        self._parts: dict[int, npt.NDArray[np.int16]] = {}  # count -> id -> partition (-1)

    def lookup(self, user_ids: npt.NDArray[np.int64], count: int
               ) -> tuple[KeyBatch, npt.NDArray[np.int32]]:
        """(keys, partition) of each user id."""
        ids = np.asarray(user_ids, dtype=np.int64)
        if ids.size == 0:
            return KeyBatch.from_values([]), np.zeros(0, dtype=np.int32)
        highest = int(ids.max())
        if highest >= LIMIT or int(ids.min()) < 0:
            encoded = self.keys.encode(ids)
            return KeyBatch.from_encoded(encoded), partitions(encoded, count)
        self._grow(highest + 1, count)
        lengths = self._lengths[ids]
        missing = lengths == UNKNOWN
        if missing.any():
            # Not deduplicated: a repeated id is encoded and stored twice, the same bytes,
            # which costs less than np.unique's hashing (~17 % of a cold lookup).
            new = ids[missing]
            encoded = self.keys.encode(new)
            self._store(new, encoded)
            self._parts[count][new] = partitions(encoded, count)  # hashed from the buffer
            lengths[missing] = self._lengths[new]  # as stored (objects: only known)
        parts = self._parts[count]
        part = parts[ids]
        unknown = part < 0
        if unknown.any():
            new = np.unique(ids[unknown])
            parts[new] = partitions(self._table[new].tolist(), count)
            part = parts[ids]
        table = self._table
        if table.dtype.kind != "S":
            return KeyBatch.from_values(table[ids].tolist()), part.astype(np.int32)
        if table.dtype.itemsize == WORD:  # a native gather: ~5x faster than of S7 rows
            rows = table.view(np.uint64)[ids].view(table.dtype)
        else:
            rows = table[ids]
        return KeyBatch.from_rows(rows, lengths), part.astype(np.int32)

    def _store(self, ids: npt.NDArray[np.int64], encoded: EncodedBatch) -> None:
        """Keep the keys of `ids`, from their encoded batch (no bytes object per key while the
        table is fixed-width: the batch's buffer is padded into rows in one step)."""
        lens = encoded.lengths
        data = np.frombuffer(encoded.buffer, dtype=np.uint8)
        widest = int(lens.max())
        table = self._table
        if table.dtype.kind == "S":
            if not lens.all() or not data[encoded.offsets[1:] - 1].all() or \
                    widest > np.iinfo(np.int16).max:
                table = table.astype(object)  # tolist would strip a trailing NUL: objects
            elif widest > table.dtype.itemsize:
                table = table.astype(f"S{-(-widest // WORD) * WORD}")
            self._table = table
        if table.dtype.kind == "S":
            table[ids] = ragged_block(data, lens, widest).view(f"S{widest}").ravel()
        else:
            table[ids] = list(encoded.values())
        self._lengths[ids] = np.minimum(lens, np.iinfo(np.int16).max)  # objects: only known

    def _grow(self, size: int, count: int) -> None:
        old = self._table.shape[0]
        if size > old:
            capacity = min(LIMIT, max(size, 2 * old, 1024))
            table = np.zeros(capacity, dtype=self._table.dtype)
            table[:old] = self._table
            self._table = table
            self._lengths = np.concatenate([self._lengths,
                                            np.full(capacity - old, UNKNOWN, np.int16)])
            for c, parts in list(self._parts.items()):
                self._parts[c] = np.concatenate([parts, np.full(capacity - old, -1, np.int16)])
        if count not in self._parts:
            self._parts[count] = np.full(self._table.shape[0], -1, np.int16)
