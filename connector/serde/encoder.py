"""Columnar Avro encoder: n rows of columns in, n Avro (optionally Confluent-framed) records out.

The output is byte-identical to `fastavro.schemaless_writer` record by record (tests prove it),
but computed per column with numpy and assembled into one contiguous buffer with an offsets array,
so the per-record Python cost is one bytes slice handed to `Producer.produce`.
"""

from __future__ import annotations

import contextlib
import copy
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

from connector.core.batch import EventColumns
from connector.model.avro import FieldSpec, LoadedSchema, field_specs, parsed_schema
from connector.serde import pieces as P
from connector.serde.wire import header

# Below this many rows the fixed cost of ~50 numpy calls exceeds fastavro's per-record cost.
SMALL_BATCH = 48
_I32MIN, _I32MAX = -(2**31), 2**31 - 1
_NONE = np.array(None, dtype=object)
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


class EncodeError(ValueError):
    """A column that does not fit its schema field (the model validator should have caught it)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"field {field!r}: {message}")


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

    def memoryviews(self) -> list[memoryview]:
        """Each record as a zero-copy view of the buffer."""
        view = memoryview(self.buffer)
        offs = self.offsets.tolist()
        return [view[a:b] for a, b in itertools.pairwise(offs)]

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
            self.fields: tuple[FieldSpec, ...] = schema.fields
            self.fullname = schema.fullname
            self.parsed: dict[str, Any] = schema.parsed
        else:
            self.parsed = parsed_schema(schema)
            self.fields = tuple(field_specs(self.parsed))
            self.fullname = str(self.parsed.get("name", ""))
        self.schema_id = schema_id
        self._header = b"" if schema_id is None else header(schema_id)

    def with_schema_id(self, schema_id: int | None) -> RecordEncoder:
        """The same encoder framing records with `schema_id` (known only after registration)."""
        other = copy.copy(self)
        other.schema_id = schema_id
        other._header = b"" if schema_id is None else header(schema_id)
        return other

    def encode(self, columns: Mapping[str, Any], n: int | None = None) -> EncodedBatch:
        """Encode n rows: `columns` maps field name -> column of n values (extra names ignored)."""
        if n is None:
            n = _row_count(columns, self.fields)
        if n < SMALL_BATCH:
            return self._encode_small(columns, n)
        parts: list[P.Piece] = [P.constant(self._header, n)] if self._header else []
        for spec in self.fields:
            col = _column(columns, spec, n)
            with _field_errors(spec, col):
                parts.extend(_field_pieces(spec, col, n))
        buffer, offsets = P.assemble(parts, n)
        return EncodedBatch(buffer.tobytes(), offsets)

    def _encode_small(self, columns: Mapping[str, npt.ArrayLike], n: int) -> EncodedBatch:
        """Few rows: the same checked values, written by fastavro record by record."""
        lists: list[list[Any]] = []
        for spec in self.fields:
            col = _column(columns, spec, n)
            with _field_errors(spec, col):
                lists.append(_field_values(spec, col, n))
        names = [spec.name for spec in self.fields]
        values = []
        for row in zip(*lists, strict=True):
            out = io.BytesIO(self._header)
            out.seek(0, io.SEEK_END)
            fastavro.schemaless_writer(out, self.parsed, dict(zip(names, row, strict=True)))
            values.append(out.getvalue())
        if not self.fields:  # a record without fields is empty bytes, n times
            values = [self._header] * n
        return EncodedBatch.from_values(values)

    def encode_events(self, events: EventColumns) -> EncodedBatch:
        """Encode one emit's rows from the engine."""
        return self.encode(events.fields, len(events))


def encode_columns(
    schema: LoadedSchema | Mapping[str, Any],
    columns: Mapping[str, npt.ArrayLike],
    n: int | None = None,
    schema_id: int | None = None,
) -> EncodedBatch:
    """One-shot form of `RecordEncoder(schema, schema_id).encode(columns, n)`."""
    return RecordEncoder(schema, schema_id).encode(columns, n)


def _row_count(columns: Mapping[str, npt.ArrayLike], fields: tuple[FieldSpec, ...]) -> int:
    for spec in fields:
        if spec.name in columns:
            return len(np.asarray(columns[spec.name]))
    raise ValueError("cannot tell the row count: no column for any field; pass n")


def _column(columns: Mapping[str, npt.ArrayLike], spec: FieldSpec, n: int) -> np.ndarray:
    if spec.name not in columns:
        if not spec.has_default:
            raise EncodeError(spec.name, "no column and the schema gives no default")
        col = np.empty(n, dtype=object)
        col[:] = [spec.default] * n
        return col
    col = np.asarray(columns[spec.name])
    if col.ndim != 1 or col.shape[0] != n:
        raise EncodeError(spec.name, f"column has shape {col.shape}, expected ({n},)")
    return col


@contextlib.contextmanager
def _field_errors(spec: FieldSpec, col: np.ndarray) -> Iterator[None]:
    """Turn whatever a bad column raises into an EncodeError naming the field."""
    try:
        yield
    except EncodeError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError, IndexError) as e:
        if col.dtype == object and not spec.nullable and _nulls(col).any():
            raise EncodeError(spec.name, "null value in a field that is not nullable") from e
        raise EncodeError(spec.name, f"cannot encode as {_describe(spec)}: {e}") from e


def _field_values(spec: FieldSpec, col: np.ndarray, n: int) -> list[Any]:
    """Python values for fastavro, after the same checks and conversions as the columnar path."""
    null = _nulls(col) if spec.nullable and col.dtype == object else None
    if null is None or not null.any():
        return _python_values(spec, _normalised(spec, col))
    rows = np.flatnonzero(~null).tolist()
    out: list[Any] = [None] * n
    for row, value in zip(rows, _python_values(spec, _normalised(spec, col[rows])), strict=True):
        out[row] = value
    return out


def _python_values(spec: FieldSpec, values: np.ndarray) -> list[Any]:
    items: list[Any] = values.tolist()
    if spec.avro_type == "enum":
        symbols = spec.symbols or ()
        return [symbols[i] for i in items]
    if spec.avro_type == "string":
        if not all(type(v) is str for v in items):
            raise TypeError("expected str values")
        "".join(items).encode("utf-8")  # fail here, naming the field, on unencodable text
    return items


def _field_pieces(spec: FieldSpec, col: np.ndarray, n: int) -> list[P.Piece]:
    if not spec.nullable or spec.null_branch is None:
        return _value_pieces(spec, col)
    value_branch = bytes([2 * (1 - spec.null_branch)])  # zigzag of the branch index
    null = _nulls(col) if col.dtype == object else None
    if null is None or not null.any():
        return [P.constant(value_branch, n), *_value_pieces(spec, col)]
    branch = np.where(null, 2 * spec.null_branch, value_branch[0]).astype(np.uint8)
    rows = np.flatnonzero(~null)
    inner = _value_pieces(spec, col[rows])
    return [P.Piece(n, block=branch.reshape(n, 1)), *(P.expand(p, rows, n) for p in inner)]


def _value_pieces(spec: FieldSpec, col: np.ndarray) -> list[P.Piece]:
    kind, values = spec.avro_type, _normalised(spec, col)
    if kind in ("long", "int", "enum"):
        return [P.long_piece(values)]
    if kind == "double":
        return [P.fixed_piece(values, "<f8")]
    if kind == "float":
        return [P.fixed_piece(values, "<f4")]
    if kind == "boolean":
        return [P.fixed_piece(values, "u1")]
    if kind == "string":
        return P.string_pieces(values)
    items = values.tolist()  # bytes
    lens = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
    return P.bytes_pieces(b"".join(items), lens)


def _normalised(spec: FieldSpec, col: np.ndarray) -> np.ndarray:
    """The column in the one dtype each Avro type is written from, checked against the schema."""
    kind = spec.avro_type
    if kind in ("long", "int"):
        values = _as_int64(col)
        if kind == "int" and values.size and not _I32MIN <= values.min() <= values.max() <= _I32MAX:
            raise EncodeError(spec.name, "value outside the 32-bit range of an Avro int")
        return values
    if kind in ("double", "float"):
        return _as_float64(col)
    if kind == "boolean":
        return _as_bool(col)
    if kind == "string":
        return col
    if kind == "bytes":
        items = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in col.tolist()]
        out = np.empty(len(items), dtype=object)
        out[:] = items
        return out
    if kind == "enum":
        return _enum_index(spec, col)
    raise EncodeError(spec.name, f"unsupported Avro type {kind!r}")  # schemas.py rejects these


def _nulls(col: np.ndarray) -> npt.NDArray[np.bool_]:
    """Where an object column holds None (one C comparison per value)."""
    null: npt.NDArray[np.bool_] = np.equal(col, _NONE)
    return null


def _as_int64(col: np.ndarray) -> npt.NDArray[np.int64]:
    if col.dtype == object:
        col = np.array(col.tolist()) if col.size else np.zeros(0, dtype=np.int64)
    if col.dtype.kind in "ib":
        return col.astype(np.int64, copy=False)
    if col.dtype.kind == "u":
        if col.size and int(col.max()) > np.iinfo(np.int64).max:
            raise ValueError("value above the 64-bit range of an Avro long")
        return col.astype(np.int64)
    raise TypeError(f"expected integers, got a {col.dtype} column")


def _as_float64(col: np.ndarray) -> npt.NDArray[np.float64]:
    if col.dtype == object:
        col = np.array(col.tolist()) if col.size else np.zeros(0)
    if col.dtype.kind in "fiub":
        return col.astype(np.float64, copy=False)
    raise TypeError(f"expected numbers, got a {col.dtype} column")


def _as_bool(col: np.ndarray) -> npt.NDArray[np.bool_]:
    if col.dtype == object:
        col = np.array(col.tolist()) if col.size else np.zeros(0, dtype=bool)
    if col.dtype.kind == "b":
        return col
    raise TypeError(f"expected booleans, got a {col.dtype} column")


def _enum_index(spec: FieldSpec, col: np.ndarray) -> npt.NDArray[np.int64]:
    symbols = spec.symbols or ()
    if col.dtype.kind in "iu":  # already symbol positions
        index = col.astype(np.int64)
    else:
        position = {s: i for i, s in enumerate(symbols)}
        items = col.tolist()
        try:
            index = np.fromiter(map(position.__getitem__, items), dtype=np.int64, count=len(items))
        except KeyError as e:
            raise EncodeError(
                spec.name, f"{e.args[0]!r} is not a symbol of the enum {list(symbols)}"
            ) from None
    if index.size and (index.min() < 0 or index.max() >= len(symbols)):
        raise EncodeError(spec.name, f"enum position outside 0..{len(symbols) - 1}")
    return index


def _describe(spec: FieldSpec) -> str:
    t = spec.avro_type if spec.logical_type is None else f"{spec.avro_type} ({spec.logical_type})"
    return f"nullable {t}" if spec.nullable else t
