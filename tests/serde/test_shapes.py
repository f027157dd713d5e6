"""Nested shapes: the columnar encoder writes what fastavro writes (and the JSON format what
json.dumps writes), on generated schemas and values.

Hypothesis builds random record schemas (nested records, arrays, maps, unions, enums, fixed,
bytes, decimals, the logical types) and rows of values for them; the rows are turned into the
column representation by this file's own builder, encoded, and compared byte for byte with
fastavro writing the same rows (unions in tuple notation, naming the branch the column holds).
"""

from __future__ import annotations

import decimal
import io
import itertools
from collections.abc import Callable
from typing import Any

import fastavro
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.core.columns import (
    Column,
    DecimalColumn,
    ListColumn,
    MapColumn,
    StructColumn,
    UnionColumn,
    list_offsets,
    to_python,
)
from connector.model.avro import record_type, schema_from_dict
from connector.model.avrotypes import AvroType, Kind
from connector.serde.encoder import SMALL_BATCH, EncodeError, RecordEncoder
from connector.serde.jsonenc import JsonEncoder, json_text

Schema = Any

_SCALARS: list[Schema] = [
    "boolean", "int", "long", "float", "double", "string", "bytes",
    {"type": "int", "logicalType": "date"},
    {"type": "int", "logicalType": "time-millis"},
    {"type": "long", "logicalType": "time-micros"},
    {"type": "long", "logicalType": "timestamp-millis"},
    {"type": "long", "logicalType": "timestamp-micros"},
    {"type": "long", "logicalType": "local-timestamp-millis"},
    {"type": "string", "logicalType": "uuid"},
]  # fmt: skip


def _named(kind: str) -> st.SearchStrategy[Schema]:
    if kind == "enum":
        return st.lists(st.sampled_from("ABCDEFG"), min_size=1, max_size=4, unique=True).map(
            lambda s: {"type": "enum", "name": "?", "symbols": s})
    if kind == "fixed":
        return st.integers(1, 20).map(lambda n: {"type": "fixed", "name": "?", "size": n})
    return st.integers(1, 12).flatmap(lambda size: st.integers(1, _digits(size)).flatmap(
        lambda p: st.integers(0, p).map(lambda s: {
            "type": "fixed", "name": "?", "size": size, "logicalType": "decimal",
            "precision": p, "scale": s})))


def _digits(size: int) -> int:
    """Most decimal digits a fixed of `size` bytes holds (and our int64 columns: 18)."""
    return min(18, len(str(2 ** (8 * size - 1) - 1)) - 1)


_BYTES_DECIMAL = st.integers(1, 18).flatmap(lambda p: st.integers(0, p).map(
    lambda s: {"type": "bytes", "logicalType": "decimal", "precision": p, "scale": s}))
_LEAVES = st.one_of(st.sampled_from(_SCALARS), _named("enum"), _named("fixed"),
                    _named("decimal"), _BYTES_DECIMAL)


def _extend(inner: st.SearchStrategy[Schema]) -> st.SearchStrategy[Schema]:
    record = st.lists(inner, min_size=0, max_size=4).map(
        lambda ts: {"type": "record", "name": "?",
                    "fields": [{"name": f"f{i}", "type": t} for i, t in enumerate(ts)]})
    array = inner.map(lambda t: {"type": "array", "items": t})
    mapping = inner.map(lambda t: {"type": "map", "values": t})
    nullable = inner.filter(lambda t: not isinstance(t, list)).flatmap(
        lambda t: st.sampled_from([["null", t], [t, "null"]]))
    union = st.lists(inner.filter(lambda t: not isinstance(t, list)), min_size=1, max_size=4,
                     unique_by=_union_key).flatmap(
        lambda ts: st.booleans().map(lambda null: (["null"] if null else []) + ts))
    return st.one_of(record, array, mapping, nullable, union)


def _union_key(t: Schema) -> str:
    """Avro forbids two branches of one unnamed type; named types differ by (given) name."""
    if isinstance(t, str):
        return t
    if t["type"] in ("record", "enum", "fixed"):
        return f"named-{id(t)}"
    return str(t["type"])


TYPES = st.recursive(_LEAVES, _extend, max_leaves=8)
SCHEMAS = st.lists(TYPES, min_size=1, max_size=5).map(
    lambda ts: _name_all({"type": "record", "name": "?", "namespace": "gen",
                          "fields": [{"name": f"x{i}", "type": t} for i, t in enumerate(ts)]}))


def each_named(schema: Schema, rename: Callable[[dict[str, Any]], dict[str, Any]]) -> Schema:
    """The schema with `rename` applied to every record, enum and fixed type (depth first,
    outer types first), through unions, record fields, array items and map values."""
    if isinstance(schema, list):
        return [each_named(b, rename) for b in schema]
    if isinstance(schema, str):
        return schema
    out = rename(dict(schema)) if schema["type"] in ("record", "enum", "fixed") else dict(schema)
    if out["type"] == "record":
        out["fields"] = [{**f, "type": each_named(f["type"], rename)} for f in out["fields"]]
    elif out["type"] == "array":
        out["items"] = each_named(out["items"], rename)
    elif out["type"] == "map":
        out["values"] = each_named(out["values"], rename)
    return out


def _name_all(schema: Schema) -> Schema:
    """Give every named type a unique name (the strategies leave '?')."""
    counter = itertools.count()

    def name(t: dict[str, Any]) -> dict[str, Any]:
        if t.get("name") == "?":
            t["name"] = f"{t['type'].capitalize()}{next(counter)}"
        return t

    return each_named(schema, name)


def values_of(t: AvroType) -> st.SearchStrategy[Any]:
    """Python values of type `t` as fastavro's writer takes them (tagged union branches)."""
    kind = t.kind
    if kind is Kind.NULL:
        return st.none()
    if kind is Kind.UNION:
        return st.one_of(*[_tagged(b) for b in t.branches])
    if kind is Kind.RECORD:
        return st.fixed_dictionaries({f.name: values_of(f.type) for f in t.fields})
    if kind is Kind.ARRAY:
        assert t.items is not None
        return st.lists(values_of(t.items), max_size=4)
    if kind is Kind.MAP:
        assert t.items is not None
        return st.dictionaries(st.text(max_size=5), values_of(t.items), max_size=3)
    if t.logical == "decimal":
        bound = 10**t.precision - 1
        return st.integers(-bound, bound).map(lambda u: decimal.Decimal(u).scaleb(-t.scale))
    if t.logical == "uuid":
        return st.uuids().map(str)
    if t.logical == "time-millis":
        return st.integers(0, 86_399_999)
    if t.logical == "time-micros":
        return st.integers(0, 86_399_999_999)
    if kind is Kind.ENUM:
        return st.sampled_from(t.symbols)
    if kind is Kind.FIXED:
        return st.binary(min_size=t.size, max_size=t.size)
    return {
        Kind.BOOLEAN: st.booleans(),
        Kind.INT: st.integers(-(2**31), 2**31 - 1),
        Kind.LONG: st.integers(-(2**63), 2**63 - 1),
        Kind.FLOAT: st.floats(width=32, allow_nan=False),
        Kind.DOUBLE: st.floats(allow_nan=False),
        Kind.STRING: st.text(max_size=12),
        Kind.BYTES: st.binary(max_size=12),
    }[kind]


def _tagged(branch: AvroType) -> st.SearchStrategy[Any]:
    if branch.kind is Kind.NULL:
        return st.none()
    name = branch.branch_name
    return values_of(branch).map(lambda v: (name, v))


def column_of(t: AvroType, values: list[Any], plain_nulls: bool) -> Column:
    """This test's own builder of the column representation from Python values."""
    kind = t.kind
    if kind is Kind.NULL:
        return _objects(values)
    if kind is Kind.UNION:
        pair = t.nullable_of
        if pair is not None and pair[0].is_scalar and plain_nulls:
            return _objects([None if v is None else v[1] for v in values])
        branch = np.array([_branch(t, v) for v in values], dtype=np.int8)
        parts: list[Column | None] = []
        for k, b in enumerate(t.branches):
            mine = [v[1] for v in values if v is not None and _branch(t, v) == k]
            parts.append(None if b.kind is Kind.NULL else column_of(b, mine, plain_nulls))
        return UnionColumn(branch, tuple(b.branch_name for b in t.branches), tuple(parts))
    if kind is Kind.RECORD:
        if not values:  # no rows: no field columns needed (a recursive type never ends)
            return StructColumn({}, 0)
        return StructColumn({f.name: column_of(f.type, [v[f.name] for v in values], plain_nulls)
                             for f in t.fields}, len(values))
    if kind is Kind.ARRAY:
        assert t.items is not None
        flat = [item for v in values for item in v]
        return ListColumn(list_offsets([len(v) for v in values]),
                          column_of(t.items, flat, plain_nulls))
    if kind is Kind.MAP:
        assert t.items is not None
        keys = [k for v in values for k in v]
        flat = [item for v in values for item in v.values()]
        return MapColumn(list_offsets([len(v) for v in values]), _objects(keys),
                         column_of(t.items, flat, plain_nulls))
    if t.logical == "decimal":
        unscaled = [int(v.scaleb(t.scale)) for v in values]
        return DecimalColumn(np.array(unscaled, dtype=np.int64), t.scale)
    if kind is Kind.BOOLEAN:
        return np.array(values, dtype=bool)
    if kind in (Kind.INT, Kind.LONG):
        return np.array(values, dtype=np.int64)
    if kind in (Kind.FLOAT, Kind.DOUBLE):
        return np.array(values, dtype=np.float64)
    return _objects(values)


def _branch(t: AvroType, value: Any) -> int:
    if value is None:
        return next(k for k, b in enumerate(t.branches) if b.kind is Kind.NULL)
    return next(k for k, b in enumerate(t.branches) if b.branch_name == value[0])


def _objects(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def fastavro_bytes(parsed: Any, row: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, parsed, row)
    return out.getvalue()


@st.composite
def batches(draw: st.DrawFn) -> tuple[Schema, list[dict[str, Any]], bool]:
    schema = draw(SCHEMAS)
    t = record_type(schema)
    rows = draw(st.lists(values_of(t), min_size=1, max_size=5))
    return schema, rows, draw(st.booleans())


def check_round_trip(schema: Schema, rows: list[dict[str, Any]], plain_nulls: bool) -> None:
    encoder = RecordEncoder(schema, schema_id=7)
    t = encoder.type
    parsed = fastavro.parse_schema(schema)
    # Small batches go through fastavro; a tiled batch above SMALL_BATCH through the columns.
    for count in (len(rows), SMALL_BATCH + len(rows)):
        batch_rows = [rows[i % len(rows)] for i in range(count)]
        column = column_of(t, batch_rows, plain_nulls)
        assert isinstance(column, StructColumn)
        encoded = encoder.encode(column.fields, count).values()
        expected = [b"\x00\x00\x00\x00\x07" + fastavro_bytes(parsed, r) for r in batch_rows]
        assert list(encoded) == expected
        # The JSON format writes the same rows as json.dumps of their plain values.
        json_rows = JsonEncoder(schema_from_dict(schema)).encode(column.fields, count).values()
        assert list(json_rows) == [json_text(r).encode() for r in to_python(column)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_generated_nested_schemas_match_fastavro(batch: tuple[Schema, list[Any], bool]) -> None:
    """Random nested schemas and rows: the columnar bytes equal fastavro's, record by record."""
    check_round_trip(*batch)


def test_doge_event_with_nested_user() -> None:
    """DOGE's own example value: a record Event with a nested record user of three strings."""
    schema = {"type": "record", "name": "Event", "fields": [
        {"name": "user", "type": {"type": "record", "name": "User", "fields": [
            {"name": "userId", "type": "string"}, {"name": "balance", "type": "string"},
            {"name": "loanBalance", "type": "string"}]}},
        {"name": "timestamp", "type": "int"}, {"name": "event", "type": "string"}]}
    rows = [{"user": {"userId": str(u), "balance": str(u * 10), "loanBalance": "0"},
             "timestamp": 1_700_000_000 + u, "event": "login"} for u in range(3)]
    check_round_trip(schema, rows, True)


def test_recursive_schema_and_named_references() -> None:
    """A recursive record (a linked list through a nullable reference) and a record reused by
    name in an array encode like fastavro."""
    schema = {"type": "record", "name": "Node", "namespace": "r", "fields": [
        {"name": "value", "type": "long"},
        {"name": "tag", "type": {"type": "record", "name": "Tag", "fields": [
            {"name": "t", "type": "string"}]}},
        {"name": "more", "type": {"type": "array", "items": "r.Tag"}},
        {"name": "next", "type": ["null", "r.Node"]}]}
    leaf = {"value": 3, "tag": {"t": "c"}, "more": [], "next": None}
    rows = [{"value": 1, "tag": {"t": "a"}, "more": [{"t": "x"}, {"t": "y"}],
             "next": ("r.Node", {"value": 2, "tag": {"t": "b"}, "more": [],
                                 "next": ("r.Node", leaf)})}, leaf]
    check_round_trip(schema, rows, False)


def test_python_objects_in_object_arrays_take_the_slow_path() -> None:
    """Dicts and lists held in object arrays (not the columnar form) are written by fastavro."""
    schema = {"type": "record", "name": "O", "fields": [
        {"name": "u", "type": {"type": "record", "name": "U", "fields": [
            {"name": "a", "type": "long"}]}},
        {"name": "xs", "type": {"type": "array", "items": "string"}},
        {"name": "k", "type": "long"}]}
    n = SMALL_BATCH + 2
    columns = {"u": _objects([{"a": i} for i in range(n)]),
               "xs": _objects([["p"] * (i % 3) for i in range(n)]),
               "k": np.arange(n, dtype=np.int64)}
    parsed = fastavro.parse_schema(schema)
    encoded = RecordEncoder(schema).encode(columns).values()
    assert list(encoded) == [fastavro_bytes(parsed, {"u": {"a": i}, "xs": ["p"] * (i % 3),
                                                     "k": i}) for i in range(n)]


def test_wide_decimals_take_the_slow_path() -> None:
    """Decimals beyond 64 bits (object arrays of ints) are written exactly, by fastavro."""
    dec = {"type": "bytes", "logicalType": "decimal", "precision": 38, "scale": 4}
    schema = {"type": "record", "name": "W", "fields": [{"name": "d", "type": dec}]}
    n = SMALL_BATCH + 1
    unscaled = _objects([10**30 + i for i in range(n)])
    encoded = RecordEncoder(schema).encode({"d": DecimalColumn(unscaled, 4)}).values()
    parsed = fastavro.parse_schema(schema)
    exact = decimal.Context(prec=100)
    assert list(encoded) == [fastavro_bytes(parsed, {"d": decimal.Decimal(10**30 + i).scaleb(
        -4, exact)}) for i in range(n)]


@pytest.mark.parametrize("n", [2, SMALL_BATCH + 1])
def test_nested_errors_name_the_path(n: int) -> None:
    """A bad value deep in a record names the field path it is in."""
    schema = {"type": "record", "name": "P", "fields": [
        {"name": "user", "type": {"type": "record", "name": "U", "fields": [
            {"name": "age", "type": "int"}]}}]}
    user = StructColumn({"age": np.full(n, 2**40, dtype=np.int64)}, n)
    with pytest.raises(EncodeError, match="32-bit") as e:
        RecordEncoder(schema).encode({"user": user}, n)
    assert e.value.field == "user"
