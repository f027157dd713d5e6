"""The PostgreSQL destination's type mapping and binary COPY encoding, against the real server."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import fastavro
import numpy as np
import psycopg
import pytest

from connector.core.batch import EventColumns, TickBatch
from connector.core.checkpoint import ShardCheckpoint
from connector.core.columns import Column
from connector.destinations.postgres.columns import PgType, table_columns
from connector.destinations.postgres.destination import PostgresDestination
from connector.destinations.postgres.settings import postgres_settings
from connector.model.avro import LoadedSchema, record_type

INNER = {"type": "record", "name": "Inner", "fields": [{"name": "x", "type": "long"},
                                                        {"name": "tag", "type": "string"}]}
ALL_TYPES: dict[str, Any] = {
    "type": "record", "name": "All", "namespace": "test.pg", "fields": [
        {"name": "b", "type": "boolean"},
        {"name": "i", "type": "int"},
        {"name": "l", "type": "long"},
        {"name": "f", "type": "float"},
        {"name": "d", "type": "double"},
        {"name": "s", "type": "string"},
        {"name": "by", "type": "bytes"},
        {"name": "fx", "type": {"type": "fixed", "name": "Four", "size": 4}},
        {"name": "e", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "tsu", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "lts", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "u", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "rec", "type": INNER},
        {"name": "arr", "type": {"type": "array", "items": "string"}},
        {"name": "m", "type": {"type": "map", "values": "double"}},
        {"name": "multi", "type": ["null", "long", "string"]},
        {"name": "nl", "type": ["null", "long"]},
        {"name": "ns", "type": ["string", "null"]},
        {"name": "nd", "type": ["null", "double"]},
        {"name": "nb", "type": ["null", "boolean"]},
        {"name": "nts", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}]},
        {"name": "nrec", "type": ["null", "test.pg.Inner"]},
        {"name": "ne", "type": ["null", "Color"]},
    ]}
EXPECTED_TYPES = {
    "b": PgType.BOOLEAN, "i": PgType.INTEGER, "l": PgType.BIGINT, "f": PgType.REAL,
    "d": PgType.DOUBLE, "s": PgType.TEXT, "by": PgType.BYTEA, "fx": PgType.BYTEA,
    "e": PgType.TEXT, "ts": PgType.TIMESTAMPTZ, "tsu": PgType.TIMESTAMPTZ,
    "lts": PgType.TIMESTAMP, "day": PgType.DATE, "tm": PgType.TIME, "u": PgType.UUID,
    "rec": PgType.JSONB, "arr": PgType.JSONB, "m": PgType.JSONB, "multi": PgType.JSONB,
    "nl": PgType.BIGINT, "ns": PgType.TEXT, "nd": PgType.DOUBLE, "nb": PgType.BOOLEAN,
    "nts": PgType.TIMESTAMPTZ, "nrec": PgType.JSONB, "ne": PgType.TEXT,
}
UTC = dt.UTC
MS = 1_700_000_000_123  # 2023-11-14T22:13:20.123Z
U1, U2, U3 = uuid.UUID(int=1), uuid.uuid5(uuid.NAMESPACE_DNS, "doge"), uuid.UUID(int=2**128 - 1)


def _schema(raw: dict[str, Any], name: str = "all_types") -> LoadedSchema:
    """A schema as the model loader holds it."""
    parsed = fastavro.parse_schema(raw, named_schemas={})
    assert isinstance(parsed, dict)
    return LoadedSchema(name=name, fullname=raw["name"], path=Path(f"{name}.avsc"),
                        schema_str=json.dumps(raw), parsed=parsed, type=record_type(parsed))


def _obj(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _rows() -> tuple[dict[str, Column], list[dict[str, Any]]]:
    """Three rows of columns as the engine gives them, and what PostgreSQL must hand back."""
    columns: dict[str, Column] = {
        "b": np.array([True, False, True]),
        "i": np.array([-(2**31), 0, 2**31 - 1], dtype=np.int64),
        "l": np.array([-(2**63), 42, 2**63 - 1], dtype=np.int64),
        "f": np.array([1.5, -0.25, 3e38]),
        "d": np.array([np.pi, -1e-300, 1e300]),
        "s": _obj(["plain", "zażółć gęślą jaźń ✓", ""]),
        "by": _obj([b"\x00\x01\xff", b"", bytes(range(256))]),
        "fx": _obj([b"abcd", b"\x00\x00\x00\x00", b"\xff\xfe\xfd\xfc"]),
        "e": _obj(["RED", "GREEN", "RED"]),
        "ts": np.array([MS, 0, -86_400_000], dtype=np.int64),
        "tsu": np.array([MS * 1000 + 456, 1, 0], dtype=np.int64),
        "lts": np.array([MS, 0, 1], dtype=np.int64),
        "day": np.array([19_000, 0, -1], dtype=np.int64),
        "tm": np.array([0, 45_296_789, 86_399_999], dtype=np.int64),
        "u": _obj([str(U1), str(U2), str(U3)]),
        "rec": _obj([{"x": 1, "tag": "a"}, {"x": -2, "tag": "ü"}, {"x": 0, "tag": ""}]),
        "arr": _obj([["a", "b"], [], ["\"quoted\""]]),
        "m": _obj([{"k": 1.5}, {}, {"a": 0.0, "b": -2.0}]),
        "multi": _obj([None, 7, "seven"]),
        "nl": _obj([None, 5, -(2**63)]),
        "ns": _obj(["x", None, "ÿ"]),
        "nd": _obj([0.5, None, None]),
        "nb": _obj([None, True, False]),
        "nts": _obj([MS, None, 0]),
        "nrec": _obj([None, {"x": 3, "tag": "z"}, None]),
        "ne": _obj(["GREEN", None, "RED"]),
    }
    stamp = dt.datetime(2023, 11, 14, 22, 13, 20, 123_000, tzinfo=UTC)
    epoch = dt.datetime(1970, 1, 1, tzinfo=UTC)
    expected = [
        {"b": True, "i": -(2**31), "l": -(2**63), "f": 1.5, "d": np.pi, "s": "plain",
         "by": b"\x00\x01\xff", "fx": b"abcd", "e": "RED", "ts": stamp,
         "tsu": stamp + dt.timedelta(microseconds=456), "lts": stamp.replace(tzinfo=None),
         "day": dt.date(2022, 1, 8), "tm": dt.time(0, 0), "u": U1,
         "rec": {"x": 1, "tag": "a"}, "arr": ["a", "b"], "m": {"k": 1.5}, "multi": None,
         "nl": None, "ns": "x", "nd": 0.5, "nb": None, "nts": stamp, "nrec": None, "ne": "GREEN"},
        {"b": False, "i": 0, "l": 42, "f": -0.25, "d": -1e-300, "s": "zażółć gęślą jaźń ✓",
         "by": b"", "fx": b"\x00" * 4, "e": "GREEN", "ts": epoch,
         "tsu": epoch + dt.timedelta(microseconds=1), "lts": epoch.replace(tzinfo=None),
         "day": dt.date(1970, 1, 1), "tm": dt.time(12, 34, 56, 789_000), "u": U2,
         "rec": {"x": -2, "tag": "ü"}, "arr": [], "m": {}, "multi": 7, "nl": 5, "ns": None,
         "nd": None, "nb": True, "nts": None, "nrec": {"x": 3, "tag": "z"}, "ne": None},
        {"b": True, "i": 2**31 - 1, "l": 2**63 - 1, "f": pytest.approx(3e38, rel=1e-6),
         "d": 1e300, "s": "", "by": bytes(range(256)), "fx": b"\xff\xfe\xfd\xfc", "e": "RED",
         "ts": epoch - dt.timedelta(days=1), "tsu": epoch,
         "lts": (epoch + dt.timedelta(milliseconds=1)).replace(tzinfo=None),
         "day": dt.date(1969, 12, 31), "tm": dt.time(23, 59, 59, 999_000), "u": U3,
         "rec": {"x": 0, "tag": ""}, "arr": ["\"quoted\""], "m": {"a": 0.0, "b": -2.0},
         "multi": "seven", "nl": -(2**63), "ns": "ÿ", "nd": None, "nb": False, "nts": epoch,
         "nrec": None, "ne": "RED"},
    ]
    return columns, expected


def test_type_mapping_of_every_avro_type() -> None:
    """Each Avro type maps to its documented column type; nullable unions allow NULL."""
    columns = {c.name: c for c in table_columns(_schema(ALL_TYPES))}
    assert {n: c.pg_type for n, c in columns.items() if n in EXPECTED_TYPES} == EXPECTED_TYPES
    assert [n for n in columns if n not in EXPECTED_TYPES] == ["doge_user", "doge_time",
                                                               "doge_tick"]
    nullable = {n for n, c in columns.items() if c.nullable}
    assert nullable == {"multi", "nl", "ns", "nd", "nb", "nts", "nrec", "ne"}


@pytest.mark.integration
def test_round_trip_of_every_column_type(pg_database: str) -> None:
    """Values of every mapped type, nulls included, read back from PostgreSQL unchanged."""
    schema = _schema(ALL_TYPES)
    settings = postgres_settings({}, {}, {"all_types": schema}, pg_database)
    destination = PostgresDestination(settings, "types", {"all_types": schema}, [0])
    columns, expected = _rows()
    users = np.array([3, 5, 9], dtype=np.int64)
    times = np.array([MS, MS + 1, MS + 2], dtype=np.int64)
    try:
        assert destination.committed() is None
        destination.begin("fp", 0)
        destination.write(TickBatch((0,), 7, (EventColumns("all_types", "t", users, times,
                                                        columns),)))
        destination.commit({0: ShardCheckpoint(8)})
    finally:
        destination.close()
    names = list(EXPECTED_TYPES)
    with psycopg.connect(pg_database) as conn:
        rows = conn.execute(
            f"SELECT {', '.join(names)}, doge_user, doge_time, doge_tick FROM all_types "
            "ORDER BY doge_user").fetchall()
    assert len(rows) == 3
    for row, want, user, ms in zip(rows, expected, users.tolist(), times.tolist(), strict=True):
        got = dict(zip(names, row[:len(names)], strict=True))
        assert got == want
        start = dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(milliseconds=ms)
        assert row[len(names):] == (user, start, 7)
