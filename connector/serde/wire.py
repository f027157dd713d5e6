"""Confluent wire format: magic byte 0, 4-byte big-endian schema id, then the Avro binary body."""

from __future__ import annotations

import struct

MAGIC_BYTE = 0
HEADER_SIZE = 5
_HEADER = struct.Struct(">BI")
MAX_SCHEMA_ID = 0xFFFFFFFF


class WireFormatError(ValueError):
    """Bytes that are not a Confluent-framed record (too short or wrong magic byte)."""


def header(schema_id: int) -> bytes:
    """The 5-byte prefix for records written with `schema_id`."""
    if not 0 <= schema_id <= MAX_SCHEMA_ID:
        raise ValueError(f"schema id {schema_id} does not fit the 4-byte wire header")
    return _HEADER.pack(MAGIC_BYTE, schema_id)


def frame(schema_id: int, payload: bytes) -> bytes:
    """Prefix one Avro body with the wire header."""
    return header(schema_id) + payload


def unframe(data: bytes | bytearray | memoryview) -> tuple[int, bytes]:
    """Split a framed record into (schema id, Avro body); rejects anything not framed."""
    return schema_id_of(data), bytes(data[HEADER_SIZE:])


def schema_id_of(data: bytes | bytearray | memoryview) -> int:
    """The schema id of a framed record, without copying its body."""
    if len(data) < HEADER_SIZE:
        raise WireFormatError(f"record of {len(data)} bytes is shorter than the 5-byte header")
    magic, schema_id = _HEADER.unpack_from(data)
    if magic != MAGIC_BYTE:
        raise WireFormatError(f"unknown magic byte {magic} (expected {MAGIC_BYTE})")
    return int(schema_id)
