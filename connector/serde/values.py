"""The one interface every value encoder offers, and the choice of encoder for a format."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy.typing as npt

from connector.core.batch import EventColumns
from connector.errors import UserError
from connector.model.avro import LoadedSchema
from connector.serde.encoder import EncodedBatch, RecordEncoder
from connector.serde.formats import VALUE_FORMATS, Format, RegistrySchema, SchemaType
from connector.serde.jsonenc import JsonEncoder, connect_envelope
from connector.serde.jsonschema import json_schema_text
from connector.serde.protobuf import ProtobufEncoder, proto_text


class ValueEncoder(Protocol):
    """Columns of n records in, n encoded records out (framed when `schema_id` is set)."""

    @property
    def schema_id(self) -> int | None: ...

    def encode(self, columns: Mapping[str, npt.ArrayLike], n: int | None = None
               ) -> EncodedBatch: ...

    def encode_events(self, events: EventColumns) -> EncodedBatch: ...

    def with_schema_id(self, schema_id: int | None) -> ValueEncoder: ...


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


def value_encoder(fmt: Format, schema: LoadedSchema, schema_id: int | None = None, *,
                  envelope: bool = False) -> ValueEncoder:
    """The encoder of a topic's values; `envelope` wraps plain JSON as JsonConverter does with
    `schemas.enable=true`."""
    if fmt is Format.AVRO:
        return RecordEncoder(schema, schema_id)
    if fmt is Format.JSON:
        return JsonEncoder(schema, envelope=connect_envelope(schema) if envelope else None)
    if fmt is Format.JSON_SCHEMA:
        return JsonEncoder(schema, schema_id, framed=True)
    if fmt is Format.PROTOBUF:
        return ProtobufEncoder(schema, schema_id)
    raise UserError(f"{fmt} is a key format; values are written as "
                    f"{', '.join(f.value for f in VALUE_FORMATS)}")
