"""Protobuf wire basics for the encoder (wire types, field tags) and Confluent's Decimal
message (confluent/type/decimal.proto), columnar except for values wider than 64 bits."""

from __future__ import annotations

import numpy as np

from connector.core.columns import Column, DecimalColumn
from connector.model.avrotypes import AvroType
from connector.serde import pieces as P
from connector.serde.protoplan import ProtoMessage
from connector.serde.shapes import EncodeError, NotColumnar, decimal_unscaled

# Wire types.
VARINT, I64, LEN, I32 = 0, 1, 2, 5


def tag(number: int, wire: int) -> bytes:
    """A field's key on the wire: its number and wire type, as one varint."""
    return P.uvarint_bytes((number << 3) | wire)


def decimal_pieces(message: ProtoMessage, t: AvroType, col: Column, path: str) -> list[P.Piece]:
    """Confluent's Decimal: the unscaled value as the fewest big-endian two's complement bytes
    (Java's BigInteger.toByteArray), its number of digits, and the scale."""
    value, precision, scale = (f.number for f in message.fields)
    try:
        unscaled = decimal_unscaled(t, col, path)
    except NotColumnar:  # Python ints wider than 64 bits: one by one
        assert isinstance(col, DecimalColumn)
        return [_wide_decimals(col.unscaled.tolist(), (value, precision, scale), t.scale)]
    n = int(unscaled.shape[0])
    negative = unscaled < 0
    magnitude = unscaled.astype(np.uint64)
    np.negative(magnitude, out=magnitude, where=negative)
    digits = np.searchsorted(P.POW10[1:], magnitude, side="right").astype(np.int64) + 1
    if 0 < t.precision < 20 and n and int(digits.max()) > t.precision:
        raise EncodeError(path, f"a value has more than the {t.precision} digits of the "
                          "decimal's precision")
    # ~u = -u - 1 for negatives: -128 takes one byte (0x80), as in Java.
    bits = np.where(negative, ~unscaled, unscaled).astype(np.uint64)
    lens = P.signed_lengths(bits)
    pieces = [P.constant(tag(value, LEN), n), P.varint(lens.astype(np.uint64)),
              P.signed_bytes(unscaled, lens),
              P.constant(tag(precision, VARINT), n), P.varint(digits.astype(np.uint64))]
    if t.scale:
        pieces.append(P.constant(tag(scale, VARINT) + P.uvarint_bytes(t.scale), n))
    return pieces


def _wide_decimals(unscaled: list[int], numbers: tuple[int, int, int], scale: int) -> P.Piece:
    value, precision, scale_number = numbers
    out = []
    for u in unscaled:
        data = u.to_bytes(((u if u >= 0 else ~u).bit_length() + 8) // 8, "big", signed=True)
        text = (tag(value, LEN) + P.uvarint_bytes(len(data)) + data + tag(precision, VARINT)
                + P.uvarint_bytes(len(str(abs(u)))))
        if scale:
            text += tag(scale_number, VARINT) + P.uvarint_bytes(scale)
        out.append(text)
    lens = np.fromiter(map(len, out), dtype=np.int64, count=len(out))
    return P.ragged_piece(b"".join(out), lens)
