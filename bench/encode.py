"""Encode throughput on one core: fastavro, confluent-kafka's AvroSerializer, our columnar encoder.

Usage: .venv/bin/python bench/encode.py [--schema balance] [--rows 200000] [--repeat 5]
       [--users 100000 --ticks 120]

Then the rate of every value format (avro, json, json-schema, protobuf) on the same columns,
min / median / max over interleaved rounds, and the size of the banking run's local Avro files
per codec (bench/formats.py).

Last, the columnar encode rate of a flat record with five fake() string fields (e-mail, name,
city, phone, street address: realistic, mostly distinct strings) against the `--schema` record,
and of the same record with a nested record (an account: id, plan enum, balance decimal, opened
timestamp), measured `--rounds` times alternately with the flat `--schema` record and with the
same values held flat: the rates and ratios per round (target: >= 0.5x). Then what carrying
the fake() strings as dictionary-encoded columns would gain (bench/dictionary.py).

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
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastavro
import numpy as np
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from connector.core.columns import Column, StructColumn, decimals, to_python
from connector.core.types import ValueType
from connector.model.avro import FieldSpec, LoadedSchema, load_schemas, parse_schema_text
from connector.model.expr.fakes import FakeDraw
from connector.serde.encoder import RecordEncoder

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
sys.path.insert(0, str(ROOT))

from bench.dictionary import print_dictionary
from bench.formats import print_rates, print_sizes

START_MS = 1_644_549_708_000
FAKE_KINDS = ("email", "name", "city", "phone", "street_address")
FAKE_SCHEMA = parse_schema_text(json.dumps({
    "type": "record", "name": "Person", "namespace": "bench", "fields": [
        {"name": "user_id", "type": "string"}, *({"name": k, "type": "string"} for k in FAKE_KINDS),
        {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}))
ACCOUNT: dict[str, Any] = {"type": "record", "name": "Account", "fields": [
    {"name": "id", "type": "long"},
    {"name": "plan", "type": {"type": "enum", "name": "Plan", "symbols": ["FREE", "PLUS", "PRO"]}},
    {"name": "balance", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12,
                                 "scale": 2}},
    {"name": "opened", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}
NESTED_SCHEMA = parse_schema_text(json.dumps({
    "type": "record", "name": "PersonWithAccount", "namespace": "bench", "fields": [
        *json.loads(FAKE_SCHEMA.schema_str)["fields"][:-1],
        {"name": "account", "type": ACCOUNT},
        {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}))


def fake_columns(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    """A flat record's columns with five fake() string fields, as the engine would emit them."""
    gen = np.random.Generator(np.random.SFC64(seed))
    cols = make_columns(FAKE_SCHEMA, n, seed)
    cols.update({k: FakeDraw(k, "en_US")(gen, n) for k in FAKE_KINDS})
    return cols


FLATTENED_SCHEMA = parse_schema_text(json.dumps({
    "type": "record", "name": "PersonFlat", "namespace": "bench", "fields": [
        *json.loads(FAKE_SCHEMA.schema_str)["fields"][:-1],
        *({**f, "name": f"account_{f['name']}"} for f in ACCOUNT["fields"]),
        {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}))


def nested_columns(n: int, seed: int = 7) -> dict[str, Column]:
    """fake_columns plus the nested account record, as StructColumn sub-columns."""
    gen = np.random.default_rng(seed)
    cols: dict[str, Column] = dict(fake_columns(n, seed))
    plans = np.array(["FREE", "PLUS", "PRO"], dtype=object)
    cols["account"] = StructColumn({
        "id": gen.integers(0, 10**9, size=n),
        "plan": plans[gen.integers(0, 3, size=n)],
        "balance": decimals(np.round(gen.lognormal(6, 1.5, size=n), 2), 2),
        "opened": START_MS - gen.integers(0, 10**11, size=n)}, n)
    return cols


def nested_vs_flat(flat: RecordEncoder, flat_cols: dict[str, np.ndarray], n: int, repeat: int,
                   rounds: int) -> None:
    """The record with 5 fake() fields and a nested record, against the flat `--schema` record
    and against the same values held flat (the account's fields at the top level: what the
    encoder wrote before nested records), alternately: the machine's load drifts, so each
    round's ratios compare neighbours in time."""
    nested = RecordEncoder(NESTED_SCHEMA, schema_id=1)
    cols = nested_columns(n)
    rows = to_python(StructColumn(cols, n), tagged=True)
    for v, r in zip(nested.encode(cols, n).values()[:1000], rows, strict=False):
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, NESTED_SCHEMA.parsed, r)
        assert v[5:] == buf.getvalue(), "columnar encoder differs from fastavro"
    account = cols["account"]
    assert isinstance(account, StructColumn)
    unnested = RecordEncoder(FLATTENED_SCHEMA, schema_id=1)
    unnested_cols = {k: v for k, v in cols.items() if k != "account"}
    unnested_cols.update({f"account_{k}": v for k, v in account.fields.items()})
    sizes = [sum(map(len, e.encode(c, n).values())) / n for e, c in
             ((flat, flat_cols), (nested, cols))]
    ratios = []
    for i in range(rounds):
        flat_rate = n / best(lambda: flat.encode(flat_cols, n).values(), repeat)
        nested_rate = n / best(lambda: nested.encode(cols, n).values(), repeat)
        unnested_rate = n / best(lambda: unnested.encode(unnested_cols, n).values(), repeat)
        ratios.append((nested_rate / unnested_rate, nested_rate / flat_rate,
                       nested_rate * sizes[1] / (flat_rate * sizes[0])))
        print(f"  round {i + 1}: flat {flat_rate / 1e3:5.0f} k rec/s; 5 fake() + nested record "
              f"{nested_rate / 1e3:4.0f} k rec/s, same values unnested {unnested_rate / 1e3:4.0f}"
              f" k rec/s: nested/unnested {ratios[-1][0]:.2f}x, nested/flat {ratios[-1][1]:.2f}x"
              f" (bytes/s {ratios[-1][2]:.2f}x)")
    median = [sorted(r[k] for r in ratios)[len(ratios) // 2] for k in range(3)]
    print(f"5 fake() fields + a nested record ({sizes[1]:.0f} bytes vs {sizes[0]:.0f}), median "
          f"of {rounds} rounds: {median[0]:.2f}x the rate of the same values unnested, "
          f"{median[1]:.2f}x the flat {flat.fullname} record's rate in records/s, "
          f"{median[2]:.2f}x in bytes/s (target >= 0.5x)")


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
    ap.add_argument("--rounds", type=int, default=3, help="rounds of nested vs flat")
    ap.add_argument(
        "--batches", default="10,100,1000", help="also time per-tick batches of these sizes"
    )
    ap.add_argument("--users", type=int, default=100_000, help="banking users of the file run")
    ap.add_argument("--ticks", type=int, default=120, help="ticks of the file run")
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
    nested_vs_flat(encoder, cols, n, args.repeat, args.rounds)
    print_dictionary(schema, cols, FAKE_SCHEMA, fake_cols, n, 2 * args.repeat + 1)

    print_rates(schema, cols, n, args.repeat)
    print_sizes(args.users, args.ticks)


if __name__ == "__main__":
    main()
