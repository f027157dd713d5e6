"""Record keys: by default the user id, in any of the formats (`serde.formats.Format`) a key
may take; a topic's `key:` gives another key column (core/batch.py).

- string (default) and json: UTF-8 decimal digits, what Kafka's `StringSerializer` and
  Connect's JsonConverter (`schemas.enable=false`) write; Java consumers read them as-is;
- bytes: 8 bytes, big-endian, what Kafka's `LongSerializer` writes;
- avro-long / avro-string, json-schema (`{"type":"integer"}`), protobuf (a `UserKey` message
  with one `int64 user_id = 1`): framed with the wire header of a registered key schema.

Key columns: LONG keys are written like user ids; STRING keys as UTF-8 (string), a JSON string
(json) or an Avro string (avro-string); record keys (`key: {schema: ...}`) with the key schema in
the key format (Avro, JSON, JSON Schema or Protobuf); null keys stay None. Keys are rendered for
a whole column at once, and the partition is computed from these exact bytes.
"""

from __future__ import annotations

import enum

import attrs
import numpy as np
import numpy.typing as npt

from connector.core.columns import Column, StructColumn
from connector.errors import UserError
from connector.model.avro import LoadedSchema
from connector.serde import pieces as P
from connector.serde.encoder import SMALL_BATCH, EncodedBatch
from connector.serde.formats import Format, RegistrySchema, SchemaType
from connector.serde.jsonenc import string_pieces as json_string_pieces
from connector.serde.values import registry_schema, value_encoder
from connector.serde.wire import header


class KeyFormat(enum.Enum):
    """A key `Format`, with the Avro key's type spelled out."""

    STRING = "string"  # UTF-8 decimal digits, unframed
    JSON = "json"  # the same digits: a JSON number
    BYTES = "bytes"  # 8-byte big-endian long
    AVRO_STRING = "avro-string"  # Avro schema "string", wire-framed
    AVRO_LONG = "avro-long"  # Avro schema "long", wire-framed
    JSON_SCHEMA = "json-schema"  # JSON Schema {"type":"integer"}, wire-framed digits
    PROTOBUF = "protobuf"  # message UserKey { int64 user_id = 1; }, wire-framed

    @property
    def format(self) -> Format:
        return Format.AVRO if self.value.startswith("avro") else Format(self.value)


PROTOBUF_KEY = 'syntax = "proto3";\n\npackage io.dogeconnect;\n\nmessage UserKey {\n' \
    "  int64 user_id = 1;\n}\n"
JSON_KEY_ENVELOPE = (b'{"schema":{"type":"int64","optional":false},"payload":', b"}")
# The key schema to register for each registry key format.
KEY_SCHEMAS = {
    KeyFormat.AVRO_STRING: RegistrySchema(SchemaType.AVRO, '"string"', "string"),
    KeyFormat.AVRO_LONG: RegistrySchema(SchemaType.AVRO, '"long"', "long"),
    KeyFormat.JSON_SCHEMA: RegistrySchema(SchemaType.JSON, '{"type":"integer"}', "integer"),
    KeyFormat.PROTOBUF: RegistrySchema(SchemaType.PROTOBUF, PROTOBUF_KEY, "io.dogeconnect.UserKey"),
}


# Key formats a STRING key column can be written in (LONG keys: every format).
STRING_KEY_FORMATS = frozenset({KeyFormat.STRING, KeyFormat.JSON, KeyFormat.AVRO_STRING})
# Key formats a record key can be written in: those of record values (under `string`, the
# default, a record key is Avro).
RECORD_KEY_FORMATS = frozenset({KeyFormat.STRING, KeyFormat.AVRO_LONG, KeyFormat.AVRO_STRING,
                                KeyFormat.JSON, KeyFormat.JSON_SCHEMA, KeyFormat.PROTOBUF})
# Other spellings accepted in config: `avro` is the Avro long form.
ALIASES = {"avro": KeyFormat.AVRO_LONG}


def parse_key_format(text: str) -> KeyFormat:
    """A key format from config text; UserError listing the choices otherwise."""
    name = text.strip().lower().replace("_", "-")
    for f in KeyFormat:
        if name == f.value:
            return f
    if name in ALIASES:
        return ALIASES[name]
    choices = ", ".join([f.value for f in KeyFormat] + list(ALIASES))
    raise UserError(f"unknown key format {text!r}; expected one of: {choices}")


@attrs.frozen
class KeySerializer:
    """Serializes keys; Avro formats are framed with `schema_id` when it is set.

    With `record`, keys are Avro records of that schema (a topic's `key: {schema: ...}`)."""

    format: KeyFormat = KeyFormat.STRING
    schema_id: int | None = None
    envelope: bool = False  # json: JsonConverter's {"schema":..,"payload":..} (schemas.enable)
    record: LoadedSchema | None = None  # a record key: the topic's key schema

    @property
    def registry_schema(self) -> RegistrySchema | None:
        """The key schema to register, or None for keys without a registry."""
        if self.record is not None:
            return registry_schema(self.record_format, self.record)
        return KEY_SCHEMAS.get(self.format)

    @property
    def record_format(self) -> Format:
        """How a record key is written: the key format's, Avro under the default `string`."""
        return Format.AVRO if self.format is KeyFormat.STRING else self.format.format

    @property
    def schema_str(self) -> str | None:
        schema = self.registry_schema
        return None if schema is None else schema.text

    def encode_column(self, keys: Column) -> tuple[EncodedBatch, npt.NDArray[np.int64] | None]:
        """The keys of a key column: (the non-null keys, their rows; None when none is null)."""
        present = None
        if isinstance(keys, np.ndarray) and keys.dtype == object:
            null = np.equal(keys, np.array(None, dtype=object))
            if null.any():
                present = np.flatnonzero(~null)
                keys = keys[present]
            if keys.size and isinstance(keys[0], int | np.integer):
                keys = keys.astype(np.int64)
        if isinstance(keys, StructColumn):
            if self.record is None:
                raise ValueError("record keys need the key schema")
            encoder = value_encoder(self.record_format, self.record, self.schema_id)
            return encoder.encode(keys.fields, len(keys)), present
        if not isinstance(keys, np.ndarray):
            raise TypeError(f"a key column cannot be a {type(keys).__name__}")
        if keys.dtype.kind in "iu":
            return self.encode(keys), present
        return self._encode_strings(keys), present

    def _encode_strings(self, keys: np.ndarray) -> EncodedBatch:
        if self.format not in STRING_KEY_FORMATS:
            raise ValueError(f"key format {self.format.value} needs LONG keys, not strings")
        n = int(keys.shape[0])
        values = keys.astype(object)
        parts: list[P.Piece] = []
        if self.format is KeyFormat.AVRO_STRING:
            if self.schema_id is not None:
                parts.append(P.constant(header(self.schema_id), n))
            parts.extend(P.string_pieces(values))
        elif self.format is KeyFormat.JSON:
            parts.extend(json_string_pieces(values))
        else:
            parts.append(P.string_pieces(values)[1])  # the UTF-8 without a length prefix
        buffer, offsets = P.assemble(parts, n)
        return EncodedBatch(buffer.tobytes(), offsets)

    def encode(self, user_ids: npt.ArrayLike) -> EncodedBatch:
        """The key of each user id, in one buffer."""
        ids = np.asarray(user_ids, dtype=np.int64)
        n = int(ids.shape[0])
        if n < SMALL_BATCH:
            return EncodedBatch.from_values([self._encode_scalar(i) for i in ids.tolist()])
        parts: list[P.Piece] = []
        prefix, suffix = self._around
        if prefix:
            parts.append(P.constant(prefix, n))
        if self.format is KeyFormat.AVRO_LONG:
            parts.append(P.long_piece(ids))
        elif self.format is KeyFormat.BYTES:
            parts.append(P.fixed_piece(ids, ">i8"))
        elif self.format is KeyFormat.PROTOBUF:  # field 1, varint; proto3 leaves out 0
            keep = ids != 0
            tag = P.Piece(n, block=P.constant(b"\x08", n).block, lens=keep.astype(np.int64))
            value = P.varint(ids.view(np.uint64))
            parts += [tag, P.Piece(n, block=value.block, lens=value.row_lens() * keep)]
        else:
            flat, lens = decimal_digits(ids)
            if self.format is KeyFormat.AVRO_STRING:
                parts.append(P.long_piece(lens))
            parts.append(P.Piece(n, flat=flat, lens=lens))
        if suffix:
            parts.append(P.constant(suffix, n))
        buffer, offsets = P.assemble(parts, n)
        return EncodedBatch(buffer.tobytes(), offsets)

    def encode_one(self, user_id: int) -> bytes:
        return self._encode_scalar(int(user_id))

    @property
    def _around(self) -> tuple[bytes, bytes]:
        """What comes before and after the key's own bytes: wire framing, or the envelope."""
        if self.format is KeyFormat.JSON and self.envelope:
            return JSON_KEY_ENVELOPE
        if self.schema_id is None or self.format not in KEY_SCHEMAS:
            return b"", b""
        indexes = b"\x00" if self.format is KeyFormat.PROTOBUF else b""
        return header(self.schema_id) + indexes, b""

    def _encode_scalar(self, user_id: int) -> bytes:
        digits = b"%d" % user_id
        if self.format is KeyFormat.BYTES:
            return user_id.to_bytes(8, "big", signed=True)
        framing, suffix = self._around
        if self.format is KeyFormat.AVRO_LONG:
            return framing + P.long_bytes(user_id)
        if self.format is KeyFormat.AVRO_STRING:
            return framing + P.long_bytes(len(digits)) + digits
        if self.format is KeyFormat.PROTOBUF:
            return framing + (b"\x08" + P.uvarint_bytes(user_id) if user_id else b"")
        return framing + digits + suffix


def decimal_digits(ids: npt.NDArray[np.int64]) -> tuple[P.U8, P.I64]:
    """`str(id).encode()` of all ids, concatenated, and each one's length (numpy, no str)."""
    n = int(ids.shape[0])
    buffer, offsets = P.assemble(P.decimal_pieces(ids), n)
    return buffer, np.diff(offsets)
