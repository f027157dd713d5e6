"""The protobuf layout of an Avro record: which message, field numbers and wire shape hold each
value. Derived from the Avro schema here (and rendered as the `.proto` text registered for the
topic), or read from a user's `.proto` (protofile.py); the encoder (protobuf.py) walks it.

The mapping of every Avro shape is the README's table ("Protobuf: how each Avro type is
written"): the record is the file's one top-level message and every other type it needs is nested
in it (so message index [0] names it); scalars keep their proto3 type, arrays are `repeated`
(packed for numbers), maps `map<string, V>` where V fits and a repeated entry message otherwise,
unions a message with a `oneof`, decimals Confluent's `Decimal` message, nullable scalars
`optional`; an array or map inside an array, map value or union branch is wrapped in a message.
A field of the record is field number k + 1 for the record's k-th field.
"""

from __future__ import annotations

import enum
import re

import attrs

from connector.errors import Problem, UserError
from connector.model.avrotypes import AvroType, Kind

# The proto scalar type of each Avro scalar kind (logical types keep their base's).
PROTO_SCALARS = {Kind.LONG: "int64", Kind.INT: "int32", Kind.DOUBLE: "double",
                 Kind.FLOAT: "float", Kind.BOOLEAN: "bool", Kind.STRING: "string",
                 Kind.BYTES: "bytes", Kind.FIXED: "bytes"}
PACKABLE = frozenset({"int64", "int32", "uint32", "double", "float", "bool"})
DECIMAL = "Decimal"
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class How(enum.Enum):
    """How a field's values go on the wire."""

    SCALAR = "scalar"  # singular without presence: left out when it holds its default
    OPTIONAL = "optional"  # singular with presence: written whenever there is a value
    PACKED = "packed"  # repeated number/bool/enum: one length-delimited run per row
    REPEATED = "repeated"  # repeated string/bytes/message: one tag per item
    MAP = "map"  # map<K, V>: repeated entries whose key and value are always written


class MessageKind(enum.Enum):
    """What a message holds, so the encoder knows where its fields' columns come from."""

    RECORD = "record"  # an Avro record: field f's column is the struct's column f
    DECIMAL = "decimal"  # value, precision, scale of a decimal column
    UNION = "union"  # oneof: field k + 1 holds the rows on branch k
    WRAP = "wrap"  # field 1 holds the whole column (an array or map inside a container)
    ENTRY = "entry"  # a map's entries: key (1) and value (2) from a MapColumn's items


@attrs.define(eq=False)
class ProtoEnum:
    name: str
    symbols: tuple[str, ...]
    numbers: tuple[int, ...]  # the number of each Avro symbol position


@attrs.define(eq=False)
class ProtoField:
    """One field of a message: name, number, how it is written and what type of value."""

    name: str
    number: int
    how: How
    type: AvroType  # the Avro type of one value (an item's type for repeated fields)
    scalar: str | None = None  # proto scalar type name, for scalar values
    enum: ProtoEnum | None = None
    message: ProtoMessage | None = None  # for record, decimal, wrapper and entry values
    column: str | None = None  # RECORD: the struct's field; UNION: None

    @property
    def type_name(self) -> str:
        if self.enum is not None:
            return self.enum.name
        if self.message is not None:
            return self.message.name
        assert self.scalar is not None
        return self.scalar


@attrs.define(eq=False)
class ProtoMessage:
    name: str
    kind: MessageKind
    type: AvroType  # the Avro type one message stands for
    fields: list[ProtoField] = attrs.field(factory=list)
    branches: dict[int, ProtoField] = attrs.field(factory=dict)  # UNION: branch -> member

    def in_number_order(self) -> list[ProtoField]:
        return sorted(self.fields, key=lambda f: f.number)


@attrs.define(eq=False)
class ProtoPlan:
    """The whole layout: the top message and every nested type, in the order written."""

    package: str
    top: ProtoMessage
    messages: list[ProtoMessage]  # nested in the top message
    enums: list[ProtoEnum]

    @property
    def full_name(self) -> str:
        return f"{self.package}.{self.top.name}" if self.package else self.top.name


def derive(record: AvroType, file: str) -> ProtoPlan:
    """The layout of the `.proto` derived from a record schema; UserError naming the field if
    protobuf cannot spell it (enum symbols that clash or are not identifiers)."""
    return _Deriver(record, file).plan()


class _Deriver:
    def __init__(self, record: AvroType, file: str) -> None:
        assert record.name is not None
        self.file = file
        self.package, _, name = record.name.rpartition(".")
        self.taken: set[str] = {name}
        self.records: dict[int, ProtoMessage] = {}
        self.messages: list[ProtoMessage] = []
        self.enums: dict[int, ProtoEnum] = {}
        self.symbols: dict[str, str] = {}  # enum symbol -> its enum (one scope for all)
        self.decimal: ProtoMessage | None = None
        self.top = ProtoMessage(name, MessageKind.RECORD, record)
        self.records[id(record)] = self.top

    def plan(self) -> ProtoPlan:
        self._fill_record(self.top)
        for e in self.enums.values():
            for s in e.symbols:
                if s in self.taken:
                    self._fail(e.name, f"enum symbol {s!r} is also the name of a message")
        return ProtoPlan(self.package, self.top, self.messages, list(self.enums.values()))

    def _fill_record(self, message: ProtoMessage) -> None:
        for number, f in enumerate(message.type.fields, start=1):
            field = self._field(f.name, number, f.type, f"{message.name}_{f.name}", f.name)
            field.column = f.name
            message.fields.append(field)

    def _field(self, name: str, number: int, t: AvroType, path: str, where: str) -> ProtoField:
        """A singular field (record field, entry value, wrapper content) of values of type t."""
        pair = t.nullable_of
        if pair is not None:
            base = pair[0]
            if base.kind in (Kind.ARRAY, Kind.MAP):
                return self._container(name, number, base, path, where)
            inner = self._single(name, number, base, path, where)
            if inner.how is How.SCALAR:
                inner.how = How.OPTIONAL
            return inner
        if t.kind in (Kind.ARRAY, Kind.MAP):
            return self._container(name, number, t, path, where)
        return self._single(name, number, t, path, where)

    def _single(self, name: str, number: int, t: AvroType, path: str, where: str
                ) -> ProtoField:
        """A field holding one value that is not repeated (scalar, enum or a message)."""
        if t.kind is Kind.UNION:
            return ProtoField(name, number, How.OPTIONAL, t, message=self._union(t, path, where))
        if t.kind in (Kind.ARRAY, Kind.MAP):  # inside a container: wrapped
            wrap = self._message(path, MessageKind.WRAP, t)
            wrap.fields.append(self._container("value", 1, t, f"{path}_value", where))
            return ProtoField(name, number, How.OPTIONAL, t, message=wrap)
        if t.kind is Kind.RECORD:
            return ProtoField(name, number, How.OPTIONAL, t, message=self._record(t))
        if t.logical == "decimal":
            return ProtoField(name, number, How.OPTIONAL, t, message=self._decimal())
        if t.kind is Kind.ENUM:
            return ProtoField(name, number, How.SCALAR, t, enum=self._enum(t, where))
        return ProtoField(name, number, How.SCALAR, t, scalar=PROTO_SCALARS[t.kind])

    def _container(self, name: str, number: int, t: AvroType, path: str, where: str
                   ) -> ProtoField:
        assert t.items is not None
        if t.kind is Kind.ARRAY:
            item = self._single(name, number, t.items, f"{path}_item", where)
            packed = item.enum is not None or item.scalar in PACKABLE
            item.how = How.PACKED if packed else How.REPEATED
            return item
        value_type = t.items
        entry = self._message(f"{path}_entry", MessageKind.ENTRY, t)
        key = ProtoField("key", 1, How.SCALAR, AvroType(Kind.STRING), scalar="string")
        fits = value_type.kind not in (Kind.ARRAY, Kind.MAP, Kind.UNION)
        value = (self._single if fits else self._field)("value", 2, value_type,
                                                        f"{path}_value", where)
        entry.fields += [key, value]
        if fits:  # map<string, V>: the entry is implicit, key and value always written
            self.messages.remove(entry)
            self.taken.discard(entry.name)
            key.how = How.OPTIONAL
            if value.how is How.SCALAR:
                value.how = How.OPTIONAL
            return ProtoField(name, number, How.MAP, t, message=entry)
        return ProtoField(name, number, How.REPEATED, t, message=entry)

    def _union(self, t: AvroType, path: str, where: str) -> ProtoMessage:
        message = self._message(path, MessageKind.UNION, t)
        for k, branch in enumerate(t.branches):
            if branch.kind is Kind.NULL:
                continue
            label = _ident((branch.name or branch.kind.value).replace(".", "_"))
            member = self._single(f"{label}_value", k + 1, branch, f"{path}_{label}", where)
            if member.how is How.SCALAR:
                member.how = How.OPTIONAL  # a oneof member has presence
            message.fields.append(member)
            message.branches[k] = member
        return message

    def _record(self, t: AvroType) -> ProtoMessage:
        if id(t) in self.records:
            return self.records[id(t)]
        assert t.name is not None
        message = self._message(t.name.rsplit(".", 1)[-1], MessageKind.RECORD, t)
        self.records[id(t)] = message
        self._fill_record(message)
        return message

    def _decimal(self) -> ProtoMessage:
        if self.decimal is None:
            self.decimal = self._message(DECIMAL, MessageKind.DECIMAL, AvroType(Kind.BYTES))
            self.decimal.fields += [
                ProtoField("value", 1, How.SCALAR, AvroType(Kind.BYTES), scalar="bytes"),
                ProtoField("precision", 2, How.SCALAR, AvroType(Kind.LONG), scalar="uint32"),
                ProtoField("scale", 3, How.SCALAR, AvroType(Kind.INT), scalar="int32")]
        return self.decimal

    def _enum(self, t: AvroType, where: str) -> ProtoEnum:
        if id(t) in self.enums:
            return self.enums[id(t)]
        assert t.name is not None
        name = self._unique(t.name.rsplit(".", 1)[-1])
        for s in t.symbols:
            if not _IDENT.match(s):
                self._fail(where, f"enum symbol {s!r} is not a protobuf identifier")
            if self.symbols.setdefault(s, name) != name:
                self._fail(where, f"enum symbol {s!r} is also a symbol of enum "
                           f"{self.symbols[s]}; protobuf needs the symbols of one message's "
                           "enums to differ")
        e = ProtoEnum(name, t.symbols, tuple(range(len(t.symbols))))
        self.enums[id(t)] = e
        return e

    def _message(self, name: str, kind: MessageKind, t: AvroType) -> ProtoMessage:
        message = ProtoMessage(self._unique(_ident(name)), kind, t)
        self.messages.append(message)
        return message

    def _unique(self, name: str) -> str:
        candidate, i = name, 1
        while candidate in self.taken:
            i += 1
            candidate = f"{name}{i}"
        self.taken.add(candidate)
        return candidate

    def _fail(self, where: str, message: str) -> None:
        raise UserError([Problem(f"cannot be written as protobuf: {message}", file=self.file,
                                 path=where)])


def _ident(text: str) -> str:
    """A protobuf identifier for a name built from Avro names."""
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return cleaned if _IDENT.match(cleaned) else f"_{cleaned}"


def render(plan: ProtoPlan) -> str:
    """The `.proto` text of a layout (proto3; nested types inside the top message)."""
    lines = ['syntax = "proto3";', ""]
    if plan.package:
        lines += [f"package {plan.package};", ""]
    lines.append(f"message {plan.top.name} {{")
    for e in plan.enums:
        lines.append(f"  enum {e.name} {{")
        lines += [f"    {s} = {i};" for s, i in zip(e.symbols, e.numbers, strict=True)]
        lines.append("  }")
    for m in plan.messages:
        lines.append(f"  message {m.name} {{")
        lines += _fields(m, "    ")
        lines.append("  }")
    lines += _fields(plan.top, "  ")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _fields(message: ProtoMessage, indent: str) -> list[str]:
    if message.kind is MessageKind.UNION:
        members = [f"{indent}  {f.type_name} {f.name} = {f.number};" for f in message.fields]
        return [f"{indent}oneof branch {{", *members, f"{indent}}}"]
    return [indent + _declaration(f) for f in message.fields]


def _declaration(f: ProtoField) -> str:
    if f.how is How.MAP:
        assert f.message is not None
        value = f.message.fields[1]
        return f"map<string, {value.type_name}> {f.name} = {f.number};"
    label = {How.OPTIONAL: "optional ", How.PACKED: "repeated ", How.REPEATED: "repeated "
             }.get(f.how, "")
    if f.how is How.OPTIONAL and f.message is not None:
        label = ""  # message fields have presence without the label
    return f"{label}{f.type_name} {f.name} = {f.number};"
