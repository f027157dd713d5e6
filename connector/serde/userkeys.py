"""Keys and partitions of records keyed by the user id, computed once per user and kept.

A user's key bytes and its partition are a pure function of (user id, key serializer, partition
count), so they are computed the first time a user emits and looked up by id after that: a
numpy gather instead of rendering digits and hashing them for every record of every commit
(~20x faster per record at 1e6 users, bench/kafka.py). The tables grow with the highest id seen,
one pointer and one byte per id plus the key objects of users that emitted (~50 bytes per user);
ids at or beyond `LIMIT` are not kept (a population that large is encoded per record instead).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from connector.serde.keys import KeySerializer
from connector.serde.partitioner import partitions

LIMIT = 1 << 22  # ids kept: ~200 MB at most for key objects and tables


class UserKeys:
    """The encoded key and the Java client's partition of each user id, for one serializer."""

    def __init__(self, keys: KeySerializer) -> None:
        self.keys = keys
        self._bytes = np.empty(0, dtype=object)  # id -> key bytes (None: not yet)
        self._known = np.zeros(0, dtype=bool)  # id -> whether _bytes holds its key
        self._parts: dict[int, npt.NDArray[np.int16]] = {}  # count -> id -> partition (-1)

    def lookup(self, user_ids: npt.NDArray[np.int64], count: int
               ) -> tuple[list[bytes], npt.NDArray[np.int32]]:
        """(key bytes, partition) of each user id."""
        ids = np.asarray(user_ids, dtype=np.int64)
        if ids.size == 0:
            return [], np.zeros(0, dtype=np.int32)
        if int(ids.max()) >= LIMIT or int(ids.min()) < 0:
            encoded = self.keys.encode(ids)
            return list(encoded.values()), partitions(encoded, count)
        self._grow(int(ids.max()) + 1, count)
        table, known, parts = self._bytes, self._known, self._parts[count]
        missing = ~known[ids]  # a bool gather, not a comparison of objects with None
        if missing.any():
            new = np.unique(ids[missing])
            encoded = self.keys.encode(new)
            table[new] = list(encoded.values())
            known[new] = True
            parts[new] = partitions(encoded, count)  # hashed from the encoded buffer, not re-joined
        values = table[ids]
        part = parts[ids]
        unknown = part < 0
        if unknown.any():
            new = np.unique(ids[unknown])
            parts[new] = partitions(table[new].tolist(), count)
            part = parts[ids]
        return values.tolist(), part.astype(np.int32)

    def _grow(self, size: int, count: int) -> None:
        old = self._bytes.shape[0]
        if size > old:
            capacity = min(LIMIT, max(size, 2 * old, 1024))
            table = np.empty(capacity, dtype=object)
            table[:old] = self._bytes
            self._bytes = table
            self._known = np.concatenate([self._known, np.zeros(capacity - old, dtype=bool)])
            for c, parts in list(self._parts.items()):
                self._parts[c] = np.concatenate([parts, np.full(capacity - old, -1, np.int16)])
        if count not in self._parts:
            self._parts[count] = np.full(self._bytes.shape[0], -1, np.int16)
