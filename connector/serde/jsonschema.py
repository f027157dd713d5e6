"""A topic's JSON Schema, derived from its Avro value schema (what `json-schema` registers).

Draft-07, one closed object per record (`additionalProperties: false`), every non-nullable field
required; a nullable field is `oneOf` null and its type and may be absent. `title` is the record's
full name, which Confluent's RecordNameStrategy takes as the subject. Timestamps and dates are
integers in the Avro schema's unit (as the records carry them), named in `description`.
"""

from __future__ import annotations

import json
from typing import Any

from connector.model.avro import FieldSpec, LoadedSchema

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
    body: dict[str, Any] = {"type": _TYPES[spec.avro_type]}
    if spec.avro_type == "enum":
        body["enum"] = list(spec.symbols or ())
    if spec.avro_type == "int":
        body.update(minimum=-(2**31), maximum=2**31 - 1)
    if spec.avro_type == "bytes":
        body["contentEncoding"] = "base64"
    if spec.logical_type is not None:
        body["description"] = f"Avro {spec.logical_type}"
    if spec.nullable:
        return {"oneOf": [{"type": "null"}, body]}
    return body
