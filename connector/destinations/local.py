"""The embedded default destination: one file per topic in a local directory.

Commit protocol: staged records are appended to the topic files, the files are fsync'ed, then an
offsets file recording each file's committed length (and every shard's checkpoint) atomically
replaces the previous one (write to a temporary file, fsync, rename, fsync the directory).
On resume every file is cut back to its committed length, so an interrupted run that is started
again produces byte-for-byte the output of an uninterrupted one. Parquet topics are directories
of part files instead, one per commit (`destinations.parquet`), counted in the offsets.

Avro container blocks (one per tick) may be compressed with the Avro codecs deflate, snappy
(cramjam, as fastavro) or zstandard (cramjam); fixed levels keep the bytes a pure function of
the run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import zlib
from pathlib import Path
from typing import IO, Any

import cramjam

from connector.core.batch import EventColumns, TickBatch
from connector.core.staged import merge
from connector.destinations.base import Committed, ShardCheckpoint
from connector.destinations.parquet import ParquetParts, remove_parts
from connector.errors import UserError
from connector.model.avro import LoadedSchema
from connector.serde.encoder import EncodedBatch, RecordEncoder
from connector.serde.jsonenc import JsonEncoder
from connector.serde.pieces import long_bytes

OFFSETS_FILE = "_offsets.json"
SNAPSHOT_DIR = "_snapshots"
FORMATS = ("avro", "jsonl", "parquet")
CODECS = ("null", "deflate", "snappy", "zstd")
# --codec -> the Avro container's avro.codec name.
AVRO_CODECS = {"null": "null", "deflate": "deflate", "snappy": "snappy", "zstd": "zstandard"}
ZSTD_LEVEL = 3  # zstd's default: ~6x smaller banking files at a small cost (bench/encode.py)
START_OVER = "to start over, move {dir} away (or delete it) and run again"
_SNAPSHOT_NAME = re.compile(rf"{SNAPSHOT_DIR}/shard-[0-9]+-tick-[0-9]+\.snap")


class _Damaged(Exception):
    """The output directory lost a file its offsets name."""


def _count(value: object, signed: bool = False) -> int:
    """A whole number from the offsets file (never a bool, a float or negative by mistake)."""
    if isinstance(value, bool) or not isinstance(value, int) or (value < 0 and not signed):
        raise ValueError(f"expected a whole number, got {value!r}")
    return value


def _starts_with(path: Path, prefix: bytes) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(prefix)) == prefix


class LocalDirectory:
    """Avro object container files (`<topic>.avro`), JSON lines (`<topic>.jsonl`) or Parquet
    datasets (`<topic>.parquet/`) per topic."""

    def __init__(self, directory: str | Path, schemas: dict[str, LoadedSchema],
                 fmt: str = "avro", codec: str = "null") -> None:
        if fmt not in FORMATS:
            raise UserError(f"unknown output format {fmt!r}; expected one of {', '.join(FORMATS)}")
        if codec not in CODECS or (fmt == "jsonl" and codec != "null"):
            raise UserError(f"codec {codec!r} does not apply to {fmt}; expected one of "
                            f"{', '.join(CODECS if fmt != 'jsonl' else ('null',))}")
        self.dir = Path(directory)
        self.schemas = schemas
        self.fmt = fmt
        self.codec = codec
        self._encoders = {t: RecordEncoder(s) for t, s in schemas.items()}
        self._json = {t: JsonEncoder(s) for t, s in schemas.items()}
        self._parquet = {t: ParquetParts(self._path(t), s, codec) for t, s in schemas.items()}
        self._files: dict[str, IO[bytes]] = {}
        self._lengths: dict[str, int] = {}
        # Per topic: the staged emits and the tick each belongs to (one Avro block per tick).
        self._staged: dict[str, list[tuple[int, EventColumns]]] = {}
        self._fingerprint = ""
        self._start_ms = 0
        self._snapshots: dict[int, tuple[str, int]] = {}  # shard -> (file, tick) last committed

    def reset(self) -> None:
        """Delete what a run left in the directory (offsets, snapshots, this model's topic files
        in either format), so the next run starts over. Other files are left alone."""
        (self.dir / OFFSETS_FILE).unlink(missing_ok=True)
        snapshots = self.dir / SNAPSHOT_DIR
        if snapshots.is_dir():
            for snap in snapshots.glob("*.snap*"):
                snap.unlink()
            with contextlib.suppress(OSError):
                snapshots.rmdir()
        for topic in self.schemas:
            for fmt in FORMATS:
                path = self.dir / f"{topic}.{fmt}"
                if path.is_dir():
                    remove_parts(path)
                else:
                    path.unlink(missing_ok=True)

    # -- resume ---------------------------------------------------------------------------
    def committed(self) -> Committed | None:
        path = self.dir / OFFSETS_FILE
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            if data.get("format") != self.fmt:
                raise UserError(f"{self.dir} holds {data.get('format')} output; run with "
                                f"--format {data.get('format')} or choose another directory")
            if data.get("codec", "null") != self.codec:
                raise UserError(f"{self.dir} holds output compressed with {data.get('codec')}; "
                                f"run with --codec {data.get('codec')} or choose another "
                                "directory")
            shards = {int(key): self._checkpoint(int(key), value)
                      for key, value in dict(data["shards"]).items()}
            self._lengths = {str(k): _count(v) for k, v in dict(data["files"]).items()}
            return Committed(str(data["fingerprint"]), _count(data["start_ms"], signed=True),
                             shards)
        except _Damaged as exc:
            raise UserError(f"{exc}; {START_OVER.format(dir=self.dir)}") from None
        except (KeyError, ValueError, TypeError, AttributeError, OSError, RecursionError) as exc:
            raise UserError(f"{path}: the offsets file is damaged ({type(exc).__name__}: {exc}); "
                            f"{START_OVER.format(dir=self.dir)}") from None

    def _checkpoint(self, shard: int, value: dict[str, Any]) -> ShardCheckpoint:
        """One shard's entry of the offsets file, with its snapshot read."""
        snapshot, snapshot_tick = None, None
        name = value.get("snapshot")
        if name:
            if not _SNAPSHOT_NAME.fullmatch(str(name)):
                raise ValueError(f"shard {shard} names snapshot {name!r}, not one doge writes")
            try:
                snapshot = (self.dir / name).read_bytes()
            except FileNotFoundError:
                raise _Damaged(f"{self.dir / name}: the snapshot of shard {shard} named by "
                               f"{OFFSETS_FILE} is missing") from None
            snapshot_tick = _count(value["snapshot_tick"])
            self._snapshots[shard] = (name, snapshot_tick)
        return ShardCheckpoint(_count(value["next_tick"]), snapshot, snapshot_tick)

    def begin(self, fingerprint: str, start_ms: int) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / SNAPSHOT_DIR).mkdir(exist_ok=True)
        self._fingerprint, self._start_ms = fingerprint, start_ms
        for topic in self.schemas:
            path = self._path(topic)
            committed = self._lengths.get(topic, 0)
            if committed and not path.exists():
                raise UserError(f"{path} is missing, but {OFFSETS_FILE} says it holds "
                                f"{committed} committed bytes; {START_OVER.format(dir=self.dir)}")
            self._staged[topic] = []
            if self.fmt == "parquet":
                self._parquet[topic].resume(committed)
                self._lengths[topic] = committed
                continue
            if path.exists() and path.stat().st_size < committed:
                raise UserError(f"{path} is shorter than its committed length {committed}: "
                                "the output was cut or modified outside doge; "
                                f"{START_OVER.format(dir=self.dir)}")
            if committed and self.fmt == "avro" and not _starts_with(path,
                                                                     self._ocf_header(topic)):
                raise UserError(f"{path} does not start with the Avro header this run writes: "
                                "it was replaced or modified outside doge; "
                                f"{START_OVER.format(dir=self.dir)}")
            handle = open(path, "ab" if path.exists() else "wb")  # noqa: SIM115
            handle.truncate(committed)  # drop what a crash left uncommitted
            handle.seek(committed)
            self._files[topic] = handle
            if committed == 0 and self.fmt == "avro":
                handle.write(self._ocf_header(topic))
            self._lengths[topic] = handle.tell() if committed == 0 else committed
            self._staged[topic] = []

    # -- writing --------------------------------------------------------------------------
    def write(self, batch: TickBatch) -> None:
        for events in batch.events:
            if len(events):
                self._staged[events.topic].append((batch.tick, events))

    def _encode(self, topic: str, staged: list[tuple[int, EventColumns]]) -> bytes:
        """The staged emits of a topic as file bytes; independent of how ticks group in commits."""
        rows = merge(staged)
        if self.fmt == "jsonl":
            return _lines(self._json[topic].encode(rows.fields))
        # One encode call for the whole commit, then one container block per tick.
        encoded = self._encoders[topic].encode(rows.fields)
        sync = self._sync(topic)
        blocks = []
        row = 0
        for count in rows.runs.tick_sizes().tolist():
            first, last = int(encoded.offsets[row]), int(encoded.offsets[row + count])
            blocks.append(_ocf_block(count, _compress(self.codec, encoded.buffer[first:last]),
                                     sync))
            row += count
        return b"".join(blocks)

    def send_ahead(self) -> None:
        """The commit appends to local files: nothing to send ahead."""

    def commit(self, checkpoints: dict[int, ShardCheckpoint]) -> None:
        for topic, staged in self._staged.items():
            if staged and self.fmt == "parquet":
                self._lengths[topic] = self._parquet[topic].append(merge(staged))
                staged.clear()
            elif staged:
                handle = self._files[topic]
                handle.write(self._encode(topic, staged))
                handle.flush()
                os.fsync(handle.fileno())
                self._lengths[topic] = handle.tell()
                staged.clear()
        shards: dict[str, Any] = {}
        replaced = []
        for shard, cp in sorted(checkpoints.items()):
            entry: dict[str, Any] = {"next_tick": cp.next_tick}
            if cp.snapshot is not None and cp.snapshot_tick is not None:
                # A new name per tick: a crash before the offsets rename keeps the old one valid.
                name = f"{SNAPSHOT_DIR}/shard-{shard}-tick-{cp.snapshot_tick}.snap"
                _atomic_write(self.dir / name, cp.snapshot)
                if shard in self._snapshots and self._snapshots[shard][0] != name:
                    replaced.append(self._snapshots[shard][0])
                self._snapshots[shard] = (name, cp.snapshot_tick)
            if shard in self._snapshots:
                entry.update(snapshot=self._snapshots[shard][0],
                             snapshot_tick=self._snapshots[shard][1])
            shards[str(shard)] = entry
        offsets = {"fingerprint": self._fingerprint, "start_ms": self._start_ms,
                   "format": self.fmt, "codec": self.codec, "files": self._lengths,
                   "shards": shards}
        _atomic_write(self.dir / OFFSETS_FILE, json.dumps(offsets, indent=1).encode())
        for name in replaced:
            (self.dir / name).unlink(missing_ok=True)

    def flush(self) -> None:
        """Nothing to wait for: `commit` is durable when it returns."""

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()

    # -- Avro container details --------------------------------------------------------------
    def _path(self, topic: str) -> Path:
        return self.dir / f"{topic}.{self.fmt}"

    def _sync(self, topic: str) -> bytes:
        # Deterministic sync marker: identical runs give identical files.
        return hashlib.sha256(f"{self._fingerprint}/{topic}".encode()).digest()[:16]

    def _ocf_header(self, topic: str) -> bytes:
        meta = {"avro.schema": self.schemas[topic].schema_str.encode(),
                "avro.codec": AVRO_CODECS[self.codec].encode()}
        out = bytearray(b"Obj\x01")
        out += long_bytes(len(meta))
        for key, value in meta.items():
            out += long_bytes(len(key)) + key.encode() + long_bytes(len(value)) + value
        out += long_bytes(0) + self._sync(topic)
        return bytes(out)


def _ocf_block(count: int, data: bytes, sync: bytes) -> bytes:
    return long_bytes(count) + long_bytes(len(data)) + data + sync


def _compress(codec: str, data: bytes) -> bytes:
    """One container block's data in the Avro codec (deterministic: fixed levels)."""
    if codec == "deflate":  # raw deflate, no zlib header, as the Avro specification says
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        return packer.compress(data) + packer.flush()
    if codec == "snappy":  # snappy block + big-endian CRC-32 of the uncompressed data
        return bytes(cramjam.snappy.compress_raw(data)) + zlib.crc32(data).to_bytes(4, "big")
    if codec == "zstd":
        return bytes(cramjam.zstd.compress(data, level=ZSTD_LEVEL))
    return data


def _lines(encoded: EncodedBatch) -> bytes:
    """Encoded JSON records as JSON lines (each followed by a newline)."""
    if not len(encoded):
        return b""
    return b"\n".join(encoded.values()) + b"\n"


def jsonl_lines(events: EventColumns, schema: LoadedSchema) -> bytes:
    """One JSON object per record, fields in schema order (nested values as JSON objects and
    arrays)."""
    return _lines(JsonEncoder(schema).encode(events.fields, len(events)))


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
