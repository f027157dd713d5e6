"""JSON, JSON Schema and Protobuf encoders write what the reference libraries write."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.errors import UserError
from connector.model.avro import LoadedSchema, load_schemas, schema_from_dict
from connector.serde.formats import Format, SchemaType, parse_format
from connector.serde.jsonenc import JsonEncoder, connect_envelope
from connector.serde.jsonschema import json_schema
from connector.serde.protobuf import ProtobufEncoder, proto_text
from connector.serde.values import registry_schema, value_encoder
from connector.serde.wire import header
from tests.serde.protoc import message_class
from tests.serde.test_encoder import ALL_TYPES, PLAN, random_columns, rows

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
EVERYTHING = schema_from_dict(ALL_TYPES)
SIZES = [(1, 500), (2, 2000), (3, 1), (4, 47), (5, 48)]


def json_reference(schema: LoadedSchema, row: dict[str, Any]) -> bytes:
    """What json.dumps writes for one record (bytes as base64 text)."""
    record = {}
    for f in schema.fields:
        value = row[f.name]
        if isinstance(value, bytes):
            value = base64.b64encode(value).decode()
        record[f.name] = value
    return json.dumps(record, separators=(",", ":")).encode()


@pytest.mark.parametrize(("seed", "n"), SIZES)
def test_json_is_json_dumps(seed: int, n: int) -> None:
    """Every JSON record equals json.dumps of the same values, for every type, nulls included."""
    columns = random_columns(n, seed)
    batch = JsonEncoder(EVERYTHING).encode(columns)
    assert list(batch) == [json_reference(EVERYTHING, r) for r in rows(columns, n)]


def test_json_framed_and_enveloped() -> None:
    """json-schema records carry the wire header; the Connect envelope wraps schema and payload."""
    columns = random_columns(100, 9)
    plain = JsonEncoder(EVERYTHING).encode(columns)
    framed = JsonEncoder(EVERYTHING, 42, framed=True).encode(columns)
    assert [v[5:] for v in framed] == list(plain)
    assert all(v[:5] == header(42) for v in framed)
    enveloped = JsonEncoder(EVERYTHING, envelope=connect_envelope(EVERYTHING)).encode(columns)
    for value, body in zip(enveloped, plain, strict=True):
        doc = json.loads(value)
        assert doc["payload"] == json.loads(body)
        assert [f["field"] for f in doc["schema"]["fields"]] == [f.name for f in EVERYTHING.fields]
        assert doc["schema"]["fields"][8]["name"] == "org.apache.kafka.connect.data.Timestamp"


def test_json_escapes_what_json_must() -> None:
    """Quotes, backslashes, control characters and non-ASCII text are escaped as json.dumps does."""
    schema = schema_from_dict({"type": "record", "name": "S", "fields": [
        {"name": "s", "type": "string"}]})
    values = ['plain', 'q"uote', "back\\slash", "tab\t", "żółw", "🐶", ""] * 10
    col = np.array(values, dtype=object)
    batch = JsonEncoder(schema).encode({"s": col})
    assert list(batch) == [json.dumps({"s": v}, separators=(",", ":")).encode() for v in values]


_PLAIN = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in '"\\')
# Columns whose values all come from one alphabet: plain text and plain text with one kind of
# character that must be escaped (so that each is the only reason to leave the plain path).
_ALPHABETS = [_PLAIN, *(_PLAIN + extra for extra in ('"', "\\", "\x1f\n", "\0", "żółw🐶"))]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_ALPHABETS).flatmap(lambda a: st.lists(st.text(a), min_size=48,
                                                               max_size=120)),
       st.sampled_from(["", "x" * 300]))
def test_json_strings_are_json_dumps(values: list[str], wide: str) -> None:
    """Any text column (NULs, each escape alone, one value far wider than the rest) is what
    json.dumps writes, whichever way the columnar writer takes."""
    values = [*values, wide]
    schema = schema_from_dict({"type": "record", "name": "S", "fields": [
        {"name": "s", "type": "string"}]})
    batch = JsonEncoder(schema).encode({"s": np.array(values, dtype=object)})
    assert list(batch) == [json.dumps({"s": v}, separators=(",", ":")).encode() for v in values]


@pytest.mark.parametrize("seed", [1, 2])
def test_json_records_conform_to_the_derived_json_schema(seed: int) -> None:
    """Records written as json-schema validate against the JSON Schema registered for them."""
    columns = random_columns(300, seed)
    for name in ("d", "nd", "nf", "f"):  # JSON has no NaN or infinity
        columns[name] = np.array([None if v is None or not np.isfinite(v) else v
                                  for v in columns[name].tolist()], dtype=object)
    columns["d"] = np.nan_to_num(columns["d"].astype(float), posinf=0, neginf=0)
    columns["f"] = columns["d"]
    validator = jsonschema.Draft7Validator(json_schema(EVERYTHING))
    for value in JsonEncoder(EVERYTHING).encode(columns):
        validator.validate(json.loads(value))


def protobuf_reference(cls: Any, schema: LoadedSchema, row: dict[str, Any]) -> bytes:
    message = cls()
    for f in schema.fields:
        value = row[f.name]
        if value is None:
            continue
        if f.avro_type == "enum":
            value = (f.symbols or ()).index(value)
        setattr(message, f.name, value)
    data: bytes = message.SerializeToString(deterministic=True)
    return data


@pytest.mark.parametrize(("seed", "n"), SIZES)
def test_protobuf_is_what_protobuf_writes(seed: int, n: int) -> None:
    """Every message equals protobuf's SerializeToString of a message compiled by protoc from
    our .proto, for every type, default values and nulls included."""
    cls = message_class(EVERYTHING)
    columns = random_columns(n, seed)
    with np.errstate(over="ignore"):  # floats as float32 holds them (protobuf checks the range)
        columns["nf"] = np.array([None if v is None else float(np.float32(v))
                                  for v in columns["nf"].tolist()], dtype=object)
    for name, default in (("l", 0), ("s", ""), ("b", False), ("d", 0.0), ("plan", "FREE")):
        columns[name][: n // 3] = default  # proto3 leaves default values out
    batch = ProtobufEncoder(EVERYTHING).encode(columns)
    assert list(batch) == [protobuf_reference(cls, EVERYTHING, r) for r in rows(columns, n)]
    framed = ProtobufEncoder(EVERYTHING, 7).encode(columns)
    assert [v[:6] for v in framed] == [header(7) + b"\x00"] * n
    assert [v[6:] for v in framed] == list(batch)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_ALPHABETS).flatmap(lambda a: st.lists(st.text(a), min_size=48,
                                                               max_size=120)),
       st.sampled_from(["", "x" * 300]))
def test_protobuf_strings_are_what_protobuf_writes(values: list[str], wide: str) -> None:
    """Any text column (NULs, non-ASCII, empty values left out as proto3's default, one value
    far wider than the rest) is what protobuf's SerializeToString writes."""
    values = [*values, wide]
    schema = schema_from_dict({"type": "record", "name": "S", "fields": [
        {"name": "s", "type": "string"}]})
    cls = message_class(schema)
    batch = ProtobufEncoder(schema).encode({"s": np.array(values, dtype=object)})
    assert list(batch) == [protobuf_reference(cls, schema, {"s": v}) for v in values]


@pytest.mark.parametrize("name", ["balance", "telemetry", "auth_events", "clickstream", "loan"])
def test_every_example_schema_compiles_as_proto(name: str) -> None:
    """protoc accepts the .proto derived from each example schema."""
    message_class(load_schemas(SCHEMAS).get(name))


def test_protobuf_refuses_clashing_enum_symbols() -> None:
    """Two enums of one record sharing a symbol are refused, naming the field."""
    schema = schema_from_dict({"type": "record", "name": "R", "fields": [
        {"name": "a", "type": PLAN},
        {"name": "b", "type": {"type": "enum", "name": "Other", "symbols": ["X", "FREE"]}}]})
    with pytest.raises(UserError, match="'FREE' is also a symbol of enum Plan"):
        ProtobufEncoder(schema)


def test_shared_avro_enum_is_one_protobuf_enum() -> None:
    """An Avro enum used by two fields is defined once in the .proto."""
    schema = schema_from_dict({"type": "record", "name": "R", "fields": [
        {"name": "a", "type": PLAN}, {"name": "b", "type": ["null", "Plan"]}]})
    text = proto_text(schema)
    assert text.count("enum Plan {") == 1
    assert "optional Plan b = 2;" in text


def test_format_names_and_schemas() -> None:
    """Formats parse from config text; each registry format registers its own schema type."""
    assert parse_format(" JSON_Schema ") is Format.JSON_SCHEMA
    assert parse_format("bytes", key=True) is Format.BYTES
    with pytest.raises(UserError, match="unknown value format 'bytes'"):
        parse_format("bytes")
    balance = load_schemas(SCHEMAS).get("balance")
    kinds = {f: registry_schema(f, balance) for f in Format}
    assert kinds[Format.JSON] is None and kinds[Format.STRING] is None
    assert {f: s.type for f, s in kinds.items() if s} == {
        Format.AVRO: SchemaType.AVRO, Format.JSON_SCHEMA: SchemaType.JSON,
        Format.PROTOBUF: SchemaType.PROTOBUF}
    assert all(s.name == balance.fullname for s in kinds.values() if s)
    with pytest.raises(UserError):
        value_encoder(Format.STRING, balance)
