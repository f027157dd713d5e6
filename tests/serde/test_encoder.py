"""The columnar encoder writes exactly what fastavro writes, for every supported type and edge."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import fastavro
import numpy as np
import pytest

from connector.core.batch import EventColumns
from connector.model.avro import field_specs, load_schemas, schema_from_dict
from connector.serde.encoder import (
    SMALL_BATCH,
    EncodedBatch,
    EncodeError,
    RecordEncoder,
    encode_columns,
)
from connector.serde.wire import header, unframe

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
PLAN = {"type": "enum", "name": "Plan", "symbols": ["FREE", "BASIC", "PAID", "ENTERPRISE"]}
ALL_TYPES: dict[str, Any] = {
    "type": "record",
    "name": "Everything",
    "namespace": "test.encoder",
    "fields": [
        {"name": "i", "type": "int"},
        {"name": "l", "type": "long"},
        {"name": "f", "type": "float"},
        {"name": "d", "type": "double"},
        {"name": "b", "type": "boolean"},
        {"name": "s", "type": "string"},
        {"name": "raw", "type": "bytes"},
        {"name": "plan", "type": PLAN},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "ni", "type": ["null", "int"]},
        {"name": "nl", "type": ["long", "null"]},
        {"name": "nf", "type": ["null", "float"]},
        {"name": "nd", "type": ["null", "double"]},
        {"name": "nb", "type": ["null", "boolean"]},
        {"name": "ns", "type": ["null", "string"]},
        {"name": "ns2", "type": ["string", "null"]},
        {"name": "nraw", "type": ["null", "bytes"]},
        {"name": "nplan", "type": ["null", "test.encoder.Plan"]},
        {"name": "nts", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]},
    ],
}
PARSED = schema_from_dict(ALL_TYPES).parsed
EDGE_LONGS = [0, -1, 1, 63, -64, 64, -65, 127, 128, 8191, 8192, -(2**31), 2**31 - 1,
              2**53 + 1, -(2**63), 2**63 - 1, 2**62, -(2**62) - 1]  # fmt: skip
EDGE_INTS = [0, -1, 1, 63, -64, 64, -65, -(2**31), 2**31 - 1]
EDGE_DOUBLES = [
    0.0,
    -0.0,
    1.5,
    -2.25,
    math.inf,
    -math.inf,
    math.nan,
    5e-324,
    1.7976931348623157e308,
]
EDGE_STRINGS = ["", "a", "ascii only", "zażółć gęślą jaźń", "🐶 doge", "\x00", "tab\tnew\nline",
                "日本語テキスト", "x" * 127, "y" * 128, "é" * 70]  # fmt: skip


def fastavro_bytes(parsed: Any, record: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, parsed, record)
    return out.getvalue()


def obj(values: list[Any]) -> np.ndarray:
    col = np.empty(len(values), dtype=object)
    col[:] = values
    return col


def random_string(rng: np.random.Generator) -> str:
    if rng.random() < 0.2:
        return EDGE_STRINGS[int(rng.integers(len(EDGE_STRINGS)))]
    alphabet = "abcXYZ019 _-é€🐶"
    return "".join(
        alphabet[int(i)] for i in rng.integers(0, len(alphabet), int(rng.integers(0, 20)))
    )


def random_columns(n: int, seed: int, null_rate: float = 0.3) -> dict[str, np.ndarray]:
    """Columns as the engine gives them: typed numpy arrays, object arrays for strings and nulls."""
    rng = np.random.default_rng(seed)
    shifts = rng.integers(0, 64, n)
    longs = (rng.integers(-(2**63), 2**63 - 1, n, dtype=np.int64) >> shifts).astype(np.int64)
    longs[: len(EDGE_LONGS)] = EDGE_LONGS[:n]
    ints = rng.integers(-(2**31), 2**31, n, dtype=np.int64) >> rng.integers(0, 32, n)
    ints[: len(EDGE_INTS)] = EDGE_INTS[:n]
    doubles = rng.normal(0, 1, n) * 10.0 ** rng.integers(-30, 30, n)
    doubles[: len(EDGE_DOUBLES)] = EDGE_DOUBLES[:n]
    strings = [random_string(rng) for _ in range(n)]
    raw = [bytes(rng.integers(0, 256, int(rng.integers(0, 12)), dtype=np.uint8)) for _ in range(n)]
    plans = [PLAN["symbols"][int(i)] for i in rng.integers(0, 4, n)]
    ts = 1_700_000_000_000 + rng.integers(0, 10**10, n)

    with np.errstate(over="ignore"):
        floats = doubles.astype(np.float32).astype(np.float64)

    def nullable(values: list[Any]) -> np.ndarray:
        return obj([None if rng.random() < null_rate else v for v in values])

    return {
        "i": ints, "l": longs, "f": floats, "d": doubles,
        "b": rng.random(n) < 0.5, "s": obj(strings), "raw": obj(raw), "plan": obj(plans), "ts": ts,
        "ni": nullable(ints.tolist()), "nl": nullable(longs.tolist()),
        "nf": nullable(doubles.tolist()), "nd": nullable(doubles.tolist()),
        "nb": nullable((rng.random(n) < 0.5).tolist()),
        "ns": nullable(strings), "ns2": nullable(strings[::-1]), "nraw": nullable(raw),
        "nplan": nullable(plans), "nts": nullable((ts * 1000).tolist()),
    }  # fmt: skip


def rows(columns: dict[str, np.ndarray], n: int) -> list[dict[str, Any]]:
    lists = {k: v.tolist() for k, v in columns.items()}
    return [{k: lists[k][i] for k in lists} for i in range(n)]


@pytest.mark.parametrize(("seed", "n"), [(1, 500), (2, 500), (3, 2000), (4, 1), (5, 7), (6, 47)])
def test_byte_identical_to_fastavro_on_random_columns(seed: int, n: int) -> None:
    """Every record equals fastavro.schemaless_writer's bytes for the same values, all types."""
    columns = random_columns(n, seed)
    batch = RecordEncoder(PARSED).encode(columns)
    assert len(batch) == n
    for i, record in enumerate(rows(columns, n)):
        assert batch[i] == fastavro_bytes(PARSED, record), f"row {i}: {record}"


def test_round_trip_through_fastavro_reader() -> None:
    """Records decode with fastavro.schemaless_reader to the values encoded (floats as float32)."""
    n = 300
    columns = random_columns(n, 11)
    batch = RecordEncoder(PARSED).encode(columns)
    for value, expected in zip(batch.values(), rows(columns, n), strict=True):
        decoded: dict[str, Any] = fastavro.schemaless_reader(io.BytesIO(value), PARSED, None)  # type: ignore[assignment]
        for key, want in expected.items():
            got = decoded[key]
            if key == "nts" and want is not None:  # the reader turns micros into datetimes
                assert got == fastavro.read.LOGICAL_READERS["long-timestamp-micros"](
                    want, None, None
                )
            elif key == "ts":
                assert got == fastavro.read.LOGICAL_READERS["long-timestamp-millis"](
                    want, None, None
                )
            elif isinstance(want, float) and math.isnan(want):
                assert math.isnan(got)
            elif key in ("f", "nf") and want is not None:
                assert got == float(np.float32(want))
            else:
                assert got == want, key


def test_wire_header_prepended_in_the_same_pass() -> None:
    """With a schema id, each value is the 5-byte Confluent header followed by the Avro body."""
    columns = random_columns(50, 5)
    plain = RecordEncoder(PARSED).encode(columns)
    framed = RecordEncoder(PARSED, schema_id=258).encode(columns)
    assert all(f == header(258) + p for f, p in zip(framed.values(), plain.values(), strict=True))
    assert unframe(framed[3]) == (258, plain[3])


def test_banking_balance_matches_fastavro_and_offsets() -> None:
    """The banking balance schema encodes into one buffer whose offsets delimit each record."""
    schema = load_schemas(SCHEMAS).get("balance")
    ids = np.arange(0, 20_000, 7, dtype=np.int64)
    n = ids.shape[0]
    columns = {
        "user_id": obj([str(i) for i in ids.tolist()]),
        "balance": (ids - 10_000) * 1_000_003,
        "timestamp": np.full(n, 1_644_549_708_000, dtype=np.int64),
    }
    batch = RecordEncoder(schema, schema_id=1).encode(columns)
    assert isinstance(batch, EncodedBatch) and len(batch) == n
    assert batch.offsets[0] == 0 and batch.offsets[-1] == len(batch.buffer)
    assert list(batch.lengths) == [len(v) for v in batch.values()]
    assert list(batch.values()) == list(batch)
    for i, record in enumerate(rows(columns, n)):
        assert batch[i] == header(1) + fastavro_bytes(schema.parsed, record)
    assert batch[-1] == batch[n - 1]


def test_encode_events_takes_engine_columns() -> None:
    """An EventColumns batch from the engine encodes from its `fields`."""
    schema = load_schemas(SCHEMAS).get("clickstream")
    ids = np.array([3, 5, 8], dtype=np.int64)
    ts = np.array([1, 2, 3], dtype=np.int64) * 60_000
    events = EventColumns(
        topic="clickstream", transition="login", user_ids=ids, timestamps=ts,
        fields={"user_id": obj(["3", "5", "8"]), "event": obj(["login"] * 3), "timestamp": ts},
    )  # fmt: skip
    batch = RecordEncoder(schema).encode(events.fields, len(events))
    assert batch[1] == fastavro_bytes(
        schema.parsed, {"user_id": "5", "event": "login", "timestamp": 120_000}
    )


def test_long_and_outlier_strings_take_the_ragged_path() -> None:
    """Very long strings (and one huge outlier among short ones) encode exactly, memory-linearly."""
    schema = {"type": "record", "name": "S", "fields": [
        {"name": "a", "type": "string"}, {"name": "n", "type": "long"},
        {"name": "b", "type": "string"}]}  # fmt: skip
    parsed = fastavro.parse_schema(schema)
    rng = np.random.default_rng(3)
    a = ["k" * int(rng.integers(0, 40)) for _ in range(400)]
    a[17] = "Ω" * 50_000
    b = ["".join(chr(0x20 + int(c)) for c in rng.integers(0, 3000, 300)) for _ in range(400)]
    columns = {"a": obj(a), "n": np.arange(400, dtype=np.int64) - 200, "b": obj(b)}
    batch = encode_columns(schema, columns)
    for i, record in enumerate(rows(columns, 400)):
        assert batch[i] == fastavro_bytes(parsed, record)


def test_values_of_a_batch_larger_than_one_split_chunk() -> None:
    """Splitting a batch of more than 65536 records keeps every record intact and in order."""
    schema = {"type": "record", "name": "L", "fields": [{"name": "x", "type": "long"}]}
    x = np.arange(-70_000, 70_000, dtype=np.int64) * 3
    values = encode_columns(schema, {"x": x}).values()
    assert len(values) == x.shape[0]
    assert values[0] == fastavro_bytes(schema, {"x": int(x[0])})
    assert values[65_536] == fastavro_bytes(schema, {"x": int(x[65_536])})
    assert b"".join(values) == encode_columns(schema, {"x": x}).buffer


def test_values_beyond_struct_token_table() -> None:
    """Records larger than 4 KiB are split correctly too (slicing fallback)."""
    schema = {"type": "record", "name": "Big", "fields": [{"name": "s", "type": "string"}]}
    columns = {"s": obj(["a" * 5000, "", "b" * 10])}
    values = encode_columns(schema, columns).values()
    assert [len(v) for v in values] == [5002, 1, 11]


def test_all_null_and_no_null_nullable_columns() -> None:
    """Nullable columns that are all null, or plain typed arrays without nulls, encode exactly."""
    schema = {"type": "record", "name": "N", "fields": [
        {"name": "a", "type": ["null", "long"]}, {"name": "b", "type": ["double", "null"]},
        {"name": "c", "type": ["null", "string"]}]}  # fmt: skip
    parsed = fastavro.parse_schema(schema)
    columns = {
        "a": obj([None] * 4),
        "b": np.array([1.0, -2.0, 0.5, 3.0]),
        "c": obj(["x", "", "y", "é"]),
    }
    batch = encode_columns(schema, columns)
    for i, record in enumerate(rows(columns, 4)):
        assert batch[i] == fastavro_bytes(parsed, record)


def test_zero_rows() -> None:
    """An empty batch encodes to no records (no error, no bytes)."""
    batch = RecordEncoder(PARSED, schema_id=1).encode(
        {k: v[:0] for k, v in random_columns(5, 1).items()}
    )
    assert len(batch) == 0 and batch.buffer == b"" and batch.values() == ()


@pytest.mark.parametrize("n", [3, SMALL_BATCH + 2])
def test_record_without_fields(n: int) -> None:
    """A record with no fields encodes to empty bodies (just the header when framed)."""
    schema = {"type": "record", "name": "Empty", "fields": []}
    assert encode_columns(schema, {}, n=n).values() == (b"",) * n
    assert encode_columns(schema, {}, n=n, schema_id=2).values() == (header(2),) * n


def test_missing_column_uses_schema_default() -> None:
    """A field without a column is written with the schema's default value."""
    schema = {"type": "record", "name": "D", "fields": [
        {"name": "x", "type": "long"},
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "level", "type": "int", "default": 3}]}  # fmt: skip
    parsed = fastavro.parse_schema(schema)
    batch = encode_columns(schema, {"x": np.array([1, 2], dtype=np.int64)})
    assert batch[1] == fastavro_bytes(parsed, {"x": 2, "note": None, "level": 3})


def test_enum_given_as_positions() -> None:
    """An enum column may hold symbol positions instead of symbol strings."""
    schema = {"type": "record", "name": "E", "fields": [{"name": "p", "type": PLAN}]}
    parsed = fastavro.parse_schema(schema)
    batch = encode_columns(schema, {"p": np.array([3, 0], dtype=np.int64)})
    assert batch[0] == fastavro_bytes(parsed, {"p": "ENTERPRISE"})


@pytest.mark.parametrize(
    ("fields", "columns", "message"),
    [
        ([{"name": "x", "type": "long"}], {}, "no column and the schema gives no default"),
        (
            [{"name": "x", "type": "long"}],
            {"x": obj([1, None])},
            "null value in a field that is not nullable",
        ),
        ([{"name": "x", "type": "long"}], {"x": np.array([1.5, 2.0])}, "expected integers"),
        ([{"name": "x", "type": "int"}], {"x": np.array([2**31])}, "32-bit range"),
        ([{"name": "x", "type": "string"}], {"x": obj(["a", 5])}, "cannot encode as string"),
        ([{"name": "x", "type": "string"}], {"x": obj(["\ud800"])}, "cannot encode as string"),
        ([{"name": "x", "type": PLAN}], {"x": obj(["GOLD"])}, "'GOLD' is not a symbol"),
        ([{"name": "x", "type": PLAN}], {"x": np.array([4])}, "enum position outside 0..3"),
        ([{"name": "x", "type": "boolean"}], {"x": np.array([1, 0])}, "expected booleans"),
        ([{"name": "x", "type": "long"}], {"x": np.zeros((2, 2), dtype=np.int64)}, "shape"),
    ],
)
@pytest.mark.parametrize("repeat", [1, SMALL_BATCH])
def test_bad_columns_name_the_field(
    fields: list[dict[str, Any]], columns: dict[str, Any], message: str, repeat: int
) -> None:
    """A bad column raises EncodeError naming the field and problem, in small and large batches."""
    schema = {"type": "record", "name": "Bad", "fields": fields}
    tiled = {
        k: np.tile(v, (repeat, 1)) if v.ndim == 2 else np.tile(v, repeat)
        for k, v in columns.items()
    }
    with pytest.raises(EncodeError, match=message) as e:
        encode_columns(schema, tiled, n=2 * repeat if not columns else None)
    assert e.value.field == "x"


def test_small_and_large_batches_agree() -> None:
    """Batches just below and at the columnar threshold give the same bytes for the same rows."""
    columns = random_columns(SMALL_BATCH, 9)
    encoder = RecordEncoder(PARSED, schema_id=3)
    large = encoder.encode(columns)
    small = encoder.encode({k: v[:-1] for k, v in columns.items()})
    assert large.values()[:-1] == small.values()
    assert small.buffer == large.buffer[: large.offsets[-2]]
    assert list(small.offsets) == list(large.offsets[:-1])


def test_encoder_accepts_field_specs_of_loaded_schema() -> None:
    """An encoder built from a LoadedSchema uses the schema's checked field list."""
    schema = load_schemas(SCHEMAS).get("trx")
    encoder = RecordEncoder(schema)
    assert encoder.fields is schema.fields
    assert [f.name for f in encoder.fields] == [f.name for f in field_specs(schema.parsed)]
    assert encoder.fullname == "io.dogeconnect.banking.Trx"
