"""Protobuf values: the `.proto` derived from a topic's Avro schema, and a columnar encoder.

The message is the Avro record (its name; the namespace becomes the package), field k of the
schema is field number k + 1, proto3. Types: long -> int64, int -> int32, double, float, boolean
-> bool, string, bytes, enum -> an enum nested in the message (symbol i = value i); timestamps,
dates and times are int64/int32 in the Avro schema's unit (as the records carry them). A nullable
field is `optional` (explicit presence: null = absent).

The encoder writes what protobuf's own `SerializeToString` writes for the same message (tests
prove it): fields in number order, a field without presence left out when it holds its default
(0, false, "", first enum symbol). Varints are computed per column with numpy (`serde.pieces`),
like the Avro path. Records are framed as Confluent's serializer frames them: magic byte, schema
id, then the message-index list of the first message (one 0 byte).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from connector.core.columns import Column
from connector.errors import Problem, UserError
from connector.model.avro import FieldSpec, LoadedSchema
from connector.serde import pieces as P
from connector.serde.encoder import EncodedBatch, column_of, field_errors, row_count
from connector.serde.protofile import PROTO_TYPES, ProtoLayout, derived_layout
from connector.serde.scalars import normalised, nulls
from connector.serde.wire import header

# Wire types.
VARINT, I64, LEN, I32 = 0, 1, 2, 5
_WIRE_TYPES = {"long": VARINT, "int": VARINT, "boolean": VARINT, "enum": VARINT,
               "double": I64, "float": I32, "string": LEN, "bytes": LEN}
FIRST_MESSAGE = b"\x00"  # Confluent's message-index list [0], written as its short form
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def proto_text(schema: LoadedSchema) -> str:
    """The `.proto` file of a record schema (what `protobuf` registers)."""
    name = schema.fullname.rsplit(".", 1)[-1]
    package = schema.fullname.rpartition(".")[0]
    lines = ['syntax = "proto3";', ""]
    if package:
        lines += [f"package {package};", ""]
    lines.append(f"message {name} {{")
    enums = _enums(schema)
    for enum_name, symbols in dict(enums.values()).items():
        lines.append(f"  enum {enum_name} {{")
        lines += [f"    {s} = {i};" for i, s in enumerate(symbols)]
        lines.append("  }")
    for number, spec in enumerate(schema.fields, start=1):
        label = "optional " if spec.nullable else ""
        kind = enums[spec.name][0] if spec.name in enums else PROTO_TYPES[spec.avro_type]
        lines.append(f"  {label}{kind} {spec.name} = {number};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _enums(schema: LoadedSchema) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Field name -> (nested enum name, symbols), checked: protobuf puts the values of all of a
    message's enums in one scope. An Avro enum used by several fields is one protobuf enum."""
    defined: dict[str, str] = {}  # Avro enum full name -> its short name
    enum_of: dict[str, str] = {}  # field name -> Avro enum short name
    for field in schema.parsed["fields"]:
        t = field["type"]
        for branch in t if isinstance(t, list) else [t]:
            ref = branch
            if isinstance(branch, dict) and branch.get("type") == "enum":
                ref = str(branch["name"])
                defined[ref] = ref.rsplit(".", 1)[-1]
            if isinstance(ref, str) and ref in defined:
                enum_of[str(field["name"])] = defined[ref]
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    owner: dict[str, str] = {}
    for spec in schema.fields:
        if spec.avro_type != "enum":
            continue
        enum_name = enum_of[spec.name]
        symbols = spec.symbols or ()
        out[spec.name] = (enum_name, symbols)
        for s in symbols:
            if not _IDENT.match(s):
                raise _problem(schema, spec, f"enum symbol {s!r} is not a protobuf identifier")
            if owner.setdefault(s, enum_name) != enum_name:
                raise _problem(schema, spec, f"enum symbol {s!r} is also a symbol of enum "
                               f"{owner[s]}; protobuf needs the symbols of one message's "
                               "enums to differ")
    return out


def _problem(schema: LoadedSchema, spec: FieldSpec, message: str) -> UserError:
    return UserError([Problem(f"cannot be written as protobuf: {message}",
                              file=str(schema.path), path=spec.name)])


class ProtobufEncoder:
    """Encodes columns of one record schema as protobuf messages (framed with `schema_id`),
    laid out as the derived `.proto` says or as a given one (`layout`)."""

    def __init__(self, schema: LoadedSchema, schema_id: int | None = None,
                 layout: ProtoLayout | None = None) -> None:
        for spec in schema.fields:
            if spec.avro_type not in PROTO_TYPES and spec.avro_type != "enum":
                raise _problem(schema, spec, f"a {spec.type.describe()} field has no protobuf "
                               "mapping yet; write this topic as avro, json or json-schema")
        if layout is None:
            _enums(schema)  # refuse what the derived .proto cannot hold before any record
            layout = derived_layout(schema)
        self.layout = layout
        # Fields in number order, as protobuf's own serializer writes them.
        self.fields = tuple(sorted(schema.fields, key=lambda f: layout.numbers[f.name]))
        self.schema_id = schema_id
        self._tags = [P.uvarint_bytes((layout.numbers[spec.name] << 3)
                                      | _WIRE_TYPES[spec.avro_type]) for spec in self.fields]

    def encode(self, columns: Mapping[str, Column], n: int | None = None) -> EncodedBatch:
        """Encode n rows: `columns` maps field name -> column of n values (extra names ignored)."""
        if n is None:
            n = row_count(columns, self.fields) if self.fields else 0
        parts: list[P.Piece] = []
        if self.schema_id is not None:
            parts.append(P.constant(header(self.schema_id) + FIRST_MESSAGE, n))
        for spec, tag in zip(self.fields, self._tags, strict=True):
            col = column_of(columns, spec, n)
            with field_errors(spec, col):
                if not isinstance(col, np.ndarray):
                    raise TypeError(f"a {type(col).__name__} has no protobuf mapping yet")
                parts.extend(_field_pieces(spec, tag, col, n, self.layout.enum_numbers))
        buffer, offsets = P.assemble(parts, n)
        return EncodedBatch(buffer.tobytes(), offsets)


def _field_pieces(spec: FieldSpec, tag: bytes, col: np.ndarray, n: int,
                  enums: Mapping[str, npt.NDArray[np.int64]]) -> list[P.Piece]:
    null = nulls(col) if spec.nullable and col.dtype == object else None
    if null is not None and null.any():
        rows = np.flatnonzero(~null)
        inner = _value_pieces(spec, tag, col[rows], enums, present=True)
        return [P.expand(p, rows, n) for p in inner]
    return _value_pieces(spec, tag, col, enums, present=spec.nullable)


def _value_pieces(spec: FieldSpec, tag: bytes, col: np.ndarray,
                  enums: Mapping[str, npt.NDArray[np.int64]], *, present: bool
                  ) -> list[P.Piece]:
    """Tag and value of each row; without `present`, rows holding the default get no bytes."""
    kind, values = spec.avro_type, normalised(spec, col)
    if kind == "enum":  # symbol positions -> the numbers the .proto gives the symbols
        values = enums[spec.name][values]
    n = int(values.shape[0])
    if kind in ("string", "bytes"):
        pieces = _length_delimited(kind, values)
        keep = None if present else pieces[1].row_lens() > 0
        return _masked([P.constant(tag, n), *pieces], keep)
    if kind in ("double", "float"):
        value = P.fixed_piece(values, "<f8" if kind == "double" else "<f4")
        assert value.block is not None
        keep = None if present else np.any(value.block, axis=1)  # -0.0 is not the default
        return _masked([P.constant(tag, n), value], keep)
    ints = values.astype(np.int64)  # int32 and enums are sign-extended to 64 bits, as protobuf
    value = P.varint(ints.view(np.uint64))
    return _masked([P.constant(tag, n), value], None if present else ints != 0)


def _length_delimited(kind: str, values: np.ndarray) -> list[P.Piece]:
    """Varint byte length and the bytes."""
    items = values.tolist()
    if kind == "string":
        flat, lens = P.utf8_join(items)
    else:
        flat = b"".join(items)
        lens = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
    return [P.varint(lens.astype(np.uint64)), P.ragged_piece(flat, lens)]


def _masked(pieces: list[P.Piece], keep: npt.NDArray[np.bool_] | None) -> list[P.Piece]:
    """Give the rows not kept no bytes (their value pieces are the default's: no data)."""
    if keep is None or keep.all():
        return pieces
    out = []
    for p in pieces:
        lens = np.where(keep, p.row_lens(), 0)
        if p.block is None:
            assert p.lens is not None and not p.lens[~keep].any()
            out.append(p)
        else:
            out.append(P.Piece(p.n, block=p.block, lens=lens, right=p.right))
    return out
