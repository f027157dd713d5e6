"""Encode throughput on one core: fastavro, confluent-kafka's AvroSerializer, our columnar encoder.

Usage: .venv/bin/python bench/encode.py [--schema balance] [--rows 200000] [--repeat 5]

Last, the columnar encode rate of a flat record with five fake() string fields (e-mail, name,
city, phone, street address: realistic, mostly distinct strings) against the `--schema` record.

All three produce ready-to-send values for the same rows of the banking schema; the reference
encoders get their input as dicts built beforehand (not timed), ours gets the engine's columns.
A "fastavro + dicts" line adds building those dicts from columns, the real cost of that route.
Batches below 48 rows are written by fastavro after the same column checks (numpy's fixed cost
per call would dominate), so small per-tick batches are timed too.
The figure of each is the best of `--repeat` runs. Reference (DESIGN.md section 7): fastavro
~370 k records/s per core.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastavro
import numpy as np
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from connector.core.types import ValueType
from connector.model.avro import FieldSpec, LoadedSchema, load_schemas, parse_schema_text
from connector.model.expr.fakes import FakeDraw
from connector.serde.encoder import RecordEncoder

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
START_MS = 1_644_549_708_000
FAKE_KINDS = ("email", "name", "city", "phone", "street_address")
FAKE_SCHEMA = parse_schema_text(json.dumps({
    "type": "record", "name": "Person", "namespace": "bench", "fields": [
        {"name": "user_id", "type": "string"}, *({"name": k, "type": "string"} for k in FAKE_KINDS),
        {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}))


def fake_columns(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    """A flat record's columns with five fake() string fields, as the engine would emit them."""
    gen = np.random.Generator(np.random.SFC64(seed))
    cols = make_columns(FAKE_SCHEMA, n, seed)
    cols.update({k: FakeDraw(k, "en_US")(gen, n) for k in FAKE_KINDS})
    return cols


def make_columns(schema: LoadedSchema, n: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Columns shaped like one engine batch: ascending user ids, one tick's timestamps."""
    rng = np.random.default_rng(seed)
    ids = np.sort(rng.choice(1_000_000, size=n, replace=False))
    cols: dict[str, np.ndarray] = {}
    for f in schema.fields:
        cols[f.name] = _column(f, ids, rng)
    return cols


def _column(f: FieldSpec, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = int(ids.shape[0])
    if f.name == "user_id":
        return np.array(list(map(str, ids.tolist())), dtype=object)
    if f.value_type is ValueType.TIMESTAMP:
        return START_MS + 60_000 * 1000 + rng.integers(0, 60_000, size=n)
    if f.value_type is ValueType.LONG:
        magnitude = rng.lognormal(7, 2, size=n).astype(np.int64)
        signed: np.ndarray = magnitude * rng.choice([-1, 1], size=n)
        return signed
    if f.value_type is ValueType.DOUBLE:
        return rng.normal(0, 1e3, size=n)
    if f.value_type is ValueType.BOOLEAN:
        return rng.random(size=n) < 0.5
    choices = list(f.symbols or ("login", "open_loan_screen", "close_loan_screen", "take_loan"))
    return np.array(choices, dtype=object)[rng.integers(0, len(choices), size=n)]


def to_records(cols: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    names = list(cols)
    lists = [cols[k].tolist() for k in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*lists, strict=True)]


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--schema", default="balance")
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--batches", default="10,100,1000", help="also time per-tick batches of these sizes"
    )
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says

    schema = load_schemas(SCHEMAS).get(args.schema)
    n = args.rows
    cols = make_columns(schema, n)
    records = to_records(cols)
    parsed = schema.parsed

    def fastavro_run() -> list[bytes]:
        out = []
        for r in records:
            buf = io.BytesIO()
            fastavro.schemaless_writer(buf, parsed, r)
            out.append(buf.getvalue())
        return out

    def fastavro_dicts_run() -> list[bytes]:
        out = []
        for r in to_records(cols):
            buf = io.BytesIO()
            fastavro.schemaless_writer(buf, parsed, r)
            out.append(buf.getvalue())
        return out

    registry = SchemaRegistryClient.new_client({"url": "mock://bench"})
    serializer = AvroSerializer(registry, schema.schema_str)
    ctx = SerializationContext(f"bench-{schema.name}", MessageField.VALUE)

    def confluent_run() -> list[bytes]:
        return [serializer(r, ctx) for r in records]

    encoder = RecordEncoder(schema, schema_id=1)

    def ours_run() -> tuple[bytes, ...]:
        return encoder.encode(cols, n).values()

    def ours_buffer_run() -> object:
        return encoder.encode(cols, n)

    # Same bytes from everyone (serializer ids come from the mock registry, so compare bodies).
    ours = ours_run()
    assert [v[5:] for v in ours] == fastavro_run(), "columnar encoder differs from fastavro"
    assert [v[5:] for v in ours] == [v[5:] for v in confluent_run()]

    rows = [
        ("fastavro schemaless_writer (dicts ready)", best(fastavro_run, args.repeat)),
        ("fastavro + building dicts from columns", best(fastavro_dicts_run, args.repeat)),
        ("confluent-kafka AvroSerializer (per record)", best(confluent_run, args.repeat)),
        ("columnar encoder, framed, per-record bytes", best(ours_run, args.repeat)),
        ("columnar encoder, framed, one buffer", best(ours_buffer_run, args.repeat)),
    ]
    avg = sum(map(len, ours)) / n
    print(
        f"schema {schema.fullname}: {n} records, {avg:.1f} bytes each (framed), "
        f"best of {args.repeat}"
    )
    base = n / rows[0][1]
    for label, secs in rows:
        rate = n / secs
        print(f"  {label:<46} {rate / 1e3:9.0f} k rec/s  {rate / base:5.2f}x fastavro")
    ratio = (n / rows[3][1]) / (n / rows[2][1])
    print(f"  columnar per-record bytes vs AvroSerializer: {ratio:.1f}x; target >= 1500 k rec/s")
    for size in [int(b) for b in args.batches.split(",") if b]:
        chunks = [{k: v[i : i + size] for k, v in cols.items()} for i in range(0, n, size)]

        def batched_run(chunks: list[dict[str, np.ndarray]] = chunks) -> None:
            for c in chunks:
                encoder.encode(c).values()

        rate = n / best(batched_run, args.repeat)
        print(
            f"  columnar, batches of {size:<6} (per-record bytes) {rate / 1e3:9.0f} k rec/s  "
            f"{rate / base:5.2f}x fastavro"
        )
    fake_cols = fake_columns(n)
    fake_encoder = RecordEncoder(FAKE_SCHEMA, schema_id=1)
    values = fake_encoder.encode(fake_cols, n).values()
    fake_records = to_records(fake_cols)
    for v, r in zip(values[:1000], fake_records, strict=False):  # same bytes as fastavro
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, FAKE_SCHEMA.parsed, r)
        assert v[5:] == buf.getvalue(), "columnar encoder differs from fastavro"
    fake_rate = n / best(lambda: fake_encoder.encode(fake_cols, n).values(), args.repeat)
    flat_rate = n / rows[3][1]
    fake_bytes = sum(map(len, values)) / n
    print(f"flat record with 5 fake() strings ({', '.join(FAKE_KINDS)}), {fake_bytes:.1f} bytes: "
          f"{fake_rate / 1e3:.0f} k rec/s, {fake_rate / flat_rate:.2f}x the {schema.name} "
          f"record's rate (target >= 0.5x); in bytes/s "
          f"{fake_rate * fake_bytes / (flat_rate * avg):.2f}x")


if __name__ == "__main__":
    main()
