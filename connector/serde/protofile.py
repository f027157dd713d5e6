"""A `.proto` the user gives for a topic: read, and matched against the record's derived layout.

The file's first message holds the record. Its messages and enums are read (nested ones too, at
any depth; comments, options, imports, services and other messages are registered as they are
and otherwise ignored). The layout derived from the Avro schema (protoplan.py) is then taken
field by field, by name, with the numbers the file gives: every Avro field must be a field of
the matching message, of the type the encoder writes (a nested record a message with its fields,
an array `repeated`, a map a `map<string, V>` or a repeated entry message with `key` and `value`,
a union a message whose oneof members are named as in the derived file, a decimal a message with
`value`, `precision` and `scale`, `confluent.type.Decimal` included), a nullable scalar
`optional`; enum symbols may be numbered as the file likes.
"""

from __future__ import annotations

import re

import attrs

from connector.errors import Problem, UserError
from connector.model.avro import LoadedSchema
from connector.serde.protoplan import (
    DECIMAL,
    How,
    MessageKind,
    ProtoEnum,
    ProtoField,
    ProtoMessage,
    ProtoPlan,
    derive,
)

_TOKEN = re.compile(r"""\s+|//[^\n]*|/\*.*?\*/|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"""
                    r"""|\.?[A-Za-z_][\w.]*|-?\d+|\S)""", re.S)
_SKIPPED = {"option", "reserved", "extensions", "syntax", "edition", "import"}


@attrs.define(eq=False)
class _Field:
    label: str  # "", "optional", "repeated"
    type: str  # for map<K, V>: V
    number: int
    map_key: str | None = None


@attrs.define(eq=False)
class _Message:
    name: str
    fields: dict[str, _Field] = attrs.field(factory=dict)
    messages: dict[str, _Message] = attrs.field(factory=dict)
    enums: dict[str, dict[str, int]] = attrs.field(factory=dict)


class _Parser:
    def __init__(self, text: str, file: str) -> None:
        self.tokens = [m[1] for m in _TOKEN.finditer(text) if m[1] is not None]
        self.pos = 0
        self.file = file
        self.package = ""
        self.top: list[_Message] = []
        self.messages: dict[str, _Message] = {}  # by simple and dotted names
        self.enums: dict[str, dict[str, int]] = {}

    def next(self) -> str:
        if self.pos >= len(self.tokens):
            raise _error(self.file, None, "the file ends inside a definition")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def until(self, token: str) -> list[str]:
        out = []
        while (t := self.next()) != token:
            out.append(t)
        return out

    def parse(self) -> None:
        while self.pos < len(self.tokens):
            t = self.next()
            if t == "package":
                self.package = "".join(self.until(";"))
            elif t == "message":
                self.top.append(self.message(self.next(), ""))
            elif t == "enum":
                name = self.next()
                self.enum(name, name)
            elif t in ("service", "extend"):
                self.skip_block()
            elif t in _SKIPPED:
                self.until(";")

    def skip_block(self) -> None:
        self.until("{")
        depth = 1
        while depth:
            depth += {"{": 1, "}": -1}.get(self.next(), 0)

    def message(self, name: str, outer: str) -> _Message:
        full = f"{outer}.{name}" if outer else name
        message = _Message(name)
        self.messages.setdefault(name, message)
        self.messages[full] = message
        self.until("{")
        while (t := self.next()) != "}":
            if t == "message":
                inner = self.next()
                message.messages[inner] = self.message(inner, full)
            elif t == "enum":
                inner = self.next()
                message.enums[inner] = self.enum(inner, f"{full}.{inner}")
            elif t == "oneof":
                self.next()
                self.until("{")
                while (member := self.next()) != "}":
                    if member in _SKIPPED:
                        self.until(";")
                        continue
                    self.field(message, "", member)
            elif t in _SKIPPED:
                self.until(";")
            elif t in ("extend",):
                self.skip_block()
            elif t == ";":
                continue
            else:
                self.field(message, t, self.next())
        return message

    def field(self, message: _Message, first: str, second: str) -> None:
        """`[label] type name = number [options];` or `map<K, V> name = number;`."""
        if first in ("optional", "repeated", "required"):
            label, kind, name = first, second, self.next()
        elif first == "map" and second == "<":
            key = self.next()
            self.until(",")
            value = self.next()
            self.until(">")
            name = self.next()
            self.until("=")
            message.fields[name] = _Field("map", value, int(self.next()), key)
            self.until(";")
            return
        elif first == "":
            label, kind, name = "optional", second, self.next()  # a oneof member: presence
        else:
            label, kind, name = "", first, second
        self.until("=")
        message.fields[name] = _Field(label, kind, int(self.next()))
        self.until(";")

    def enum(self, name: str, full: str) -> dict[str, int]:
        values: dict[str, int] = {}
        self.until("{")
        while (t := self.next()) != "}":
            if t in _SKIPPED:
                self.until(";")
            elif t != ";":
                self.until("=")
                values[t] = int(self.next())
                self.until(";")
        self.enums.setdefault(name, values)
        self.enums[full] = values
        return values


def given_layout(schema: LoadedSchema, text: str, file: str) -> ProtoPlan:
    """Read and check a user's `.proto` for a record; UserError naming file and field if not."""
    parser = _Parser(text, file)
    parser.parse()
    if not parser.top:
        raise _error(file, None, "no message in the file")
    plan = derive(schema.type, file)
    matcher = _Matcher(parser, file)
    return ProtoPlan(parser.package, matcher.message(plan.top, parser.top[0], ""), [], [])


class _Matcher:
    """The derived layout with the numbers (and enum values) of the user's file."""

    def __init__(self, parser: _Parser, file: str) -> None:
        self.parser = parser
        self.file = file
        self.done: dict[tuple[int, int], ProtoMessage] = {}

    def message(self, derived: ProtoMessage, given: _Message, path: str) -> ProtoMessage:
        key = (id(derived), id(given))
        if key in self.done:
            return self.done[key]
        out = ProtoMessage(given.name, derived.kind, derived.type)
        self.done[key] = out
        for field in derived.fields:
            where = f"{path}.{field.name}" if path else field.name
            if derived.kind is MessageKind.RECORD:
                where = f"{path}.{field.column}" if path else str(field.column)
            mine = self.field(field, given, where)
            out.fields.append(mine)
        out.branches = {k: out.fields[derived.fields.index(f)]
                        for k, f in derived.branches.items()}
        return out

    def field(self, derived: ProtoField, given: _Message, where: str) -> ProtoField:
        if derived.name not in given.fields:
            raise _error(self.file, where, f"message {given.name} has no field "
                         f"{derived.name!r}")
        theirs = given.fields[derived.name]
        out = attrs.evolve(derived, number=theirs.number)
        label = theirs.label
        if derived.how is How.MAP:
            if label != "map":
                raise _error(self.file, where, "a map must be a map<string, V> field")
        elif derived.how in (How.PACKED, How.REPEATED):
            if label != "repeated":
                raise _error(self.file, where, "an array must be a 'repeated' field")
        elif label in {"repeated", "map"}:
            raise _error(self.file, where, "a single value cannot be a repeated or map field")
        elif derived.how is How.OPTIONAL and derived.message is None and label != "optional":
            raise _error(self.file, where, "a nullable field must be 'optional' (and no field "
                         "'repeated')")
        elif derived.how is How.SCALAR and label == "optional":
            out.how = How.OPTIONAL
        if derived.enum is not None:
            out.enum = self.enum(derived.enum, theirs.type, where)
        elif derived.message is not None:
            out.message = self.nested(derived, theirs, where)
        elif derived.scalar != theirs.type:
            raise _error(self.file, where, f"type {theirs.type} does not hold Avro "
                         f"{derived.type.describe()}; expected {derived.scalar}")
        return out

    def nested(self, derived: ProtoField, theirs: _Field, where: str) -> ProtoMessage:
        assert derived.message is not None
        if derived.how is How.MAP:  # the implicit entry: key 1, value 2
            if theirs.map_key != "string":
                raise _error(self.file, where, f"map keys must be string, not {theirs.map_key}")
            entry = _Message(f"{derived.name}_entry", {
                "key": _Field("optional", theirs.map_key or "string", 1),
                "value": _Field("optional", theirs.type, 2)})
            return self.message(derived.message, entry, where)
        name = theirs.type.lstrip(".")
        if derived.message.kind is MessageKind.DECIMAL and name.endswith(f"type.{DECIMAL}") \
                and name not in self.parser.messages:
            return derived.message  # confluent.type.Decimal, imported: the derived numbers
        found = self.parser.messages.get(_local(name, self.parser.package)) or \
            self.parser.messages.get(name.rsplit(".", 1)[-1])
        if found is None:
            raise _error(self.file, where, f"type {theirs.type} is not a message of the file")
        return self.message(derived.message, found, where)

    def enum(self, derived: ProtoEnum, type_name: str, where: str) -> ProtoEnum:
        name = type_name.lstrip(".")
        values = self.parser.enums.get(_local(name, self.parser.package)) or \
            self.parser.enums.get(name.rsplit(".", 1)[-1])
        if values is None:
            raise _error(self.file, where, "its type is not an enum of the file")
        missing = [s for s in derived.symbols if s not in values]
        if missing:
            raise _error(self.file, where, f"the enum lacks the symbols {missing}")
        return ProtoEnum(type_name, derived.symbols, tuple(values[s] for s in derived.symbols))


def _local(name: str, package: str) -> str:
    return name[len(package) + 1:] if package and name.startswith(package + ".") else name


def _error(file: str, field: str | None, message: str) -> UserError:
    return UserError([Problem(f"the given .proto does not fit the record: {message}",
                              file=file, path=field)])
