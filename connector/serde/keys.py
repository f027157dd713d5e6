"""Record keys: by default the user id, as a UTF-8 decimal string or as an Avro `string`/`long`.

The string form is what Kafka's `StringSerializer` writes, so Java consumers and Kafka Streams read
it as-is; the Avro forms carry the Confluent wire header of a registered key schema. A topic's
`key:` gives another key column (core/batch.py): LONG keys are written like user ids, STRING keys
as UTF-8 (or an Avro string), record keys with the model's key schema; null keys stay None.
Keys are rendered for a whole column at once, and the partition is computed from these exact
bytes.
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
from connector.serde.encoder import SMALL_BATCH, EncodedBatch, RecordEncoder
from connector.serde.wire import header


class KeyFormat(enum.Enum):
    STRING = "string"  # UTF-8 decimal digits, unframed
    AVRO_STRING = "avro-string"  # Avro schema "string", wire-framed
    AVRO_LONG = "avro-long"  # Avro schema "long", wire-framed


# The key schema to register for each Avro key format.
KEY_SCHEMAS = {KeyFormat.AVRO_STRING: '"string"', KeyFormat.AVRO_LONG: '"long"'}


def parse_key_format(text: str) -> KeyFormat:
    """A key format from config text; UserError listing the choices otherwise."""
    for f in KeyFormat:
        if text.strip().lower() == f.value:
            return f
    choices = ", ".join(f.value for f in KeyFormat)
    raise UserError(f"unknown key format {text!r}; expected one of: {choices}")


@attrs.frozen
class KeySerializer:
    """Serializes keys; Avro formats are framed with `schema_id` when it is set.

    With `record`, keys are Avro records of that schema (a topic's `key: {schema: ...}`)."""

    format: KeyFormat = KeyFormat.STRING
    schema_id: int | None = None
    record: LoadedSchema | None = None

    @property
    def schema_str(self) -> str | None:
        """The key schema to register, or None for plain string keys."""
        if self.record is not None:
            return self.record.schema_str
        return KEY_SCHEMAS.get(self.format)

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
            return RecordEncoder(self.record, self.schema_id).encode(keys.fields,
                                                                     len(keys)), present
        if not isinstance(keys, np.ndarray):
            raise TypeError(f"a key column cannot be a {type(keys).__name__}")
        if keys.dtype.kind in "iu":
            return self.encode(keys), present
        return self._encode_strings(keys), present

    def _encode_strings(self, keys: np.ndarray) -> EncodedBatch:
        if self.format is KeyFormat.AVRO_LONG:
            raise ValueError("key.format avro-long needs LONG keys, not strings")
        n = int(keys.shape[0])
        framed = self.format is KeyFormat.AVRO_STRING
        parts: list[P.Piece] = []
        if framed and self.schema_id is not None:
            parts.append(P.constant(header(self.schema_id), n))
        prefix, body = P.string_pieces(keys.astype(object))
        parts.extend([prefix, body] if framed else [body])
        buffer, offsets = P.assemble(parts, n)
        return EncodedBatch(buffer.tobytes(), offsets)

    def encode(self, user_ids: npt.ArrayLike) -> EncodedBatch:
        """The key of each user id, in one buffer."""
        ids = np.asarray(user_ids, dtype=np.int64)
        n = int(ids.shape[0])
        if n < SMALL_BATCH:
            return EncodedBatch.from_values([self._encode_scalar(i) for i in ids.tolist()])
        parts: list[P.Piece] = []
        if self.format is not KeyFormat.STRING and self.schema_id is not None:
            parts.append(P.constant(header(self.schema_id), n))
        if self.format is KeyFormat.AVRO_LONG:
            parts.append(P.long_piece(ids))
        else:
            flat, lens = decimal_digits(ids)
            if self.format is KeyFormat.AVRO_STRING:
                parts.append(P.long_piece(lens))
            parts.append(P.Piece(n, flat=flat, lens=lens))
        buffer, offsets = P.assemble(parts, n)
        return EncodedBatch(buffer.tobytes(), offsets)

    def encode_one(self, user_id: int) -> bytes:
        return self._encode_scalar(int(user_id))

    def _encode_scalar(self, user_id: int) -> bytes:
        digits = b"%d" % user_id
        if self.format is KeyFormat.STRING:
            return digits
        framing = b"" if self.schema_id is None else header(self.schema_id)
        if self.format is KeyFormat.AVRO_LONG:
            return framing + _varint((user_id << 1) ^ (user_id >> 63))
        return framing + _varint(len(digits) << 1) + digits


def _varint(z: int) -> bytes:
    """One unsigned LEB128 varint (z is an already zigzagged, non-negative long)."""
    z &= 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while z >= 0x80:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def decimal_digits(ids: npt.NDArray[np.int64]) -> tuple[P.U8, P.I64]:
    """`str(id).encode()` of all ids, concatenated, and each one's length (numpy, no str)."""
    n = int(ids.shape[0])
    if n == 0:
        return np.zeros(0, dtype=np.uint8), np.zeros(0, dtype=np.int64)
    negative = ids < 0
    magnitude = ids.astype(np.uint64)
    np.negative(magnitude, out=magnitude, where=negative)  # two's complement |id|, int64 min too
    width = len(str(int(magnitude.max())))
    ndigits = np.ones(n, dtype=np.int64)
    for k in range(1, width):
        ndigits += magnitude >= np.uint64(10**k)
    lens = ndigits + negative
    # Right-aligned ASCII digits with one spare column for the sign; the masked compress keeps
    # each row's last `lens` bytes, which leaves them left-aligned in the output.
    rows = np.empty((n, width + 1), dtype=np.uint8)
    rest = magnitude.copy()
    for col in range(width, 0, -1):
        rows[:, col] = (rest % np.uint64(10)).astype(np.uint8) + ord("0")
        rest //= np.uint64(10)
    if negative.any():
        neg_rows = np.flatnonzero(negative)
        rows[neg_rows, width - ndigits[neg_rows]] = ord("-")
    keep = np.arange(width + 1) >= (width + 1 - lens)[:, None]
    return np.compress(keep.reshape(-1), rows.reshape(-1)), lens
