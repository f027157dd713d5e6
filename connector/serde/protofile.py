"""A `.proto` the user gives for a topic: its message read, and checked against the Avro record.

Only what the protobuf encoder needs is read: the first message's fields (label, type, name,
number) and the enums nested in it (symbol numbers). Every Avro field must be a field of the
message with the type the encoder writes (see `serde.protobuf`), a nullable field `optional`;
enum symbols may be numbered as the file likes. Anything else in the file (comments, options,
other messages) is registered as it is and otherwise ignored.
"""

from __future__ import annotations

import re

import attrs
import numpy as np
import numpy.typing as npt

from connector.errors import Problem, UserError
from connector.model.avro import FieldSpec, LoadedSchema

PROTO_TYPES = {"long": "int64", "int": "int32", "double": "double", "float": "float",
               "boolean": "bool", "string": "string", "bytes": "bytes"}
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_PACKAGE = re.compile(r"\bpackage\s+([\w.]+)\s*;")
_MESSAGE = re.compile(r"\bmessage\s+(\w+)\s*\{")
_FIELD = re.compile(r"^\s*(optional\s+|repeated\s+)?([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*[;\[]", re.M)
_ENUM = re.compile(r"\benum\s+(\w+)\s*\{([^}]*)\}")
_ENUM_VALUE = re.compile(r"(\w+)\s*=\s*(-?\d+)\s*;")


@attrs.frozen
class ProtoLayout:
    """Where each Avro field goes in the message: its number, and enum symbol numbers."""

    name: str  # the message's full name (package.Message)
    numbers: dict[str, int]
    enum_numbers: dict[str, npt.NDArray[np.int64]] = attrs.field(eq=False)


def derived_layout(schema: LoadedSchema) -> ProtoLayout:
    """The layout of the `.proto` derived from the record: field k is number k + 1."""
    return ProtoLayout(schema.fullname, {f.name: i for i, f in enumerate(schema.fields, 1)},
                       {f.name: np.arange(len(f.symbols or ()), dtype=np.int64)
                        for f in schema.fields if f.avro_type == "enum"})


def given_layout(schema: LoadedSchema, text: str, file: str) -> ProtoLayout:
    """Read and check a user's `.proto` for a record; UserError naming file and field if not."""
    text = _COMMENT.sub("", text)
    message = _MESSAGE.search(text)
    if message is None:
        raise _error(file, None, "no message in the file")
    body = _body(text, message.end())
    enums = {m[1]: dict((v[1], int(v[2])) for v in _ENUM_VALUE.finditer(m[2]))
             for m in _ENUM.finditer(body)}
    fields = {m[3]: (m[1] or "", m[2], int(m[4])) for m in _FIELD.finditer(_ENUM.sub("", body))}
    numbers: dict[str, int] = {}
    tables: dict[str, npt.NDArray[np.int64]] = {}
    for spec in schema.fields:
        if spec.name not in fields:
            raise _error(file, spec.name, f"message {message[1]} has no field {spec.name!r}")
        label, kind, number = fields[spec.name]
        if label.strip() == "repeated" or (spec.nullable and label.strip() != "optional"):
            raise _error(file, spec.name, "a nullable field must be 'optional' (and no field "
                         "'repeated')")
        numbers[spec.name] = number
        if spec.avro_type == "enum":
            tables[spec.name] = _enum_table(spec, enums.get(kind.rsplit(".", 1)[-1]), file)
        elif PROTO_TYPES[spec.avro_type] != kind:
            raise _error(file, spec.name, f"type {kind} does not hold Avro "
                         f"{spec.avro_type}; expected {PROTO_TYPES[spec.avro_type]}")
    package = _PACKAGE.search(text)
    name = f"{package[1]}.{message[1]}" if package else message[1]
    return ProtoLayout(name, numbers, tables)


def _enum_table(spec: FieldSpec, values: dict[str, int] | None, file: str
                ) -> npt.NDArray[np.int64]:
    if values is None:
        raise _error(file, spec.name, "its type is not an enum nested in the message")
    missing = [s for s in spec.symbols or () if s not in values]
    if missing:
        raise _error(file, spec.name, f"the enum lacks the symbols {missing}")
    return np.array([values[s] for s in spec.symbols or ()], dtype=np.int64)


def _body(text: str, start: int) -> str:
    """The text inside the braces opened just before `start`."""
    depth = 1
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i]
    return text[start:]


def _error(file: str, field: str | None, message: str) -> UserError:
    return UserError([Problem(f"the given .proto does not fit the record: {message}",
                              file=file, path=field)])
