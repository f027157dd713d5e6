"""Columnar Avro encoder: n rows of columns in, n Avro (optionally Confluent-framed) records out.

The output is byte-identical to `fastavro.schemaless_writer` record by record (tests prove it,
on generated nested schemas too), but computed per column with numpy (shapes.py: nested
records, arrays, maps, unions, every scalar) and assembled into one contiguous buffer with an
offsets array, so the per-record Python cost is one bytes slice handed to `Producer.produce`.
A field the columnar writer cannot take, and batches too small to pay its fixed cost, are
written by fastavro (pyvalues.py): slower, never refused.
"""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import struct
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs
import fastavro
import numpy as np
import numpy.typing as npt

from connector.core.columns import Column, DecimalTextColumn, as_array
from connector.model.avro import AvroType, FieldSpec, LoadedSchema, parsed_schema, record_type
from connector.model.avrotypes import Kind
from connector.serde import pieces as P
from connector.serde.pyvalues import fastavro_pieces, python_values
from connector.serde.scalars import nulls
from connector.serde.shapes import EncodeError, NotColumnar, default_column, type_pieces
from connector.serde.wire import header

__all__ = ["SMALL_BATCH", "EncodeError", "EncodedBatch", "RecordEncoder", "column_of",
           "encode_columns", "field_errors", "row_count"]

# Below this many rows the fixed cost of ~50 numpy calls exceeds fastavro's per-record cost.
SMALL_BATCH = 48
_STRUCT_MAX_LEN = 4096
_STRUCT_CHUNK = 1 << 16
_STRUCT_TOKEN_LENS = np.array([len(f"{i}s") for i in range(_STRUCT_MAX_LEN)], dtype=np.int64)


@functools.cache
def _struct_tokens() -> npt.NDArray[np.uint8]:
    """Row i holds the zero-padded struct token f"{i}s" (the format of one i-byte record)."""
    width = int(_STRUCT_TOKEN_LENS.max())
    table = np.zeros((_STRUCT_MAX_LEN, width), dtype=np.uint8)
    for i in range(_STRUCT_MAX_LEN):
        token = np.frombuffer(f"{i}s".encode("ascii"), dtype=np.uint8)
        table[i, : token.shape[0]] = token
    return table


@attrs.frozen
class EncodedBatch:
    """n encoded records in one buffer; record i is `buffer[offsets[i]:offsets[i + 1]]`."""

    buffer: bytes
    offsets: npt.NDArray[np.int64] = attrs.field(eq=False)  # n + 1 ascending positions
    _values: tuple[bytes, ...] | None = attrs.field(default=None, eq=False, repr=False)

    @classmethod
    def from_values(cls, values: Sequence[bytes]) -> EncodedBatch:
        """A batch of records that already exist one by one."""
        offsets = np.zeros(len(values) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, values), dtype=np.int64, count=len(values)), out=offsets[1:])
        return cls(b"".join(values), offsets, tuple(values))

    def __len__(self) -> int:
        return int(self.offsets.shape[0]) - 1

    def __getitem__(self, i: int) -> bytes:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        return self.buffer[int(self.offsets[i]) : int(self.offsets[i + 1])]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.values())

    def values(self) -> tuple[bytes, ...]:
        """Each record as its own `bytes` (what `Producer.produce(value=...)` takes)."""
        if self._values is not None:
            return self._values
        lens = np.diff(self.offsets)
        if lens.size and int(lens.max()) >= _STRUCT_MAX_LEN:
            offs = self.offsets.tolist()
            return tuple(self.buffer[a:b] for a, b in itertools.pairwise(offs))
        # A struct format "<5s20s7s..." splits the buffer in C: ~40 % cheaper than slicing.
        # Chunks bound the compiled format's memory for huge batches.
        tokens = _struct_tokens()
        out: tuple[bytes, ...] = ()
        for start in range(0, lens.shape[0], _STRUCT_CHUNK):
            part = lens[start : start + _STRUCT_CHUNK]
            mask = np.arange(tokens.shape[1]) < _STRUCT_TOKEN_LENS[part][:, None]
            fmt = np.compress(mask.reshape(-1), tokens[part].reshape(-1)).tobytes().decode()
            out += struct.Struct("<" + fmt).unpack_from(self.buffer, int(self.offsets[start]))
        return out

    @property
    def lengths(self) -> npt.NDArray[np.int64]:
        return np.diff(self.offsets)


class RecordEncoder:
    """Encodes columns of one record schema; with `schema_id`, each record gets the wire header."""

    def __init__(
        self, schema: LoadedSchema | Mapping[str, Any], schema_id: int | None = None
    ) -> None:
        if isinstance(schema, LoadedSchema):
            self.type: AvroType = schema.type
            self.fullname = schema.fullname
            self.parsed: dict[str, Any] = schema.parsed
        else:
            self.parsed = parsed_schema(schema)
            self.type = record_type(self.parsed)
            self.fullname = str(self.parsed.get("name", ""))
        self.fields: tuple[FieldSpec, ...] = self.type.fields
        self._named: dict[str, Any] = self.parsed.get("__named_schemas", {})
        self.schema_id = schema_id
        self._header = b"" if schema_id is None else header(schema_id)

    def encode(self, columns: Mapping[str, Column], n: int | None = None) -> EncodedBatch:
        """Encode n rows: `columns` maps field name -> column of n values (extra names ignored;
        a missing one takes the schema default). Columns as in connector.core.columns."""
        if n is None:
            n = row_count(columns, self.fields)
        if n < SMALL_BATCH:
            return self._encode_small(columns, n)
        parts: list[P.Piece] = [P.constant(self._header, n)] if self._header else []
        for spec in self.fields:
            col = column_of(columns, spec, n, text=True)
            with field_errors(spec, col):
                try:
                    parts.extend(type_pieces(spec.type, col, n, spec.name))
                except NotColumnar:
                    parts.extend(fastavro_pieces(spec.type, col, n, spec.name, self._named))
        buffer, offsets = P.assemble(parts, n)
        return EncodedBatch(buffer.tobytes(), offsets)

    def _encode_small(self, columns: Mapping[str, Column], n: int) -> EncodedBatch:
        """Few rows: the same checked values, written by fastavro record by record."""
        lists: list[list[Any]] = []
        for spec in self.fields:
            col = column_of(columns, spec, n)
            with field_errors(spec, col):
                lists.append(python_values(spec.type, col, n, spec.name))
        names = [spec.name for spec in self.fields]
        values = []
        for row in zip(*lists, strict=True):
            out = io.BytesIO(self._header)
            out.seek(0, io.SEEK_END)
            with field_errors(None, None):
                fastavro.schemaless_writer(out, self.parsed, dict(zip(names, row, strict=True)))
            values.append(out.getvalue())
        if not self.fields:  # a record without fields is empty bytes, n times
            values = [self._header] * n
        return EncodedBatch.from_values(values)


def encode_columns(
    schema: LoadedSchema | Mapping[str, Any],
    columns: Mapping[str, Column],
    n: int | None = None,
    schema_id: int | None = None,
) -> EncodedBatch:
    """One-shot form of `RecordEncoder(schema, schema_id).encode(columns, n)`."""
    return RecordEncoder(schema, schema_id).encode(columns, n)


def row_count(columns: Mapping[str, Column], fields: tuple[FieldSpec, ...]) -> int:
    for spec in fields:
        if spec.name in columns:
            return len(columns[spec.name])
    raise ValueError("cannot tell the row count: no column for any field; pass n")


def column_of(columns: Mapping[str, Column], spec: FieldSpec, n: int, *,
              text: bool = False) -> Column:
    """A field's column checked to hold n rows (its default if absent); a DecimalTextColumn
    stays one only in a plain string field of a writer that takes it (`text`), else it
    becomes strings (the writer's type checks then apply as to any strings)."""
    if spec.name not in columns:
        return default_column(spec, n, spec.name)
    col = columns[spec.name]
    if isinstance(col, DecimalTextColumn) and not (
            text and spec.type.kind is Kind.STRING and spec.logical_type is None):
        col = as_array(col)
    if not isinstance(col, np.ndarray):
        if len(col) != n:
            raise EncodeError(spec.name, f"column has {len(col)} rows, expected {n}")
        return col
    col = np.asarray(col)
    if col.ndim != 1 or col.shape[0] != n:
        raise EncodeError(spec.name, f"column has shape {col.shape}, expected ({n},)")
    return col


@contextlib.contextmanager
def field_errors(spec: FieldSpec | None, col: Column | None) -> Iterator[None]:
    """Turn whatever a bad column raises into an EncodeError naming the field."""
    try:
        yield
    except EncodeError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError, IndexError) as e:
        if spec is None:
            raise EncodeError("", f"fastavro refused a record: {e}") from e
        if (isinstance(col, np.ndarray) and col.dtype == object and spec.type.kind is not Kind.UNION
                and nulls(col).any()):
            raise EncodeError(spec.name, "null value in a field that is not nullable") from e
        raise EncodeError(spec.name, f"cannot encode as {_describe(spec)}: {e}") from e


def _describe(spec: FieldSpec) -> str:
    t = spec.avro_type if spec.logical_type is None else f"{spec.avro_type} ({spec.logical_type})"
    return f"nullable {t}" if spec.nullable else t
