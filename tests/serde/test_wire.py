"""Confluent wire framing: what Confluent-compatible deserializers expect in front of a record."""

from __future__ import annotations

import pytest

from connector.serde.wire import WireFormatError, frame, header, schema_id_of, unframe


def test_header_is_magic_zero_then_big_endian_id() -> None:
    """The 5-byte header is magic 0 and the schema id in big-endian order."""
    assert header(1) == b"\x00\x00\x00\x00\x01"
    assert header(0x01020304) == b"\x00\x01\x02\x03\x04"
    assert header(0xFFFFFFFF) == b"\x00\xff\xff\xff\xff"


def test_frame_unframe_round_trip() -> None:
    """Unframing a framed record gives back the schema id and the Avro body."""
    body = b"\x02ab\x10"
    framed = frame(4711, body)
    assert unframe(framed) == (4711, body)
    assert schema_id_of(framed) == 4711
    assert unframe(memoryview(framed)) == (4711, body)


@pytest.mark.parametrize("bad", [b"", b"\x00\x00\x00", b"\x01\x00\x00\x00\x01body"])
def test_unframe_rejects_unframed_bytes(bad: bytes) -> None:
    """Bytes without the 5-byte header or with another magic byte are refused, not misread."""
    with pytest.raises(WireFormatError):
        unframe(bad)


@pytest.mark.parametrize("schema_id", [-1, 2**32])
def test_header_rejects_ids_outside_four_bytes(schema_id: int) -> None:
    """A schema id that cannot fit the 4-byte header is an error, not a silent wrap."""
    with pytest.raises(ValueError):
        header(schema_id)
