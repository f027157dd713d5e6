"""Columnar JSON writer: n rows of columns in, n JSON objects out, in one buffer.

Each record is `{"name":value,...}` with the schema's fields in order, byte for byte what
`json.dumps(record, separators=(",", ":"))` writes (tests prove it): non-ASCII escaped as
`\\uXXXX`, floats as Python's shortest repr, bytes as base64 text, enums as their symbol,
timestamps as the schema's integer (as Connect's JsonConverter writes them).

Why not orjson per record: building one dict per record costs more than the whole columnar
encode. Instead each column is rendered at once (integers by numpy, floats by one `json.dumps`
of the column split at its commas, plain ASCII strings by one join) into the pieces the Avro
encoder assembles (`serde.pieces`), with the field names as constant pieces between them.
"""

from __future__ import annotations

import base64
import decimal
import json
from collections.abc import Mapping
from json.encoder import encode_basestring_ascii
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from connector.core.columns import Column, DecimalTextColumn, to_python
from connector.model.avro import AvroType, FieldSpec, LoadedSchema
from connector.model.avrotypes import Kind
from connector.serde import pieces as P
from connector.serde.encoder import SMALL_BATCH, EncodedBatch, column_of, field_errors, row_count
from connector.serde.pyvalues import python_values
from connector.serde.scalars import normalised, nulls
from connector.serde.wire import header

_COMMA = ord(",")


class JsonEncoder:
    """Encodes columns of one record schema as JSON objects.

    `framed`: with a `schema_id`, each record gets the Confluent wire header (JSON Schema).
    `envelope`: (prefix, suffix) around each object, e.g. JsonConverter's schema envelope.
    """

    def __init__(self, schema: LoadedSchema, schema_id: int | None = None, *,
                 framed: bool = False, envelope: tuple[bytes, bytes] | None = None) -> None:
        self.fields = schema.fields
        self.framed = framed
        self.schema_id = schema_id if framed else None
        self._envelope = envelope or (b"", b"")
        names = [encode_basestring_ascii(f.name) for f in self.fields]
        # The constant text before each field's value, and after the last one.
        self._keys = [("{" if i == 0 else ",") + f"{name}:" for i, name in enumerate(names)]
        self._close = b"}" if self.fields else b"{}"

    @property
    def _prefix(self) -> bytes:
        framing = b"" if self.schema_id is None else header(self.schema_id)
        return framing + self._envelope[0]

    def encode(self, columns: Mapping[str, Column], n: int | None = None) -> EncodedBatch:
        """Encode n rows: `columns` maps field name -> column of n values (extra names ignored)."""
        if n is None:
            n = row_count(columns, self.fields) if self.fields else 0
        if n < SMALL_BATCH:
            return EncodedBatch.from_values(self.lines(columns, n))
        parts: list[P.Piece] = []
        prefix = self._prefix
        for spec, key in zip(self.fields, self._keys, strict=True):
            col = column_of(columns, spec, n, text=True)
            parts.append(P.constant(prefix + key.encode(), n))
            prefix = b""
            with field_errors(spec, col):
                parts.extend(_field_pieces(spec, col, n))
        parts.append(P.constant(prefix + self._close + self._envelope[1], n))
        buffer, offsets = P.assemble(parts, n)
        return EncodedBatch(buffer.tobytes(), offsets)

    def lines(self, columns: Mapping[str, Column], n: int) -> list[bytes]:
        """Record by record (few rows): the same checked values through `json.dumps`."""
        names = [spec.name for spec in self.fields]
        lists: list[list[Any]] = []
        for spec in self.fields:
            col = column_of(columns, spec, n)
            with field_errors(spec, col):
                if not _flat(spec, col):
                    lists.append(to_python(col))  # nested: json_default writes bytes, decimals
                    continue
                values = python_values(spec.type, col, n, spec.name)
                if spec.avro_type == "bytes":
                    values = [None if v is None else _b64(v) for v in values]
                lists.append(values)
        prefix, suffix = self._prefix, self._envelope[1]
        if not self.fields:
            return [prefix + b"{}" + suffix] * n
        return [prefix + json_text(dict(zip(names, row, strict=True))).encode() + suffix
                for row in zip(*lists, strict=True)]


def _flat(spec: FieldSpec, col: Column) -> bool:
    """Whether the columnar JSON writer takes this field: a scalar held in an array (nested
    records, arrays, maps, unions, decimals and fixed are written value by value)."""
    return (spec.value_type is not None and spec.avro_type != "fixed"
            and spec.logical_type != "decimal" and isinstance(col, np.ndarray)
            and not (col.dtype == object and col.size and isinstance(col[0], dict | list)))


def _field_pieces(spec: FieldSpec, col: Column, n: int) -> list[P.Piece]:
    if isinstance(col, DecimalTextColumn):  # digits need no escaping: quotes around them
        quote = P.constant(b'"', n)
        return [quote, *P.decimal_pieces(col.numbers), quote]
    if not _flat(spec, col):
        texts = [json_text(v).encode() for v in to_python(col)]
        lens = np.fromiter(map(len, texts), dtype=np.int64, count=n)
        return [P.ragged_piece(b"".join(texts), lens)]
    assert isinstance(col, np.ndarray)
    null = nulls(col) if spec.nullable and col.dtype == object else None
    if null is None or not null.any():
        return _value_pieces(spec, col)
    rows = np.flatnonzero(~null)
    empty = np.flatnonzero(null)
    inner = _value_pieces(spec, col[rows])
    return [*(P.expand(p, rows, n) for p in inner),
            P.expand(P.constant(b"null", int(empty.shape[0])), empty, n)]


def _value_pieces(spec: FieldSpec, col: np.ndarray) -> list[P.Piece]:
    kind, values = spec.avro_type, normalised(spec, col)
    n = int(values.shape[0])
    if kind in ("long", "int"):
        return P.decimal_pieces(values)
    if kind in ("double", "float"):
        return [_float_piece(values)]
    if kind == "boolean":
        table = np.frombuffer(b"false" + b"true\0", dtype=np.uint8).reshape(2, 5)
        index = values.astype(np.intp)
        return [P.Piece(n, block=table[index], lens=np.where(values, 4, 5).astype(np.int64))]
    if kind == "enum":
        symbols = np.array(spec.symbols or (), dtype=object)
        return string_pieces(symbols[values])
    if kind == "bytes":
        return string_pieces(np.array([_b64(v) for v in values.tolist()], dtype=object))
    return string_pieces(values)


def string_pieces(values: npt.NDArray[np.object_]) -> list[P.Piece]:
    """JSON strings of an object column of `str`, with their quotes (ensure_ascii escaping)."""
    n = int(values.shape[0])
    items: list[str] = values.tolist()
    # NUL after each value: where they fall gives the lengths (cheaper than `len` per value).
    data = np.frombuffer(("\0".join(items) + "\0").encode("utf-8"), dtype=np.uint8)
    ends = np.flatnonzero(data == 0)
    if ends.shape[0] == n and _plain(data, n):  # the text is its own JSON body
        quote = P.constant(b'"', n)
        return [quote, P.separated_piece(data, ends), quote]
    escaped = [encode_basestring_ascii(s) for s in items]  # C, pure ASCII out
    lens = np.fromiter(map(len, escaped), dtype=np.int64, count=n)
    return [_narrow(np.frombuffer("".join(escaped).encode("ascii"), dtype=np.uint8), lens)]


def _plain(data: P.U8, n: int) -> bool:
    """Whether NUL-separated text (n NULs) is printable ASCII without quotes or backslashes:
    what json.dumps writes as it is. Comparisons over the whole buffer (no table lookup)."""
    return (int(data.max(initial=0)) < 0x80 and np.count_nonzero(data < 0x20) == n
            and not (data == ord('"')).any() and not (data == ord("\\")).any())


def _narrow(flat: P.U8, lens: P.I64) -> P.Piece:
    """Ragged bytes as the Avro path holds a string body: a padded block while narrow (blocks
    assemble in one masked compress), ragged past that."""
    return P.ragged_piece(flat.tobytes(), lens)


def _float_piece(values: npt.NDArray[np.float64]) -> P.Piece:
    """Floats as json.dumps writes them (Python's shortest repr): orjson writes the column at
    once (ryu, the same digits), cut at its commas (each value keeps its comma as padding); the
    few values Python writes with an exponent or as NaN/Infinity are redone one by one."""
    n = int(values.shape[0])
    if n == 0:
        return P.Piece(0, block=np.zeros((0, 1), dtype=np.uint8), lens=np.zeros(0, np.int64))
    text = orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY)
    data = np.frombuffer(text[1:-1] + b",", dtype=np.uint8)
    ends = np.flatnonzero(data == _COMMA)
    magnitude = np.abs(values)
    with np.errstate(invalid="ignore"):
        redo = ~np.isfinite(values) | (magnitude >= 1e16) | ((magnitude < 1e-4) & (magnitude > 0))
    exponents = np.flatnonzero(data == ord("e"))
    if redo.any() or exponents.shape[0]:
        redo[np.searchsorted(ends, exponents)] = True
        texts = text[1:-1].split(b",")
        for row in np.flatnonzero(redo).tolist():
            texts[row] = json.dumps(float(values[row])).encode("ascii")
        lens = np.fromiter(map(len, texts), dtype=np.int64, count=n)
        return _narrow(np.frombuffer(b"".join(texts), dtype=np.uint8), lens)
    return P.separated_piece(data, ends)


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def json_text(value: Any) -> str:
    """Compact JSON of a plain value as json.dumps writes it (ASCII, Python's float repr), bytes
    as base64 and decimals as exact strings."""
    return json.dumps(value, separators=(",", ":"), default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return _b64(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def connect_envelope(schema: LoadedSchema) -> tuple[bytes, bytes]:
    """JsonConverter's `schemas.enable=true` framing: `{"schema":<Connect schema>,"payload":`
    before each record and `}` after it."""
    fields = [{**_connect_type(f), "optional": f.nullable, "field": f.name}
              for f in schema.fields]
    connect = {"type": "struct", "fields": fields, "optional": False, "name": schema.fullname}
    text = json.dumps(connect, separators=(",", ":"))
    return f'{{"schema":{text},"payload":'.encode(), b"}"


# Connect's schema type of each Avro type (and the logical types Connect names).
_CONNECT_TYPES = {"int": "int32", "long": "int64", "float": "float", "double": "float64",
                  "boolean": "boolean", "string": "string", "bytes": "bytes", "enum": "string"}
_CONNECT_LOGICAL = {"timestamp-millis": "org.apache.kafka.connect.data.Timestamp",
                    "date": "org.apache.kafka.connect.data.Date",
                    "time-millis": "org.apache.kafka.connect.data.Time"}


def _connect_type(spec: FieldSpec) -> dict[str, Any]:
    return _connect(spec.base)


def _connect(t: AvroType) -> dict[str, Any]:
    """Connect's schema of a value of type `t` (nested records are structs; unions, decimals
    and fixed, written as JSON values or text, are strings)."""
    if t.kind is Kind.RECORD:
        return {"type": "struct", "name": t.name, "optional": False,
                "fields": [{**_connect(f.base), "optional": f.nullable, "field": f.name}
                           for f in t.fields]}
    if t.kind is Kind.ARRAY and t.items is not None:
        return {"type": "array", "items": _connect(t.items), "optional": False}
    if t.kind is Kind.MAP and t.items is not None:
        return {"type": "map", "keys": {"type": "string", "optional": False},
                "values": _connect(t.items), "optional": False}
    if t.kind in (Kind.UNION, Kind.FIXED) or t.logical == "decimal":
        return {"type": "string"}
    out: dict[str, Any] = {"type": _CONNECT_TYPES[t.kind.value]}
    logical = _CONNECT_LOGICAL.get(t.logical or "")
    if logical is not None:
        out.update(name=logical, version=1)
    return out
