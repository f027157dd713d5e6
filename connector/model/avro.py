"""Avro value schemas: load `schemas/*.avsc`, check the encoder can write them, describe fields.

Part of what a model is: validation checks every emitted field against them.

Supported (everything the columnar encoder writes): a top-level record whose fields are
null/boolean/int/long/float/double/string/bytes, enums, a union of null with one of those, and the
logical types timestamp-millis/-micros/-nanos (and local-), date, time-millis/-micros and uuid.
Anything else is rejected at load time with the file and field named, so a connector never starts
with a schema it cannot write.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import attrs
import fastavro
from fastavro.schema import SchemaParseException, UnknownType

from connector.core.types import ValueType
from connector.errors import Problem, UserError

PRIMITIVES: Final = frozenset({"boolean", "int", "long", "float", "double", "string", "bytes"})
_VALUE_TYPE: Final[dict[str, ValueType]] = {
    "boolean": ValueType.BOOLEAN,
    "int": ValueType.LONG,
    "long": ValueType.LONG,
    "float": ValueType.DOUBLE,
    "double": ValueType.DOUBLE,
    "string": ValueType.STRING,
    "bytes": ValueType.STRING,
    "enum": ValueType.STRING,
}
# Timestamp logical types -> how many schema units make one millisecond.
_TIMESTAMP_UNITS: Final = {
    "timestamp-millis": 1,
    "local-timestamp-millis": 1,
    "timestamp-micros": 1_000,
    "local-timestamp-micros": 1_000,
    "timestamp-nanos": 1_000_000,
    "local-timestamp-nanos": 1_000_000,
}
# Logical types whose values the encoder writes as their plain base type.
_PLAIN_LOGICAL: Final = {
    "date": "int",
    "time-millis": "int",
    "time-micros": "long",
    "uuid": "string",
}
_REJECTED_LOGICAL: Final = {
    "decimal": "use a long of minor units (cents) or a double",
    "duration": "use a long of milliseconds",
}


_PARSE_ERRORS = (SchemaParseException, UnknownType, ValueError, TypeError, KeyError, AttributeError)


class UnsupportedSchemaError(ValueError):
    """A valid Avro schema that uses a feature the columnar encoder does not write."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


@attrs.frozen
class FieldSpec:
    """One field of a value schema, as the model validator and the encoder see it."""

    name: str
    value_type: ValueType  # the expression type that fills the field
    avro_type: str  # base Avro type: a primitive name or "enum"
    nullable: bool = False  # a union of null and `avro_type`
    null_branch: int | None = None  # position of "null" in the union (0 or 1)
    logical_type: str | None = None
    symbols: tuple[str, ...] | None = None  # enum symbols, in schema order
    has_default: bool = False
    default: Any = None

    @property
    def units_per_ms(self) -> int:
        """For timestamp fields: schema units in one epoch millisecond (1, 1000 or 1_000_000)."""
        return _TIMESTAMP_UNITS.get(self.logical_type or "", 1)


@attrs.frozen
class LoadedSchema:
    """One `.avsc` file: its names, its text for the registry and its parsed form for encoding."""

    name: str  # file stem, e.g. "balance"
    fullname: str  # record full name, e.g. "io.dogeconnect.banking.Balance"
    path: Path
    schema_str: str  # compact JSON of the file, what gets registered
    parsed: dict[str, Any] = attrs.field(eq=False, repr=False)  # fastavro.parse_schema output
    fields: tuple[FieldSpec, ...] = attrs.field(eq=False, repr=False)


@attrs.frozen
class SchemaCatalog:
    """All schemas of a directory, looked up by file stem or record full name."""

    schemas: tuple[LoadedSchema, ...]
    directory: Path | None = None

    def get(self, name: str) -> LoadedSchema:
        """The schema called `name` (stem or full name); UserError listing known ones if none."""
        for s in self.schemas:
            if name in (s.name, s.fullname):
                return s
        known = ", ".join(s.name for s in self.schemas) or "none"
        where = f" in {self.directory}" if self.directory else ""
        raise UserError(f"unknown schema {name!r}{where}; known schemas: {known}")

    def __contains__(self, name: object) -> bool:
        return any(name in (s.name, s.fullname) for s in self.schemas)

    def __iter__(self) -> Iterator[LoadedSchema]:
        return iter(self.schemas)

    def __len__(self) -> int:
        return len(self.schemas)


def load_schema(path: str | Path) -> LoadedSchema:
    """Read, parse and check one `.avsc` file; UserError naming the file on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UserError([Problem(file=str(path), message=f"cannot read schema file: {e}")]) from e
    return parse_schema_text(text, path)


def parse_schema_text(text: str, path: str | Path = "<schema>") -> LoadedSchema:
    """Parse schema JSON text as if it were the file `path`."""
    path = Path(path)
    file = str(path)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        msg = f"invalid JSON: {e.msg} (line {e.lineno}, column {e.colno})"
        raise UserError([Problem(file=file, line=e.lineno, message=msg)]) from e
    return schema_from_dict(raw, path)


def schema_from_dict(
    raw: Any, path: str | Path = "<inline>", name: str | None = None
) -> LoadedSchema:
    """Check and parse a schema given as data (e.g. inline in a model file `path`).

    `name` defaults to the stem of `path`; any problem is a UserError naming `path`.
    """
    path = Path(path)
    file = str(path)
    if not isinstance(raw, dict) or raw.get("type") != "record":
        msg = 'a value schema must be an Avro record ({"type": "record", ...})'
        raise UserError([Problem(file=file, message=msg)])
    if not isinstance(raw.get("fields"), list):
        raise UserError([Problem(file=file, message='a record needs a "fields" list')])
    if not raw["fields"]:
        raise UserError([Problem(file=file, message="a value schema needs at least one field "
                                 "(a record without fields carries nothing)")])
    text = json.dumps(raw, separators=(",", ":"), ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        msg = f"the schema holds {text[e.start]!r}, a lone surrogate, which is not valid Unicode"
        raise UserError([Problem(file=file, message=msg)]) from None
    try:
        parsed = _parse(raw)
    except _PARSE_ERRORS as e:
        raise UserError([Problem(file=file, message=f"invalid Avro schema: {_describe(e)}")]) from e
    try:
        specs = field_specs(parsed)
    except UnsupportedSchemaError as e:
        where = f"field {e.field!r}: " if e.field else ""
        raise UserError([Problem(file=file, message=f"{where}{e}")]) from e
    return LoadedSchema(
        name=name or path.stem,
        fullname=str(parsed["name"]),
        path=path,
        schema_str=text,
        parsed=parsed,
        fields=tuple(specs),
    )


def load_schemas(directory: str | Path) -> SchemaCatalog:
    """Load every `*.avsc` of `directory`; one UserError listing every bad file."""
    directory = Path(directory)
    if not directory.is_dir():
        raise UserError([Problem(file=str(directory), message="schema directory does not exist")])
    loaded: list[LoadedSchema] = []
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.avsc")):
        try:
            loaded.append(load_schema(path))
        except UserError as e:
            problems.extend(e.problems)
    by_fullname: dict[str, LoadedSchema] = {}
    for s in loaded:
        other = by_fullname.setdefault(s.fullname, s)
        if other is not s:
            msg = f"record {s.fullname} is also defined in {other.path.name}; names must be unique"
            problems.append(Problem(file=str(s.path), message=msg))
    if problems:
        raise UserError(problems)
    return SchemaCatalog(tuple(loaded), directory)


def field_specs(schema: Mapping[str, Any]) -> list[FieldSpec]:
    """Describe each field of a record schema (raw or parsed); UnsupportedSchemaError if not."""
    schema = parsed_schema(schema)
    if schema.get("type") != "record":
        raise UnsupportedSchemaError(f"top-level type must be a record, not {schema.get('type')!r}")
    named: Mapping[str, Any] = schema.get("__named_schemas", {})
    return [_field_spec(f, named) for f in schema["fields"]]


def parsed_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """fastavro's parsed form of a schema given raw or already parsed."""
    if schema.get("__fastavro_parsed"):
        return dict(schema)
    return _parse(dict(schema))


def _parse(raw: dict[str, Any]) -> dict[str, Any]:
    """fastavro's parsed form, with a fresh table of named types per schema."""
    parsed = fastavro.parse_schema(raw, named_schemas={})
    assert isinstance(parsed, dict)
    return parsed


def _field_spec(field: Mapping[str, Any], named: Mapping[str, Any]) -> FieldSpec:
    name = str(field["name"])
    t = field["type"]
    nullable, null_branch = False, None
    if isinstance(t, list):
        branches = [_resolve(b, named) for b in t]
        if len(branches) != 2 or "null" not in branches or branches[0] == branches[1]:
            shown = json.dumps(t)
            raise UnsupportedSchemaError(
                f"union {shown} is not supported; only a union of null and one type is", name
            )
        null_branch = branches.index("null")
        nullable, t = True, branches[1 - null_branch]
    t = _resolve(t, named)
    base, logical, symbols = _base_type(t, name)
    value_type = _VALUE_TYPE[base]
    if logical in _TIMESTAMP_UNITS and base == "long":
        value_type = ValueType.TIMESTAMP
    return FieldSpec(
        name=name,
        value_type=value_type,
        avro_type=base,
        nullable=nullable,
        null_branch=null_branch,
        logical_type=logical,
        symbols=symbols,
        has_default="default" in field,
        default=field.get("default"),
    )


def _resolve(t: Any, named: Mapping[str, Any]) -> Any:
    """Replace a reference to a named type (an enum defined earlier) by its definition."""
    return named.get(t, t) if isinstance(t, str) else t


def _base_type(t: Any, field: str) -> tuple[str, str | None, tuple[str, ...] | None]:
    """(base Avro type, logical type, enum symbols) of a non-union field type."""
    if isinstance(t, str):
        if t in PRIMITIVES:
            return t, None, None
        raise UnsupportedSchemaError(_unsupported(t), field)
    if not isinstance(t, Mapping):
        raise UnsupportedSchemaError(f"unsupported type {json.dumps(t)}", field)
    kind = t.get("type")
    if kind == "enum":
        return "enum", None, tuple(str(s) for s in t["symbols"])
    if not isinstance(kind, str) or kind not in PRIMITIVES:
        raise UnsupportedSchemaError(_unsupported(kind), field)
    logical = t.get("logicalType")
    if logical is None:
        return kind, None, None
    logical = str(logical)
    if logical in _REJECTED_LOGICAL:
        raise UnsupportedSchemaError(
            f"logical type {logical!r} is not supported; {_REJECTED_LOGICAL[logical]}", field
        )
    expected = "long" if logical in _TIMESTAMP_UNITS else _PLAIN_LOGICAL.get(logical)
    if expected is not None and kind != expected:
        raise UnsupportedSchemaError(
            f"logical type {logical!r} needs base type {expected!r}, not {kind!r}", field
        )
    # Unknown logical types are ignored, as the Avro specification requires.
    return kind, (logical if expected is not None else None), None


def _unsupported(kind: Any) -> str:
    supported = "boolean/int/long/float/double/string/bytes, enum, or a union of null and one"
    if kind == "null":
        return 'a field of type null carries nothing; use a union such as ["null", "string"]'
    return f"type {kind!r} is not supported by the encoder (supported: {supported})"


def _describe(e: Exception) -> str:
    if isinstance(e, KeyError):
        return f"missing attribute {e.args[0]!r}" if e.args else "missing attribute"
    return str(e) or type(e).__name__
