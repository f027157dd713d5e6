"""Parquet output of one topic: a dataset directory (`<topic>.parquet/`) of part files.

Each commit adds one part file holding one row group: written under a temporary name, fsync'ed
and renamed, so a reader (pyarrow, DuckDB, Spark) never meets a torn file. The offsets file
records how many parts are committed; on resume parts past that count (written before a crash
the offsets never recorded) are deleted, so an interrupted run ends with the rows of an
uninterrupted one.

Why parts rather than one growing file: a Parquet file's footer indexes every row group, so
appending one means rewriting the footer in place, and a crash in between leaves a file no
reader opens; a part is complete or absent.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import pyarrow.parquet as pq

from connector.core.staged import TopicRows
from connector.errors import UserError
from connector.model.avro import LoadedSchema
from connector.serde.arrow import to_table

# --codec names -> Parquet compression codecs.
COMPRESSION = {"null": "NONE", "deflate": "GZIP", "snappy": "SNAPPY", "zstd": "ZSTD"}
_PART = re.compile(r"part-(\d{8})\.parquet(\.tmp)?\Z")


def remove_parts(path: Path) -> None:
    """Delete a topic's part files (and the directory, once empty); other files stay."""
    for name in os.listdir(path):
        if _PART.match(name):
            (path / name).unlink()
    with contextlib.suppress(OSError):
        path.rmdir()


def part_name(index: int) -> str:
    return f"part-{index:08d}.parquet"


class ParquetParts:
    """The committed part files of one topic, and the next one."""

    def __init__(self, path: Path, schema: LoadedSchema, codec: str) -> None:
        self.path = path
        self.schema = schema
        self.compression = COMPRESSION[codec]
        self.parts = 0

    def resume(self, committed: int) -> None:
        """Keep the first `committed` parts, delete what a crash left after them."""
        self.path.mkdir(parents=True, exist_ok=True)
        present = {int(m[1]) for m in map(_PART.match, os.listdir(self.path))
                   if m is not None and m[2] is None}
        missing = [i for i in range(committed) if i not in present]
        if missing:
            raise UserError(f"{self.path / part_name(missing[0])} is missing, but the offsets "
                            f"say {committed} parts are committed: the output was modified "
                            "outside doge")
        for name in os.listdir(self.path):
            match = _PART.match(name)
            if match is not None and (match[2] is not None or int(match[1]) >= committed):
                (self.path / name).unlink()
        self.parts = committed

    def append(self, rows: TopicRows) -> int:
        """Write the staged rows as the next part (one row group); the new part count."""
        n = len(rows)
        table = to_table(self.schema, rows.fields, n)
        final = self.path / part_name(self.parts)
        tmp = final.with_name(final.name + ".tmp")
        pq.write_table(table, tmp, compression=self.compression, row_group_size=max(n, 1),
                       write_statistics=True)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, final)
        directory = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename is durable before the offsets name the part
        finally:
            os.close(directory)
        self.parts += 1
        return self.parts
