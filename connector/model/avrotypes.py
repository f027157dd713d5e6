"""Avro types as a tree the model validator, the engine and the encoders walk.

Built from fastavro's parsed form of any valid schema: records (nested, and recursive through a
named reference), arrays, maps, unions, enums, fixed, every primitive and the logical types.
Logical types the writers honour are kept (`logical`); any other, or one on the wrong base
type, is ignored as the Avro specification requires, so no valid schema is refused.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from typing import Any, Final

import attrs

from connector.core.types import ValueType


class Kind(enum.Enum):
    NULL = "null"
    BOOLEAN = "boolean"
    INT = "int"
    LONG = "long"
    FLOAT = "float"
    DOUBLE = "double"
    STRING = "string"
    BYTES = "bytes"
    FIXED = "fixed"
    ENUM = "enum"
    RECORD = "record"
    ARRAY = "array"
    MAP = "map"
    UNION = "union"


PRIMITIVE_KINDS: Final = frozenset({Kind.NULL, Kind.BOOLEAN, Kind.INT, Kind.LONG, Kind.FLOAT,
                                    Kind.DOUBLE, Kind.STRING, Kind.BYTES})
# The primitive types a value can have (null carries nothing).
PRIMITIVES: Final = frozenset(k.value for k in PRIMITIVE_KINDS if k is not Kind.NULL)
NAMED_KINDS: Final = frozenset({Kind.RECORD, Kind.ENUM, Kind.FIXED})
# Timestamp logical types -> how many schema units make one millisecond.
TIMESTAMP_UNITS: Final = {
    "timestamp-millis": 1, "local-timestamp-millis": 1,
    "timestamp-micros": 1_000, "local-timestamp-micros": 1_000,
    "timestamp-nanos": 1_000_000, "local-timestamp-nanos": 1_000_000,
}
# Logical types besides timestamps and decimals -> the base type they are defined on.
PLAIN_LOGICAL: Final = {"date": "int", "time-millis": "int", "time-micros": "long",
                        "uuid": "string"}
# Logical type -> the base kinds it is defined on (elsewhere it is ignored).
_LOGICAL_BASES: Final = {
    **{name: (Kind.LONG,) for name in TIMESTAMP_UNITS},
    "date": (Kind.INT,),
    "time-millis": (Kind.INT,),
    "time-micros": (Kind.LONG,),
    "uuid": (Kind.STRING,),
    "decimal": (Kind.BYTES, Kind.FIXED),
    "duration": (Kind.FIXED,),
}
_SCALAR_VALUE_TYPES: Final = {
    Kind.BOOLEAN: ValueType.BOOLEAN, Kind.INT: ValueType.LONG, Kind.LONG: ValueType.LONG,
    Kind.FLOAT: ValueType.DOUBLE, Kind.DOUBLE: ValueType.DOUBLE, Kind.STRING: ValueType.STRING,
    Kind.BYTES: ValueType.STRING, Kind.FIXED: ValueType.STRING, Kind.ENUM: ValueType.STRING,
}


@attrs.define(eq=False)
class AvroType:
    """One Avro type. Compared by identity: a recursive record refers to itself."""

    kind: Kind
    name: str | None = None  # full name of a record, enum or fixed
    logical: str | None = None  # a logical type valid on this base type
    symbols: tuple[str, ...] = ()  # enum
    size: int = 0  # fixed
    precision: int = 0  # decimal
    scale: int = 0  # decimal
    items: AvroType | None = None  # array items, map values
    branches: tuple[AvroType, ...] = ()  # union
    fields: tuple[FieldSpec, ...] = ()  # record (filled in after creation: it may recurse)
    schema: Any = attrs.field(default=None, repr=False)  # fastavro's parsed form of this type

    @property
    def branch_name(self) -> str:
        """How fastavro's tuple notation names this type as a union branch."""
        if self.kind in NAMED_KINDS:
            assert self.name is not None
            return self.name
        return self.kind.value

    @functools.cached_property
    def value_type(self) -> ValueType | None:
        """The expression type that fills a scalar of this type; None for records, arrays,
        maps and unions (filled by shape), and for null."""
        if self.logical in TIMESTAMP_UNITS:
            return ValueType.TIMESTAMP
        if self.logical == "decimal":
            return ValueType.DOUBLE
        if self.logical == "duration":
            return ValueType.LONG
        return _SCALAR_VALUE_TYPES.get(self.kind)

    @property
    def units_per_ms(self) -> int:
        """For timestamps: schema units in one epoch millisecond (1, 1000 or 1_000_000)."""
        return TIMESTAMP_UNITS.get(self.logical or "", 1)

    @functools.cached_property
    def nullable_of(self) -> tuple[AvroType, int] | None:
        """For a union of null and exactly one other type: (that type, position of null)."""
        if self.kind is not Kind.UNION or len(self.branches) != 2:
            return None
        kinds = [b.kind for b in self.branches]
        if kinds.count(Kind.NULL) != 1:
            return None
        null = kinds.index(Kind.NULL)
        return self.branches[1 - null], null

    @property
    def is_scalar(self) -> bool:
        """Held in one numpy array (see connector.core.columns), logical decimal excepted."""
        return self.kind in _SCALAR_VALUE_TYPES and self.logical != "decimal"

    def describe(self) -> str:
        """Short text for messages: `long (timestamp-millis)`, `record io.x.User`, ..."""
        if self.kind is Kind.UNION:
            return "union [" + ", ".join(b.describe() for b in self.branches) + "]"
        if self.kind is Kind.ARRAY and self.items is not None:
            return f"array of {self.items.describe()}"
        if self.kind is Kind.MAP and self.items is not None:
            return f"map of {self.items.describe()}"
        text = self.kind.value if self.name is None else f"{self.kind.value} {self.name}"
        return text if self.logical is None else f"{text} ({self.logical})"


@attrs.frozen
class FieldSpec:
    """A field of a record type, with what the model validator and the encoders ask of it.

    `type` is the declared type (a union included); the other attributes describe the field's
    value: for a union of null and one type (`nullable`), that type's."""

    name: str
    type: AvroType
    has_default: bool = False
    default: Any = None

    @functools.cached_property
    def base(self) -> AvroType:
        """The type of a non-null value: the declared one, or the non-null branch of a union
        of null and one type."""
        pair = self.type.nullable_of
        return self.type if pair is None else pair[0]

    @functools.cached_property
    def nullable(self) -> bool:
        return self.type.nullable_of is not None

    @property
    def null_branch(self) -> int | None:
        """Position of null in a union of null and one type."""
        pair = self.type.nullable_of
        return None if pair is None else pair[1]

    @functools.cached_property
    def value_type(self) -> ValueType | None:
        """The expression type that fills the field (its value type), None for a record,
        array, map or general union."""
        return self.base.value_type

    @property
    def avro_type(self) -> str:
        """The value's base Avro type: a primitive name, enum, fixed, record, array, map or
        union (a union of more than null and one type)."""
        return self.base.kind.value

    @property
    def logical_type(self) -> str | None:
        return self.base.logical

    @property
    def symbols(self) -> tuple[str, ...] | None:
        return self.base.symbols if self.base.kind is Kind.ENUM else None

    @property
    def units_per_ms(self) -> int:
        """For timestamp fields: schema units in one epoch millisecond (1, 1000 or 1_000_000)."""
        return self.base.units_per_ms


def avro_type(schema: Any, named: Mapping[str, Any]) -> AvroType:
    """The type tree of fastavro's parsed schema `schema`; `named` is its `__named_schemas`."""
    return _Builder(named).build(schema)


class _Builder:
    def __init__(self, named: Mapping[str, Any]) -> None:
        self.named = named
        self.done: dict[str, AvroType] = {}  # named types already built (or being built)

    def build(self, schema: Any) -> AvroType:
        if isinstance(schema, list):
            return AvroType(Kind.UNION, branches=tuple(self.build(b) for b in schema),
                            schema=schema)
        if isinstance(schema, str):
            if schema in self.done:
                return self.done[schema]
            if schema in self.named:
                return self.build(self.named[schema])
            return AvroType(Kind(schema), schema=schema)
        kind_text = schema["type"]
        if isinstance(kind_text, dict | list) or kind_text in self.named:
            return self.build(kind_text)  # {"type": {...}} or {"type": "a.Name"}
        kind = Kind.RECORD if kind_text == "error" else Kind(kind_text)
        name = schema.get("name")
        if name is not None and name in self.done:
            return self.done[name]
        t = AvroType(kind, name=name, schema=schema)
        if name is not None:
            self.done[name] = t
        if kind is Kind.RECORD:
            t.fields = tuple(FieldSpec(str(f["name"]), self.build(f["type"]), "default" in f,
                                       f.get("default")) for f in schema["fields"])
        elif kind is Kind.ENUM:
            t.symbols = tuple(str(s) for s in schema["symbols"])
        elif kind is Kind.FIXED:
            t.size = int(schema["size"])
        elif kind is Kind.ARRAY:
            t.items = self.build(schema["items"])
        elif kind is Kind.MAP:
            t.items = self.build(schema["values"])
        logical = schema.get("logicalType")
        if isinstance(logical, str) and kind in _LOGICAL_BASES.get(logical, ()):
            if logical == "decimal":
                t.precision = int(schema.get("precision", 0))
                t.scale = int(schema.get("scale", 0))
            if logical != "duration" or t.size == 12:
                t.logical = logical
        return t
