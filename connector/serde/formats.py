"""The formats a Kafka user reads, and the one interface every value encoder offers.

| format | bytes of a record | registry |
| --- | --- | --- |
| `avro` | Confluent wire header + Avro binary | AVRO schema |
| `json` | plain JSON object (or Connect's `{"schema":..,"payload":..}` envelope) | none |
| `json-schema` | Confluent wire header + JSON object | JSON schema (`schemaType: JSON`) |
| `protobuf` | wire header + message indexes + Protobuf binary | PROTOBUF schema (`.proto`) |
| `string` / `bytes` | keys only: UTF-8 digits / 8-byte big-endian long | none |

The Kafka destination and the local files choose their encoder through
`connector.serde.values.value_encoder`.
"""

from __future__ import annotations

import enum

import attrs

from connector.errors import UserError


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
