"""A topic's JSON Schema, derived from its Avro value schema (what `json-schema` registers).

Draft-07, one closed object per record (`additionalProperties: false`), every non-nullable field
required; a nullable field is `oneOf` null and its type and may be absent. `title` is the record's
full name, which Confluent's RecordNameStrategy takes as the subject. Timestamps and dates are
integers in the Avro schema's unit (as the records carry them), named in `description`.
"""

from __future__ import annotations

import json
from typing import Any

from connector.model.avro import AvroType, FieldSpec, LoadedSchema
from connector.model.avrotypes import Kind

_TYPES = {"int": "integer", "long": "integer", "float": "number", "double": "number",
          "boolean": "boolean", "string": "string", "bytes": "string", "enum": "string"}
DRAFT = "http://json-schema.org/draft-07/schema#"


def json_schema(schema: LoadedSchema) -> dict[str, Any]:
    """The JSON Schema document of a record schema."""
    properties = {f.name: _property(f) for f in schema.fields}
    out: dict[str, Any] = {"$schema": DRAFT, "title": schema.fullname, "type": "object",
                           "properties": properties, "additionalProperties": False,
                           "required": [f.name for f in schema.fields if not f.nullable]}
    doc = schema.parsed.get("doc")
    if isinstance(doc, str):
        out["description"] = doc
    return out


def json_schema_text(schema: LoadedSchema) -> str:
    """Compact, stable text of `json_schema` (what is registered)."""
    return json.dumps(json_schema(schema), separators=(",", ":"))


def _property(spec: FieldSpec) -> dict[str, Any]:
    body = _json_type(spec.base)
    if spec.nullable:
        return {"oneOf": [{"type": "null"}, body]}
    return body


def _json_type(t: AvroType) -> dict[str, Any]:
    """The JSON Schema of a value of Avro type `t`, as the json formats write it: nested
    records are closed objects, maps objects, bytes/fixed base64 text, decimals exact text."""
    if t.kind is Kind.NULL:
        return {"type": "null"}
    if t.kind is Kind.UNION:
        return {"oneOf": [_json_type(b) for b in t.branches]}
    if t.kind is Kind.RECORD:
        return {"type": "object", "title": t.name,
                "properties": {f.name: _property(f) for f in t.fields},
                "additionalProperties": False,
                "required": [f.name for f in t.fields if not f.nullable]}
    if t.kind in (Kind.ARRAY, Kind.MAP) and t.items is not None:
        if t.kind is Kind.ARRAY:
            return {"type": "array", "items": _json_type(t.items)}
        return {"type": "object", "additionalProperties": _json_type(t.items)}
    if t.logical == "decimal":
        return {"type": "string", "description": f"Avro decimal({t.precision}, {t.scale})"}
    body: dict[str, Any] = {"type": _TYPES.get(t.kind.value, "string")}
    if t.kind is Kind.ENUM:
        body["enum"] = list(t.symbols)
    if t.kind is Kind.INT:
        body.update(minimum=-(2**31), maximum=2**31 - 1)
    if t.kind in (Kind.BYTES, Kind.FIXED):
        body["contentEncoding"] = "base64"
    if t.logical is not None:
        body["description"] = f"Avro {t.logical}"
    return body
