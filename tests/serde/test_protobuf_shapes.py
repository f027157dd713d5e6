"""Nested shapes as protobuf: the columnar encoder writes what protobuf's own serializer writes.

Hypothesis builds random record schemas (test_shapes.py's strategies: nested records, arrays,
maps, unions, enums, fixed, bytes, decimals, logical types) and rows for them; the derived
`.proto` is compiled by the real protoc, each row is set on the generated message by this file's
own walk of the documented mapping, and `SerializeToString(deterministic=True)` must equal the
encoder's bytes, record by record.
"""

from __future__ import annotations

import decimal
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from confluent_kafka.schema_registry.confluent.type.decimal_utils import to_proto_decimal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.core.columns import StructColumn
from connector.errors import UserError
from connector.model.avro import LoadedSchema, load_schemas, record_type, schema_from_dict
from connector.model.avrotypes import AvroType, Kind
from connector.serde.formats import Format
from connector.serde.protobuf import ProtobufEncoder
from connector.serde.values import given_schema
from tests.serde.protoc import compiled, message_class
from tests.serde.test_shapes import SCHEMAS, column_of, each_named, values_of

Schema = Any
ROOT = Path(__file__).resolve().parents[2]


def _unique(schema: Schema) -> Schema:
    """Enum symbols unique across the schema (protobuf puts them in one scope) and a package
    of its own per schema (protobuf's descriptor pool holds each full name once)."""
    def unique(t: dict[str, Any]) -> dict[str, Any]:
        if t["type"] == "enum":
            t["symbols"] = [f"{t['name']}_{s}" for s in t["symbols"]]
        return t

    out = each_named(schema, unique)
    digest = hashlib.sha1(json.dumps(out, sort_keys=True).encode()).hexdigest()[:12]
    return {**out, "namespace": f"gen{digest}"}


def message_of(schema: LoadedSchema) -> Any:
    return message_class(schema)  # one compiled module per schema, shared with other tests


def fill_record(message: Any, t: AvroType, row: dict[str, Any]) -> None:
    for f in t.fields:
        set_field(message, f.name, f.type, row[f.name])


def _repeated(fd: Any) -> bool:
    return bool(fd.is_repeated)


def set_field(message: Any, name: str, t: AvroType, value: Any) -> None:
    """Set a value of Avro type `t` (tagged unions) on field `name`, as the mapping says."""
    fd = message.DESCRIPTOR.fields_by_name[name]
    if value is None:
        return  # null: absent (an empty repeated field or map)
    pair = t.nullable_of
    if pair is not None:
        t, value = pair[0], value[1]
    if t.kind is Kind.UNION:
        sub = getattr(message, name)
        sub.SetInParent()
        branch = next(b for b in t.branches if b.branch_name == value[0])
        label = (branch.name or branch.kind.value).replace(".", "_")
        set_field(sub, f"{label}_value", branch, value[1])
    elif t.kind in (Kind.ARRAY, Kind.MAP) and not _repeated(fd):  # wrapped
        sub = getattr(message, name)
        sub.SetInParent()
        set_field(sub, "value", t, value)
    elif t.kind is Kind.ARRAY:
        assert t.items is not None
        for item in value:
            add_item(getattr(message, name), t.items, item)
    elif t.kind is Kind.MAP:
        assert t.items is not None
        if fd.message_type.GetOptions().map_entry:
            target = getattr(message, name)
            for k, v in value.items():
                if fd.message_type.fields_by_name["value"].message_type is not None:
                    fill_message(target[k], t.items, v)
                else:
                    target[k] = scalar(t.items, v)
        else:
            for k, v in value.items():
                entry = getattr(message, name).add()
                entry.key = k
                set_field(entry, "value", t.items, v)
    elif t.kind is Kind.RECORD or t.logical == "decimal":
        fill_message(getattr(message, name), t, value)
    else:
        setattr(message, name, scalar(t, value))


def fill_message(message: Any, t: AvroType, value: Any) -> None:
    message.SetInParent()
    if t.logical == "decimal":
        message.MergeFromString(to_proto_decimal(value).SerializeToString())  # Confluent's
    else:
        fill_record(message, t, value)


def add_item(target: Any, t: AvroType, item: Any) -> None:
    if t.kind in (Kind.UNION, Kind.ARRAY, Kind.MAP):  # in a message of its own
        sub = target.add()
        if t.kind is Kind.UNION:
            if item is not None:
                branch = next(b for b in t.branches if b.branch_name == item[0])
                label = (branch.name or branch.kind.value).replace(".", "_")
                set_field(sub, f"{label}_value", branch, item[1])
        else:
            set_field(sub, "value", t, item)
    elif t.kind is Kind.RECORD or t.logical == "decimal":
        fill_message(target.add(), t, item)
    else:
        target.append(scalar(t, item))


def scalar(t: AvroType, value: Any) -> Any:
    if t.kind is Kind.ENUM:
        return t.symbols.index(value)
    return value


@st.composite
def batches(draw: st.DrawFn) -> tuple[Schema, list[dict[str, Any]], bool]:
    schema = _unique(draw(SCHEMAS))
    rows = draw(st.lists(values_of(record_type(schema)), min_size=1, max_size=5))
    return schema, rows, draw(st.booleans())


def check(schema: Schema, rows: list[dict[str, Any]], plain_nulls: bool) -> None:
    loaded = schema_from_dict(schema)
    cls = message_of(loaded)
    t = loaded.type
    expected = []
    for row in rows:
        message = cls()
        fill_record(message, t, row)
        expected.append(message.SerializeToString(deterministic=True))
    column = column_of(t, rows, plain_nulls)
    assert isinstance(column, StructColumn)
    assert list(ProtobufEncoder(loaded).encode(column.fields, len(rows))) == expected


EXAMPLES = int(os.environ.get("DOGE_HYPOTHESIS_EXAMPLES", "200"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_generated_nested_schemas_match_protobuf(batch: tuple[Schema, list[Any], bool]) -> None:
    """Random nested schemas and rows: the protobuf bytes equal SerializeToString of the
    message protoc generates from the derived .proto, record by record."""
    schema, rows, plain_nulls = batch
    with np.errstate(over="ignore"):
        check(schema, rows, plain_nulls)


def _map_schema(values: Schema) -> Schema:
    digest = hashlib.sha1(json.dumps(values).encode()).hexdigest()[:8]
    return {"type": "record", "name": "M", "namespace": f"maps{digest}",
            "fields": [{"name": "m", "type": {"type": "map", "values": values}}]}


@pytest.mark.parametrize("values", ["long", {"type": "array", "items": "string"}])
def test_map_entries_in_protobufs_order(values: Schema) -> None:
    """Map entries come in the order protobuf's deterministic serializer writes them (a key
    after the keys it is a prefix of, bytes above ASCII last), whatever order the rows hold."""
    keys = ["b", "", "ab", "a", "abc", "é", "Z", "z"]
    value: Any = 1 if values == "long" else ["x"]
    check(_map_schema(values), [{"m": dict.fromkeys(keys, value)}, {"m": {}}], False)


def test_shop_order_proto_compiles_and_matches() -> None:
    """The shop example's orders (nested records, an array of line items with decimals, an
    enum in a nested record, nullable strings) as protobuf: protoc compiles the derived file
    and protobuf writes the same bytes for a row."""
    schema = load_schemas(ROOT / "schemas").get("shop_orders")
    row = {"order_id": "ORD-1", "user_id": "7", "customer": {
        "customer_id": "c", "member_no": 0, "name": "Ann", "email": "a@b", "phone": "",
        "address": {"street": "S", "zip": "1", "city": "B", "country": "DE"}},
        "items": [{"line": 1, "sku": "X", "quantity": 2, "unit_price": to_decimal(-12.5)},
                  {"line": 2, "sku": "Y", "quantity": 0, "unit_price": to_decimal(0)}],
        "coupon": None, "payment": {"method": "PAYPAL", "card": None, "reference": "r"},
        "placed_at": "2024", "timestamp": 5}
    tagged = dict(row, coupon=None)
    check(json.loads(schema.schema_str), [tagged], True)


def to_decimal(x: float) -> decimal.Decimal:
    return decimal.Decimal(x).quantize(decimal.Decimal("0.01"))


NESTED_GIVEN = """syntax = "proto3";
package team;
import "confluent/type/decimal.proto";
message Order {
  message Item { confluent.type.Decimal price = 4; string sku = 9; }
  message Owner {
    oneof branch { int64 long_value = 3; string string_value = 8; }
  }
  repeated Item items = 20;
  map<string, int64> counts = 21;
  Owner owner = 22;
  optional string note = 2;
}
"""
NESTED = {"type": "record", "name": "Order", "namespace": "team", "fields": [
    {"name": "note", "type": ["null", "string"]},
    {"name": "items", "type": {"type": "array", "items": {"type": "record", "name": "Item",
     "fields": [{"name": "sku", "type": "string"}, {"name": "price", "type": {
         "type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}}]}}},
    {"name": "counts", "type": {"type": "map", "values": "long"}},
    {"name": "owner", "type": ["null", "long", "string"]}]}


def test_given_proto_with_nested_shapes(tmp_path: Path) -> None:
    """A team's own .proto with nested messages, a map, a oneof and Confluent's Decimal: the
    records follow its numbers, byte for byte what protobuf writes for it."""
    path = tmp_path / "order.proto"
    path.write_text(NESTED_GIVEN)
    loaded = schema_from_dict(NESTED)
    registered, layout = given_schema(Format.PROTOBUF, loaded, path)
    assert registered.name == "team.Order"
    # protoc here lacks confluent/type/decimal.proto: compile with a message of the same wire form.
    text = NESTED_GIVEN.replace('import "confluent/type/decimal.proto";\n', "").replace(
        "confluent.type.Decimal", "D").replace("message Order {", "message Order {\n"
        "  message D { bytes value = 1; uint32 precision = 2; int32 scale = 3; }")
    cls = compiled(text, "Order", "team_order_given")
    rows: list[dict[str, Any]] = [
        {"note": ("string", "n"), "items": [{"sku": "a", "price": to_decimal(1.5)}],
         "counts": {"b": 1, "a": 0}, "owner": ("string", "x")},
        {"note": None, "items": [], "counts": {}, "owner": None},
        {"note": None, "items": [], "counts": {}, "owner": ("long", 0)}]
    expected = []
    for row in rows:
        message = cls()
        fill_record(message, loaded.type, row)
        expected.append(message.SerializeToString(deterministic=True))
    column = column_of(loaded.type, rows, False)
    assert isinstance(column, StructColumn)
    batch = ProtobufEncoder(loaded, layout=layout).encode(column.fields, len(rows))
    assert list(batch) == expected


def test_given_proto_that_misses_a_nested_field(tmp_path: Path) -> None:
    """A given .proto whose nested message lacks a field is refused naming the nested path."""
    path = tmp_path / "order.proto"
    path.write_text(NESTED_GIVEN.replace("string sku = 9;", ""))
    with pytest.raises(UserError, match="no field 'sku'") as info:
        given_schema(Format.PROTOBUF, schema_from_dict(NESTED), path)
    assert info.value.problems[0].path == "items.sku"
