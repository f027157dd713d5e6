"""Protobuf values: the `.proto` derived from a topic's Avro schema, and a columnar encoder.

The layout (which message and field number holds each value, see protoplan.py for the mapping of
every Avro shape) is derived from the Avro schema or read from a user's `.proto` (protofile.py).

The encoder writes what protobuf's own `SerializeToString(deterministic=True)` writes for the
same message (tests prove it on generated nested schemas): fields in number order; a field without
presence left out when it holds its default (0, false, "", first enum value); numbers, bools and
enums of arrays packed; map entries with key and value always written, in the order protobuf's
deterministic serialization sorts them (upb: by UTF-8 bytes, a key before its own prefixes), a
repeated key keeping its last value. It is columnar at every depth, like the Avro path
(`serde.pieces`): a nested message is its fields' pieces assembled into one buffer over all rows,
then a length prefix per row; array items and map entries are encoded as one flat column and
grouped per row. Records are framed as Confluent's serializer frames them: magic byte, schema id,
then the message-index list of the first message (one 0 byte).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from connector.core.columns import (
    Column,
    DecimalTextColumn,
    ListColumn,
    MapColumn,
    StructColumn,
    UnionColumn,
    as_array,
    list_offsets,
    take,
)
from connector.model.avro import LoadedSchema
from connector.model.avrotypes import AvroType, Kind
from connector.serde import pieces as P
from connector.serde.encoder import EncodedBatch, column_of, field_errors, row_count
from connector.serde.protoplan import (
    How,
    MessageKind,
    ProtoField,
    ProtoMessage,
    ProtoPlan,
    derive,
    render,
)
from connector.serde.protowire import I32, I64, LEN, VARINT, decimal_pieces, tag
from connector.serde.scalars import enum_index, nulls, scalar_values
from connector.serde.shapes import EncodeError, binary_values, field_column
from connector.serde.wire import header

_FIXED = {"double": (I64, "<f8"), "float": (I32, "<f4")}
FIRST_MESSAGE = b"\x00"  # Confluent's message-index list [0], written as its short form


def proto_text(schema: LoadedSchema) -> str:
    """The `.proto` file of a record schema (what `protobuf` registers)."""
    return render(derive(schema.type, str(schema.path)))


class ProtobufEncoder:
    """Encodes columns of one record schema as protobuf messages (framed with `schema_id`),
    laid out as the derived `.proto` says or as a given one (`layout`)."""

    def __init__(self, schema: LoadedSchema, schema_id: int | None = None,
                 layout: ProtoPlan | None = None) -> None:
        self.layout = layout or derive(schema.type, str(schema.path))
        self.specs = {f.name: f for f in schema.fields}
        self.fields = schema.fields
        self.schema_id = schema_id

    def encode(self, columns: Mapping[str, Column], n: int | None = None) -> EncodedBatch:
        """Encode n rows: `columns` maps field name -> column of n values (extra names ignored)."""
        if n is None:
            n = row_count(columns, self.fields) if self.fields else 0
        parts: list[P.Piece] = []
        if self.schema_id is not None:
            parts.append(P.constant(header(self.schema_id) + FIRST_MESSAGE, n))
        for field in self.layout.top.in_number_order():
            assert field.column is not None
            spec = self.specs[field.column]
            col = column_of(columns, spec, n, text=True)
            with field_errors(spec, col):
                parts.extend(field_pieces(field, spec.type, col, n, spec.name))
        buffer, offsets = P.assemble(parts, n)
        return EncodedBatch(buffer.tobytes(), offsets)


def field_pieces(field: ProtoField, declared: AvroType, col: Column, n: int, path: str
                 ) -> list[P.Piece]:
    """Tag and value of a singular or repeated field per row (no bytes where there is none)."""
    if n == 0:
        return []
    if isinstance(col, DecimalTextColumn):
        if declared.kind is Kind.STRING and field.scalar == "string" and \
                field.how in (How.SCALAR, How.OPTIONAL):
            # The digits straight from the numbers; never empty, so written on every row.
            digits = P.decimal_pieces(col.numbers)
            return [P.constant(tag(field.number, LEN), n),
                    P.varint(P.total_lens(digits, n).astype(np.uint64)), *digits]
        col = as_array(col)
    pair = declared.nullable_of
    if pair is None:
        return _present_pieces(field, declared, col, n, path)
    rows, inner = _non_null(declared, col, n, path)
    if rows is None:
        return _present_pieces(field, pair[0], inner, n, path)
    if not rows.size:
        return []
    pieces = _present_pieces(field, pair[0], inner, int(rows.shape[0]), path)
    return [P.expand(p, rows, n) for p in pieces]


def _non_null(t: AvroType, col: Column, n: int, path: str
              ) -> tuple[npt.NDArray[np.int64] | None, Column]:
    """The rows of a null-and-one-type union that hold a value (None: all), and their values."""
    pair = t.nullable_of
    assert pair is not None
    if isinstance(col, UnionColumn):
        k = 1 - pair[1]
        part = col.values[k]
        rows = col.rows_of(k)
        if part is None:
            raise EncodeError(path, "no column for the union's value branch")
        return (None if rows.shape[0] == n else rows), part
    if not isinstance(col, np.ndarray):
        return None, col
    if col.dtype != object:
        return None, col
    null = nulls(col)
    if not null.any():
        return None, col
    rows = np.flatnonzero(~null)
    return rows, col[rows]


def _present_pieces(field: ProtoField, t: AvroType, col: Column, n: int, path: str
                    ) -> list[P.Piece]:
    """A field's pieces for n rows that all hold a value of type `t` (a union: maybe null)."""
    how = field.how
    if how is How.PACKED:
        return _packed(field, _list(col, path), n, path)
    if how in (How.REPEATED, How.MAP):
        return _repeated(field, t, col, n, path)
    if field.message is None:
        return _scalar(field, t, col, path, present=how is How.OPTIONAL)
    if field.message.kind is MessageKind.UNION:  # null branch rows: the message is absent
        rows = _union_rows(field.message, t, col, n)
        if rows is not None:
            flat, lens = _content(field.message, t, take(col, rows), int(rows.shape[0]), path)
            return [P.expand(p, rows, n) for p in _delimited(field.number, flat, lens)]
    flat, lens = _content(field.message, t, col, n, path)
    return _delimited(field.number, flat, lens)


def _delimited(number: int, flat: P.U8, lens: P.I64) -> list[P.Piece]:
    """Tag, byte length and bytes of a length-delimited value on every row."""
    n = int(lens.shape[0])
    return [P.constant(tag(number, LEN), n), P.varint(lens.astype(np.uint64)),
            P.Piece(n, flat=flat, lens=lens)]


def _scalar(field: ProtoField, t: AvroType, col: Column, path: str, *, present: bool
            ) -> list[P.Piece]:
    """Tag and value of a scalar or enum per row; without `present`, defaults get no bytes."""
    tag, value, keep = _scalar_value(field, t, col, path)
    n = value.n
    if field.scalar in ("string", "bytes"):
        pieces = [P.constant(tag, n), P.varint(value.row_lens().astype(np.uint64)), value]
    else:
        pieces = [P.constant(tag, n), value]
    return _masked(pieces, None if present else keep)


def _scalar_value(field: ProtoField, t: AvroType, col: Column, path: str
                  ) -> tuple[bytes, P.Piece, npt.NDArray[np.bool_]]:
    """(tag, value piece without tag, rows not holding the default) of a scalar column."""
    if not isinstance(col, np.ndarray):
        raise EncodeError(path, f"expected an array of {t.describe()} values, got a "
                          f"{type(col).__name__}")
    values = scalar_values(t, col, path)
    if field.enum is not None:
        index = enum_index(t, values, path)
        ints = np.asarray(field.enum.numbers, dtype=np.int64)[index]
        return tag(field.number, VARINT), P.varint(ints.view(np.uint64)), ints != 0
    kind = field.scalar
    if kind in ("string", "bytes"):
        if t.kind is Kind.STRING:
            body = P.string_body(values)
            return tag(field.number, LEN), body, body.row_lens() > 0
        flat, lens = binary_values(t, values, path)
        return tag(field.number, LEN), P.ragged_piece(flat, lens), lens > 0
    if kind in _FIXED:
        wire, dtype = _FIXED[kind]
        value = P.fixed_piece(values, dtype)
        assert value.block is not None
        return tag(field.number, wire), value, np.any(value.block, axis=1)  # -0.0 is set
    ints = values.astype(np.int64)  # int32 is sign-extended to 64 bits, as protobuf does
    return tag(field.number, VARINT), P.varint(ints.view(np.uint64)), ints != 0


def _masked(pieces: list[P.Piece], keep: npt.NDArray[np.bool_] | None) -> list[P.Piece]:
    """Give the rows not kept no bytes."""
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


def _list(col: Column, path: str) -> ListColumn:
    if not isinstance(col, ListColumn):
        raise EncodeError(path, f"expected arrays, got a {type(col).__name__}")
    return col


def _packed(field: ProtoField, col: ListColumn, n: int, path: str) -> list[P.Piece]:
    """Numbers, bools or enums of each row's array as one packed run (none for an empty one)."""
    first, last = int(col.offsets[0]), int(col.offsets[-1])
    m = last - first
    if m == 0:
        return []
    _, value, _ = _scalar_value(field, field.type, col.values, f"{path}[]")
    flat, lens = _grouped([value], col.offsets, m, n)
    return _masked(_delimited(field.number, flat, lens), lens > 0)


def _grouped(items: list[P.Piece], offsets: P.I64, m: int, n: int) -> tuple[P.U8, P.I64]:
    """The pieces of all rows' m items assembled, and each row's share (offsets: n + 1)."""
    buffer, item_offsets = P.assemble(items, m)
    first = int(offsets[0])
    starts = item_offsets[offsets[:-1] - first]
    lens = item_offsets[offsets[1:] - first] - starts
    return buffer, lens


def _repeated(field: ProtoField, t: AvroType, col: Column, n: int, path: str
              ) -> list[P.Piece]:
    """One tag and value per item (strings, bytes, messages, map entries), rows grouped."""
    if field.message is not None and field.message.kind is MessageKind.ENTRY:
        if not isinstance(col, MapColumn):
            raise EncodeError(path, f"expected maps, got a {type(col).__name__}")
        if field.how is How.MAP:
            col = _map_order(col, n)
        offsets = col.offsets
        m = int(offsets[-1] - offsets[0])
        if m == 0:
            return []
        flat, lens = _entries(field.message, t, col, m, path)
        items = _delimited(field.number, flat, lens)
    else:
        lists = _list(col, path)
        offsets = lists.offsets
        m = int(offsets[-1] - offsets[0])
        if m == 0:
            return []
        if field.message is None:
            items = _scalar(field, field.type, lists.values, f"{path}[]", present=True)
        else:
            flat, lens = _content(field.message, field.type, lists.values, m, f"{path}[]")
            items = _delimited(field.number, flat, lens)
    flat, lens = _grouped(items, offsets, m, n)
    return [P.Piece(n, flat=flat, lens=lens)]


def _entries(entry: ProtoMessage, t: AvroType, col: MapColumn, m: int, path: str
             ) -> tuple[P.U8, P.I64]:
    """Each map entry's message: key (field 1) and value (field 2)."""
    assert t.items is not None
    key, value = entry.fields
    keys = col.keys
    if keys.dtype != object or not all(type(k) is str for k in keys.tolist()):
        raise EncodeError(path, "map keys must be strings")
    string = AvroType(Kind.STRING)
    pieces = [*field_pieces(key, string, keys, m, f"{path}{{}}"),
              *field_pieces(value, t.items, col.values, m, f"{path}{{}}")]
    buffer, offsets = P.assemble(pieces, m)
    return buffer, np.diff(offsets)


def _map_order(col: MapColumn, n: int) -> MapColumn:
    """Each row's entries in the order protobuf's deterministic serialization writes a map
    (upb: by UTF-8 bytes, a string after the strings it is a prefix of), a key given twice
    keeping its last value, as a protobuf map does."""
    m = int(col.offsets[-1] - col.offsets[0])
    if m < 2:
        return col
    row = np.repeat(np.arange(n), np.diff(col.offsets))
    # 0xFF never occurs in UTF-8: appended, it puts a key after its longer extensions.
    sort_keys = np.empty(m, dtype=object)
    sort_keys[:] = [k.encode("utf-8") + b"\xff" for k in col.keys.tolist()]
    order = np.argsort(sort_keys, kind="stable")
    order = order[np.argsort(row[order], kind="stable")]
    ordered = sort_keys[order]
    later_same = np.zeros(m, dtype=bool)  # an entry followed by the same key of the same row
    later_same[:-1] = (row[order][1:] == row[order][:-1]) & (ordered[1:] == ordered[:-1])
    if later_same.any():
        order = order[~later_same]
    return MapColumn(list_offsets(np.bincount(row[order], minlength=n)), col.keys[order],
                     take(col.values, order))


def _content(message: ProtoMessage, t: AvroType, col: Column, n: int, path: str
             ) -> tuple[P.U8, P.I64]:
    """The bytes of n messages (without tag or length) and each one's length."""
    if message.kind is MessageKind.DECIMAL:
        pieces = decimal_pieces(message, t, col, path)
    elif message.kind is MessageKind.UNION:
        pieces = _union(message, t, col, n, path)
    elif message.kind is MessageKind.WRAP:
        pieces = field_pieces(message.fields[0], t, col, n, path)
    else:
        if not isinstance(col, StructColumn):
            raise EncodeError(path, f"expected records, got a {type(col).__name__}")
        pieces = []
        for field in message.in_number_order():
            assert field.column is not None
            spec = next(f for f in t.fields if f.name == field.column)
            sub = f"{path}.{spec.name}"
            pieces += field_pieces(field, spec.type, field_column(col, spec, n, path), n, sub)
    buffer, offsets = P.assemble(pieces, n)
    return buffer, np.diff(offsets)


def _union_rows(message: ProtoMessage, t: AvroType, col: Column, n: int
                ) -> npt.NDArray[np.int64] | None:
    """The rows of a union column not on its null branch (None: all of them)."""
    if isinstance(col, UnionColumn):
        null = [k for k, b in enumerate(t.branches) if b.kind is Kind.NULL]
        if not null:
            return None
        present = np.flatnonzero(col.branch != null[0])
    elif isinstance(col, np.ndarray) and col.dtype == object:
        present = np.flatnonzero(~nulls(col))
    else:
        return None
    return None if present.shape[0] == n else present


def _union(message: ProtoMessage, t: AvroType, col: Column, n: int, path: str
           ) -> list[P.Piece]:
    """The oneof member of each row's branch (null rows: nothing)."""
    if isinstance(col, UnionColumn):
        if len(col.values) != len(t.branches):
            raise EncodeError(path, f"a union of {len(t.branches)} types got "
                              f"{len(col.values)} branches")
        out: list[P.Piece] = []
        for k, member in sorted(message.branches.items(), key=lambda kv: kv[1].number):
            part, rows = col.values[k], col.rows_of(k)
            if part is None or not rows.size:
                continue
            inner = field_pieces(member, t.branches[k], part, int(rows.shape[0]), path)
            out += inner if rows.shape[0] == n else [P.expand(p, rows, n) for p in inner]
        return out
    pair = t.nullable_of
    if pair is None:
        raise EncodeError(path, f"expected a union column, got a {type(col).__name__}")
    member = message.branches[1 - pair[1]]
    present, values = _non_null(t, col, n, path)
    if present is None:
        return field_pieces(member, pair[0], values, n, path)
    pieces = field_pieces(member, pair[0], values, int(present.shape[0]), path)
    return [P.expand(p, present, n) for p in pieces]
