"""A string field held as the decimal text of numbers (the user id) is written exactly as the
same field held as `str` values, by every value format and by the Arrow tables."""

from __future__ import annotations

import numpy as np
import pytest

from connector.core.columns import Column, DecimalTextColumn, as_array, to_python
from connector.model.avro import schema_from_dict
from connector.serde.arrow import to_table
from connector.serde.encoder import SMALL_BATCH, EncodeError, RecordEncoder
from connector.serde.formats import Format
from connector.serde.protobuf import ProtobufEncoder
from connector.serde.protofile import given_layout
from connector.serde.values import value_encoder

SCHEMA = schema_from_dict({"type": "record", "name": "Ev", "namespace": "t", "fields": [
    {"name": "user_id", "type": "string"}, {"name": "amount", "type": "long"},
    {"name": "note", "type": "string"}]})
EXTREMES = [0, -1, 1, 9, 10, 99, 100, 9999, 10_000, 99_999_999, 100_000_000, 10**12,
            -(10**15), 2**63 - 1, -(2**63), 10**18, 10**17 - 1]


def _numbers(n: int, seed: int) -> np.ndarray:
    """n int64 values of every digit count, both signs, the extremes among them."""
    rng = np.random.default_rng(seed)
    digits = rng.integers(1, 19, size=n)
    values = rng.integers(0, 10**18, size=n) % (10 ** digits)
    values = np.where(rng.random(n) < 0.2, -values, values).astype(np.int64)
    values[: min(n, len(EXTREMES))] = EXTREMES[:n]
    return values


def _columns(ids: Column, n: int) -> dict[str, Column]:
    note = np.empty(n, dtype=object)
    note[:] = [f"n{i}é" for i in range(n)]
    return {"user_id": ids, "amount": np.arange(n, dtype=np.int64) - 7, "note": note}


def _both(n: int, seed: int) -> tuple[dict[str, Column], dict[str, Column]]:
    numbers = _numbers(n, seed)
    text = DecimalTextColumn(numbers)
    return _columns(text, n), _columns(as_array(text), n)


SIZES = [1, SMALL_BATCH - 1, SMALL_BATCH, 500, 3000]
FORMATS = [(Format.AVRO, None), (Format.AVRO, 7), (Format.JSON, None),
           (Format.JSON_SCHEMA, 7), (Format.PROTOBUF, 7)]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize(("fmt", "schema_id"), FORMATS)
def test_every_format_writes_the_text_of_the_numbers(n: int, fmt: Format,
                                                     schema_id: int | None) -> None:
    """Avro, JSON, JSON Schema and Protobuf records are byte for byte those of the str column."""
    text, strings = _both(n, n)
    assert to_python(strings["user_id"])[:3] == [str(v) for v in _numbers(n, n)[:3]]
    encoder = value_encoder(fmt, SCHEMA, schema_id)
    assert list(encoder.encode(text)) == list(encoder.encode(strings))


def test_one_value_on_every_row() -> None:
    """A column of one number repeated (one user's events) is written as that number's text."""
    n = 200
    text = _columns(DecimalTextColumn(np.full(n, -12345, dtype=np.int64)), n)
    strings = _columns(as_array(text["user_id"]), n)
    for fmt in (Format.AVRO, Format.JSON, Format.PROTOBUF):
        encoder = value_encoder(fmt, SCHEMA)
        assert list(encoder.encode(text)) == list(encoder.encode(strings))
    assert RecordEncoder(SCHEMA).encode(text)[0][:7] == b"\x0c-12345"


@pytest.mark.parametrize("n", [5, 500])
def test_arrow_tables_hold_the_text(n: int) -> None:
    """Parquet and the Python API's tables get the same strings as from a str column."""
    text, strings = _both(n, 3)
    assert to_table(SCHEMA, text, n).equals(to_table(SCHEMA, strings, n))


@pytest.mark.parametrize("declared", ["optional string", "string"])
def test_given_proto_files_get_the_same_bytes(declared: str) -> None:
    """A user's .proto (the id as an optional or a plain string, another field number)
    gets the same messages from the ids as from their strings."""
    text = (f'syntax = "proto3";\npackage t;\nmessage Ev {{\n  int64 amount = 1;\n'
            f'  string note = 2;\n  {declared} user_id = 9;\n}}\n')
    encoder = ProtobufEncoder(SCHEMA, 7, given_layout(SCHEMA, text, "ev.proto"))
    text_columns, strings = _both(300, 5)
    assert list(encoder.encode(text_columns)) == list(encoder.encode(strings))


def test_numbers_text_in_a_field_of_another_type_is_checked_as_strings() -> None:
    """Given for a long field, the ids' text is refused as strings would be (JSON does not
    quote it into a number field)."""
    schema = schema_from_dict({"type": "record", "name": "L", "fields": [
        {"name": "user_id", "type": "long"}]})
    columns: dict[str, Column] = {"user_id": DecimalTextColumn(np.arange(100, dtype=np.int64))}
    for fmt in (Format.AVRO, Format.JSON, Format.PROTOBUF):
        with pytest.raises(EncodeError, match="user_id"):
            value_encoder(fmt, schema).encode(columns)
