"""One Avro/Protobuf varint as Python bytes, for the few values written one at a time (container
headers, protobuf tags, small key batches); columns use `pieces.varint`."""

from __future__ import annotations


def varint_bytes(z: int) -> bytes:
    """One unsigned LEB128 varint (z is an already zigzagged, non-negative long)."""
    z &= 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while z >= 0x80:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)
