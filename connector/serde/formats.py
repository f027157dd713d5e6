"""The formats a Kafka user reads, and the one interface every value encoder offers.

| format | bytes of a record | registry |
| --- | --- | --- |
| `avro` | Confluent wire header + Avro binary | AVRO schema |
| `json` | plain JSON object (or Connect's `{"schema":..,"payload":..}` envelope) | none |
| `json-schema` | Confluent wire header + JSON object | JSON schema (`schemaType: JSON`) |
| `protobuf` | wire header + message indexes + Protobuf binary | PROTOBUF schema (`.proto`) |
| `string` / `bytes` | keys only: UTF-8 digits / 8-byte big-endian long | none |

The Kafka destination and the local files choose their encoder through `value_encoder`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Protocol

import attrs
import numpy.typing as npt

from connector.core.batch import EventColumns
from connector.errors import UserError
from connector.model.avro import LoadedSchema
from connector.serde.encoder import EncodedBatch, RecordEncoder
from connector.serde.jsonenc import JsonEncoder, connect_envelope
from connector.serde.jsonschema import json_schema_text
from connector.serde.protobuf import ProtobufEncoder, proto_text


class SchemaType(enum.Enum):
    """The `schemaType` a registry stores a schema under."""

    AVRO = "AVRO"
    JSON = "JSON"
    PROTOBUF = "PROTOBUF"


class Format(enum.Enum):
    """How a record's value (or key) is written."""

    AVRO = "avro"
    JSON = "json"
    JSON_SCHEMA = "json-schema"
    PROTOBUF = "protobuf"
    STRING = "string"
    BYTES = "bytes"

    def __str__(self) -> str:
        return self.value

    @property
    def schema_type(self) -> SchemaType | None:
        """The registry schema type this format registers, or None when it needs no registry."""
        return _SCHEMA_TYPES.get(self)

    @property
    def uses_registry(self) -> bool:
        return self.schema_type is not None


_SCHEMA_TYPES = {Format.AVRO: SchemaType.AVRO, Format.JSON_SCHEMA: SchemaType.JSON,
                 Format.PROTOBUF: SchemaType.PROTOBUF}
VALUE_FORMATS = (Format.AVRO, Format.JSON, Format.JSON_SCHEMA, Format.PROTOBUF)


def parse_format(text: str, *, key: bool = False) -> Format:
    """A value (or key) format from config text; UserError listing the choices otherwise."""
    allowed = tuple(Format) if key else VALUE_FORMATS
    cleaned = text.strip().lower().replace("_", "-")
    for f in allowed:
        if cleaned == f.value:
            return f
    what = "key" if key else "value"
    raise UserError(f"unknown {what} format {text!r}; expected one of: "
                    f"{', '.join(f.value for f in allowed)}")


@attrs.frozen
class RegistrySchema:
    """What to register for a topic: schema type, schema text, and the record's full name
    (the subject of RecordNameStrategy)."""

    type: SchemaType
    text: str
    name: str
    file: str | None = None  # where the schema came from, for error messages


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
