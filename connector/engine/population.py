"""One shard's users as growable numpy columns, with a safe binary snapshot (no pickle)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import numpy as np

SNAPSHOT_FORMAT = 1


class Population:
    """Columns of one shard: state, attributes, sessions; row i is user `shard + shards * i`."""

    def __init__(self, state_dtype: type, attributes: tuple[tuple[str, np.dtype[Any]], ...],
                 sessions: bool, capacity: int) -> None:
        self.size = 0
        self._capacity = max(capacity, 16)
        self.state: np.ndarray = np.zeros(self._capacity, dtype=state_dtype)
        self.attributes: dict[str, np.ndarray] = {
            name: np.zeros(self._capacity, dtype=dtype) for name, dtype in attributes}
        # Session numbers per user: the open one (0 = none) and how many were ever opened.
        self.session = np.zeros(self._capacity, dtype=np.int32) if sessions else None
        self.session_count = np.zeros(self._capacity, dtype=np.int32) if sessions else None

    def columns(self) -> dict[str, np.ndarray]:
        out = {"state": self.state, **{f"attr.{k}": v for k, v in self.attributes.items()}}
        if self.session is not None and self.session_count is not None:
            out["session"] = self.session
            out["session_count"] = self.session_count
        return out

    def grow(self, extra: int) -> slice:
        """Make room for `extra` users at the end and return their row slice."""
        needed = self.size + extra
        if needed > self._capacity:
            self._capacity = max(needed, int(self._capacity * 1.5))
            self.state = _resized(self.state, self._capacity)
            self.attributes = {k: _resized(v, self._capacity) for k, v in self.attributes.items()}
            if self.session is not None and self.session_count is not None:
                self.session = _resized(self.session, self._capacity)
                self.session_count = _resized(self.session_count, self._capacity)
        rows = slice(self.size, needed)
        self.size = needed
        return rows

    def to_bytes(self, meta: dict[str, object]) -> bytes:
        """Serialise the live rows with numpy's .npy format (strings as codes + a JSON table)."""
        buffer = io.BytesIO()
        arrays: dict[str, np.ndarray] = {}
        strings: dict[str, list[str]] = {}
        for name, column in self.columns().items():
            live = column[: self.size]
            if live.dtype == object:
                table, codes = np.unique(live.astype(str), return_inverse=True)
                strings[name] = [str(s) for s in table]
                arrays[name] = codes.astype(np.int32)
            else:
                arrays[name] = live
        header = {"format": SNAPSHOT_FORMAT, "size": self.size, "strings": strings, **meta}
        arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        np.savez(buffer, allow_pickle=False, **arrays)
        return buffer.getvalue()

    def load_bytes(self, data: bytes) -> dict[str, object]:
        """Restore the rows written by `to_bytes`; returns the snapshot's metadata. ValueError
        for a snapshot that is damaged or not one of ours."""
        try:
            return self._load(data)
        except (ValueError, KeyError, TypeError, IndexError, OSError, EOFError,
                zipfile.BadZipFile) as exc:
            # numpy's own messages suggest unsafe loading: never pass them on.
            raise ValueError(f"not a snapshot doge wrote, or a damaged one ({type(exc).__name__})"
                             ) from None

    def _load(self, data: bytes) -> dict[str, object]:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            header = json.loads(archive["__header__"].tobytes())
            if header.get("format") != SNAPSHOT_FORMAT:
                raise ValueError(f"unsupported snapshot format {header.get('format')}")
            self.size = 0
            self.grow(int(header["size"]))
            for name, column in self.columns().items():
                stored = archive[name]
                if name in header["strings"]:
                    stored = np.array(header["strings"][name], dtype=object)[stored]
                column[: self.size] = stored
        return dict(header)


def _resized(column: np.ndarray, capacity: int) -> np.ndarray:
    out = np.zeros(capacity, dtype=column.dtype)
    out[: column.shape[0]] = column
    return out
