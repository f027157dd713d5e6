"""The one interface every value encoder offers, and the choice of encoder for a format."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from connector.core.columns import Column
from connector.errors import Problem, UserError
from connector.model.avro import LoadedSchema
from connector.model.source import read_text
from connector.serde.encoder import EncodedBatch, RecordEncoder
from connector.serde.formats import VALUE_FORMATS, Format, RegistrySchema, SchemaType
from connector.serde.jsonenc import JsonEncoder, connect_envelope
from connector.serde.jsonschema import json_schema_text
from connector.serde.protobuf import ProtobufEncoder, proto_text
from connector.serde.protofile import given_layout
from connector.serde.protoplan import ProtoPlan


class ValueEncoder(Protocol):
    """Columns of n records in, n encoded records out (framed when `schema_id` is set)."""

    @property
    def schema_id(self) -> int | None: ...

    def encode(self, columns: Mapping[str, Column], n: int | None = None) -> EncodedBatch: ...


def registry_schema(fmt: Format, schema: LoadedSchema) -> RegistrySchema | None:
    """The schema a topic written in `fmt` registers, derived from its Avro schema."""
    file = str(schema.path)
    if fmt is Format.AVRO:
        return RegistrySchema(SchemaType.AVRO, schema.schema_str, schema.fullname, file)
    if fmt is Format.JSON_SCHEMA:
        return RegistrySchema(SchemaType.JSON, json_schema_text(schema), schema.fullname, file)
    if fmt is Format.PROTOBUF:
        return RegistrySchema(SchemaType.PROTOBUF, proto_text(schema), schema.fullname, file)
    return None


GIVEN_SCHEMA_SUFFIXES = (".json", ".proto")  # a JSON Schema, a protobuf file


def given_schema(fmt: Format, schema: LoadedSchema, path: Path
                 ) -> tuple[RegistrySchema, ProtoPlan | None]:
    """A JSON Schema or `.proto` file the user gives for a topic instead of the derived one: what
    to register and, for protobuf, the message layout; UserError naming the file if it does
    not fit the record."""
    text = read_text(path, GIVEN_SCHEMA_SUFFIXES)  # the model files' rules: no /dev/zero
    if fmt is Format.PROTOBUF:
        layout = given_layout(schema, text, str(path))
        return RegistrySchema(SchemaType.PROTOBUF, text, layout.full_name, str(path)), layout
    if fmt is not Format.JSON_SCHEMA:
        raise UserError([Problem(f"a given schema is for json-schema or protobuf values, not "
                                 f"{fmt}", file=str(path))])
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError([Problem(f"not JSON: {exc.msg}", file=str(path), line=exc.lineno)]
                        ) from None
    if not isinstance(doc, dict):
        raise UserError([Problem("a JSON Schema must be an object", file=str(path))])
    known = {f.name for f in schema.fields}
    properties = doc.get("properties", {})
    for name in doc.get("required", []):
        if name not in known:
            raise UserError([Problem(f"requires {name!r}, which the record has not",
                                     file=str(path), path="required")])
    if doc.get("additionalProperties") is False:
        extra = sorted(known - set(properties))
        if extra:
            raise UserError([Problem(f"closed (additionalProperties: false) but without the "
                                     f"record's fields {extra}", file=str(path))])
    name = doc.get("title") if isinstance(doc.get("title"), str) else schema.fullname
    return RegistrySchema(SchemaType.JSON, text, str(name), str(path)), None


def value_encoder(fmt: Format, schema: LoadedSchema, schema_id: int | None = None, *,
                  envelope: bool = False, layout: ProtoPlan | None = None) -> ValueEncoder:
    """The encoder of a topic's values; `envelope` wraps plain JSON as JsonConverter does with
    `schemas.enable=true`."""
    if fmt is Format.AVRO:
        return RecordEncoder(schema, schema_id)
    if fmt is Format.JSON:
        return JsonEncoder(schema, envelope=connect_envelope(schema) if envelope else None)
    if fmt is Format.JSON_SCHEMA:
        return JsonEncoder(schema, schema_id, framed=True)
    if fmt is Format.PROTOBUF:
        return ProtobufEncoder(schema, schema_id, layout)
    raise UserError(f"{fmt} is a key format; values are written as "
                    f"{', '.join(f.value for f in VALUE_FORMATS)}")
