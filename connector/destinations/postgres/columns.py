"""Table columns of a topic, from its Avro value schema: the documented type mapping.

Read from the raw Avro field types (not the encoder's `FieldSpec`), so that nested records, arrays,
maps and multi-branch unions, which the encoder may not write yet, still map (to jsonb) and their
values arrive as Python objects in object columns.

    Avro                                      PostgreSQL
    boolean                                   boolean
    int                                       integer
    long                                      bigint
    float / double                            real / double precision
    string, enum                              text
    bytes, fixed                              bytea
    {"long", timestamp-millis/-micros/-nanos} timestamp with time zone
    {"long", local-timestamp-*}               timestamp without time zone
    {"int", date}                             date
    {"int"/"long", time-millis/-micros}       time without time zone
    {"string", uuid}                          uuid
    record, array, map, union of 2+ types     jsonb
    ["null", T]                               T, NULL allowed (every other column is NOT NULL)

Every table also gets `doge_user bigint` (the user id, the key), `doge_time timestamptz` (the
event time) and `doge_tick bigint` (the tick that produced the row).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Final

import attrs

from connector.errors import UserError
from connector.model.avro import LoadedSchema

USER_COLUMN: Final = "doge_user"
TIME_COLUMN: Final = "doge_time"
TICK_COLUMN: Final = "doge_tick"
SEQ_COLUMN: Final = "doge_seq"  # only in the staging table of an upsert topic: order in the commit
# PostgreSQL truncates longer identifiers; we refuse them instead (a silent rename confuses).
MAX_IDENTIFIER: Final = 63


class PgType(enum.Enum):
    """A column type, named as PostgreSQL's `format_type` prints it (compared with the catalog)."""

    BOOLEAN = "boolean"
    INTEGER = "integer"
    BIGINT = "bigint"
    REAL = "real"
    DOUBLE = "double precision"
    TEXT = "text"
    BYTEA = "bytea"
    TIMESTAMPTZ = "timestamp with time zone"
    TIMESTAMP = "timestamp without time zone"
    DATE = "date"
    TIME = "time without time zone"
    UUID = "uuid"
    JSONB = "jsonb"


class Source(enum.Enum):
    """Where a column's values come from."""

    FIELD = "field"  # a field of the event's value
    USER = "user"  # EventColumns.user_ids
    TIME = "time"  # EventColumns.timestamps (epoch milliseconds)
    TICK = "tick"  # the tick of the batch


@attrs.frozen
class Column:
    """One table column and how to fill it."""

    name: str
    pg_type: PgType
    nullable: bool
    source: Source
    # For FIELD timestamps/times: schema units per millisecond (1 millis, 1000 micros, 10^6 nanos).
    units_per_ms: int = 1


_PRIMITIVE: Final = {
    "boolean": PgType.BOOLEAN, "int": PgType.INTEGER, "long": PgType.BIGINT,
    "float": PgType.REAL, "double": PgType.DOUBLE, "string": PgType.TEXT, "bytes": PgType.BYTEA,
    "enum": PgType.TEXT, "fixed": PgType.BYTEA,
    "record": PgType.JSONB, "array": PgType.JSONB, "map": PgType.JSONB,
}
# Logical type -> (PostgreSQL type, schema units per millisecond).
_LOGICAL: Final = {
    "timestamp-millis": (PgType.TIMESTAMPTZ, 1),
    "timestamp-micros": (PgType.TIMESTAMPTZ, 1_000),
    "timestamp-nanos": (PgType.TIMESTAMPTZ, 1_000_000),
    "local-timestamp-millis": (PgType.TIMESTAMP, 1),
    "local-timestamp-micros": (PgType.TIMESTAMP, 1_000),
    "local-timestamp-nanos": (PgType.TIMESTAMP, 1_000_000),
    "date": (PgType.DATE, 1),
    "time-millis": (PgType.TIME, 1),
    "time-micros": (PgType.TIME, 1_000),
    "uuid": (PgType.UUID, 1),
}
META_COLUMNS: Final = (
    Column(USER_COLUMN, PgType.BIGINT, False, Source.USER),
    Column(TIME_COLUMN, PgType.TIMESTAMPTZ, False, Source.TIME),
    Column(TICK_COLUMN, PgType.BIGINT, False, Source.TICK),
)


def table_columns(schema: LoadedSchema) -> tuple[Column, ...]:
    """The schema's fields in order, then the three `doge_*` columns; UserError on a clash."""
    named: Mapping[str, Any] = schema.parsed.get("__named_schemas", {})
    columns = []
    for field in schema.parsed["fields"]:
        name = str(field["name"])
        pg_type, nullable, units = _map(field["type"], named, f"{schema.path}: field {name!r}")
        columns.append(Column(name, pg_type, nullable, Source.FIELD, units))
    names = {c.name for c in columns}
    for meta in (*META_COLUMNS, Column(SEQ_COLUMN, PgType.BIGINT, False, Source.TICK)):
        if meta.name in names:
            raise UserError(f"{schema.path}: field {meta.name!r} has the name of a column "
                            "doge-connect adds to every PostgreSQL table; rename the field")
    for name in names:
        check_identifier(name, f"{schema.path}: field {name!r}")
    return (*columns, *META_COLUMNS)


def check_identifier(name: str, where: str) -> None:
    if not name or len(name.encode()) > MAX_IDENTIFIER or "\x00" in name:
        raise UserError(f"{where}: {name!r} is not usable as a PostgreSQL identifier (1 to "
                        f"{MAX_IDENTIFIER} bytes)")


def _map(t: Any, named: Mapping[str, Any], where: str) -> tuple[PgType, bool, int]:
    """(type, nullable, units per ms) of one Avro field type."""
    if isinstance(t, list):
        branches = [b for b in t if b != "null"]
        nullable = len(branches) < len(t)
        if len(branches) == 1:
            pg_type, _, units = _map(branches[0], named, where)
            return pg_type, nullable, units
        return PgType.JSONB, nullable, 1  # a union of several types: its value as JSON
    if isinstance(t, str) and t in named:
        t = named[t]
    if isinstance(t, Mapping):
        logical = t.get("logicalType")
        if logical in _LOGICAL:
            pg_type, units = _LOGICAL[str(logical)]
            return pg_type, False, units
        if logical == "decimal":
            raise UserError(f"{where}: the decimal logical type has no PostgreSQL mapping yet; "
                            "use a long of minor units or a double")
        t = t.get("type")
        if isinstance(t, list | Mapping):
            return _map(t, named, where)
    if isinstance(t, str) and t in _PRIMITIVE:
        return _PRIMITIVE[t], False, 1
    raise UserError(f"{where}: Avro type {t!r} has no PostgreSQL column type")
