"""Avro value schemas: load `schemas/*.avsc`, parse them, describe their fields.

Part of what a model is: validation checks every emitted field against them.

Any valid Avro schema whose top level is a record is accepted: nested records (recursive ones
too), arrays, maps, unions, enums, fixed, bytes and the logical types (see avrotypes.py for the
type tree the validator, the engine and the encoders walk). fastavro's parser is the judge of
validity; its message names what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import fastavro
from fastavro.schema import SchemaParseException, UnknownType

from connector.errors import Problem, UserError
from connector.model.avrotypes import AvroType, FieldSpec, avro_type

__all__ = ["AvroType", "FieldSpec", "LoadedSchema", "SchemaCatalog", "field_specs",
           "load_schema", "load_schemas", "parse_schema_text", "parsed_schema", "record_type",
           "schema_from_dict"]

_PARSE_ERRORS = (SchemaParseException, UnknownType, ValueError, TypeError, KeyError, AttributeError)


@attrs.frozen
class LoadedSchema:
    """One `.avsc` file: its names, its text for the registry and its parsed form for encoding."""

    name: str  # file stem, e.g. "balance"
    fullname: str  # record full name, e.g. "io.dogeconnect.banking.Balance"
    path: Path
    schema_str: str  # compact JSON of the file, what gets registered
    parsed: dict[str, Any] = attrs.field(eq=False, repr=False)  # fastavro.parse_schema output
    type: AvroType = attrs.field(eq=False, repr=False)  # the record's type tree

    @property
    def fields(self) -> tuple[FieldSpec, ...]:
        return self.type.fields


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
    return LoadedSchema(
        name=name or path.stem,
        fullname=str(parsed["name"]),
        path=path,
        schema_str=text,
        parsed=parsed,
        type=record_type(parsed),
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
    """Describe each field of a record schema (raw or parsed)."""
    return list(record_type(schema).fields)


def record_type(schema: Mapping[str, Any]) -> AvroType:
    """The type tree of a record schema (raw or parsed); ValueError if it is not a record."""
    parsed = parsed_schema(schema)
    if parsed.get("type") not in ("record", "error"):
        raise ValueError(f"top-level type must be a record, not {parsed.get('type')!r}")
    return avro_type(parsed, parsed.get("__named_schemas", {}))


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


def _describe(e: Exception) -> str:
    if isinstance(e, KeyError):
        return f"missing attribute {e.args[0]!r}" if e.args else "missing attribute"
    return str(e) or type(e).__name__
