"""Record keys: the user id as Kafka's StringSerializer writes it, or framed Avro long/string."""

from __future__ import annotations

import io

import fastavro
import numpy as np
import pytest

from connector.errors import UserError
from connector.serde.encoder import SMALL_BATCH
from connector.serde.formats import Format
from connector.serde.keys import KeyFormat, KeySerializer, decimal_digits, parse_key_format
from connector.serde.wire import header

IDS = np.array(
    [0, 1, 9, 10, 99, 100, 12345, 999_999, 10**18, 2**63 - 1, -1, -42, -(2**63)], dtype=np.int64
)


def avro(schema: str, value: object) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, schema, value)
    return out.getvalue()


@pytest.mark.parametrize("ids", [IDS, np.tile(IDS, SMALL_BATCH)], ids=["small", "columnar"])
def test_string_keys_are_decimal_utf8(ids: np.ndarray) -> None:
    """Default keys are the user id's decimal digits in UTF-8, exactly `str(id).encode()`."""
    keys = KeySerializer().encode(ids)
    assert list(keys.values()) == [str(i).encode() for i in ids.tolist()]
    assert KeySerializer().schema_str is None


def test_decimal_digits_on_many_ids() -> None:
    """Vectorised digit rendering equals Python's str() over a broad random sample."""
    ids = np.random.default_rng(4).integers(-(2**63), 2**63 - 1, 5000, dtype=np.int64)
    ids >>= np.random.default_rng(5).integers(0, 63, 5000)
    flat, lens = decimal_digits(ids)
    assert flat.tobytes() == "".join(str(i) for i in ids.tolist()).encode()
    assert lens.tolist() == [len(str(i)) for i in ids.tolist()]


@pytest.mark.parametrize(
    ("fmt", "schema"), [(KeyFormat.AVRO_LONG, "long"), (KeyFormat.AVRO_STRING, "string")]
)
@pytest.mark.parametrize("ids", [IDS, np.tile(IDS, SMALL_BATCH)], ids=["small", "columnar"])
def test_avro_keys_are_framed_avro(fmt: KeyFormat, schema: str, ids: np.ndarray) -> None:
    """Avro keys are the Confluent header of the key schema id plus the Avro-encoded id."""
    serializer = KeySerializer(fmt, schema_id=77)
    assert serializer.schema_str == f'"{schema}"'
    for user_id, key in zip(ids.tolist(), serializer.encode(ids).values(), strict=True):
        value = user_id if schema == "long" else str(user_id)
        assert key == header(77) + avro(schema, value)


def test_empty_ids() -> None:
    """No ids, no keys."""
    assert len(KeySerializer().encode(np.zeros(0, dtype=np.int64))) == 0


def test_parse_key_format() -> None:
    """Config text picks a key format; an unknown one lists the choices."""
    assert parse_key_format(" Avro-Long ") is KeyFormat.AVRO_LONG
    assert parse_key_format("string") is KeyFormat.STRING
    assert parse_key_format("avro") is KeyFormat.AVRO_LONG
    assert parse_key_format("JSON_schema") is KeyFormat.JSON_SCHEMA
    with pytest.raises(UserError, match="string, json, bytes, avro-string"):
        parse_key_format("xml")


@pytest.mark.parametrize("fmt", list(KeyFormat))
def test_every_key_format_columnar_equals_scalar(fmt: KeyFormat) -> None:
    """The columnar keys equal the one-by-one keys in every format, framed or not."""
    ids = np.array([0, 1, -1, 127, 128, 2**31, -(2**63), 2**63 - 1, *range(1000, 1100)],
                   dtype=np.int64)
    for schema_id in (None, 5):
        serializer = KeySerializer(fmt, schema_id)
        assert list(serializer.encode(ids)) == [serializer.encode_one(i) for i in ids.tolist()]


def test_key_bytes_of_each_format() -> None:
    """string/json are digits, bytes a big-endian long, json-schema and protobuf framed."""
    assert KeySerializer(KeyFormat.JSON).encode_one(42) == b"42"
    assert KeySerializer(KeyFormat.BYTES).encode_one(-2) == b"\xff" * 7 + b"\xfe"
    assert KeySerializer(KeyFormat.JSON_SCHEMA, 3).encode_one(42) == header(3) + b"42"
    assert KeySerializer(KeyFormat.PROTOBUF, 3).encode_one(300) == header(3) + b"\x00\x08\xac\x02"
    assert KeySerializer(KeyFormat.PROTOBUF, 3).encode_one(0) == header(3) + b"\x00"
    assert {f.format for f in KeyFormat if f.value.startswith("avro")} == {Format.AVRO}
