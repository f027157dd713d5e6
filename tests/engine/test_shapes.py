"""Models filling nested records, arrays, maps, unions and logical types; keys and headers."""

from __future__ import annotations

import decimal
import hashlib
import io
from typing import Any

import fastavro
import numpy as np
import pytest

from connector.core.batch import EventColumns, TickBatch
from connector.core.columns import StructColumn, to_python
from connector.core.staged import merge
from connector.engine.shard import ShardEngine, step_shards
from connector.errors import UserError
from connector.serde.encoder import RecordEncoder
from connector.serde.keys import KeyFormat
from connector.serde.records import KafkaTopicPlan, kafka_records, key_serializer
from tests.engine.conftest import EngineFactory
from tests.model.test_fills import shop

ADDRESS = {"type": "record", "name": "Address", "fields": [
    {"name": "street", "type": "string"}, {"name": "city", "type": "string"},
    {"name": "zip", "type": ["null", "string"], "default": None}]}
LINE = {"type": "record", "name": "Line", "fields": [
    {"name": "sku", "type": "string"}, {"name": "qty", "type": "int"},
    {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9,
                               "scale": 2}}]}
ORDER = {"type": "record", "name": "Order", "namespace": "shop", "fields": [
    {"name": "order_id", "type": "string"},
    {"name": "customer", "type": {"type": "record", "name": "Customer", "fields": [
        {"name": "id", "type": "long"}, {"name": "plan", "type": "string"},
        {"name": "address", "type": ADDRESS}]}},
    {"name": "lines", "type": {"type": "array", "items": LINE}},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "attrs", "type": {"type": "map", "values": "long"}},
    {"name": "counts", "type": {"type": "map", "values": "int"}},
    {"name": "shipping", "type": ["null", "shop.Address"], "default": None},
    {"name": "payment", "type": ["null", "long", "string"]},
    {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
    {"name": "day", "type": {"type": "int", "logicalType": "date"}},
    {"name": "at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
    {"name": "total", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12,
                               "scale": 2}},
    {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}
KEY = {"type": "record", "name": "OrderKey", "namespace": "shop",
       "fields": [{"name": "key", "type": "string"}]}


def order_model(**topic: Any) -> dict[str, Any]:
    return {
        "states": ["browsing"],
        "attributes": {"plan": {"type": "string", "initial": "choice(['free', 'gold'])"},
                       "spent": {"type": "double", "initial": "0.0"}},
        "topics": {"orders": {"schema": ORDER, **topic}},
        "transitions": [{
            "name": "order", "from": "browsing", "to": "browsing", "chance": 50,
            "vars": {"n": "randint(0, 3)", "amount": "round(uniform(1, 500), 2)"},
            "update": ["spent += amount"],
            "emit": [{"topic": "orders", "fields": {
                "order_id": "'o-' + string(user_id) + '-' + string(tick)",
                "customer.id": "user_id",
                "customer.address": {"street": "'Main St ' + string(user_id % 7)",
                                     "city": "choice(['Oslo', 'Rome'])"},
                "lines": {"length": "n", "item": {
                    "sku": "'sku-' + string(index)", "qty": "randint(1, 5)",
                    "price": "uniform(1, 99)"}},
                "tags": ["plan", "'web'"],
                "attrs": {"entries": {"tick": "tick", "user": "user_id"}},
                "counts": {"length": "2", "key": "'k' + string(index)", "value": "index * 10"},
                "shipping": {"if": "user_id % 2 == 0", "then": {
                    "street": "'Dock ' + string(user_id)", "city": "'Bergen'"}},
                "payment": {"if": "amount > 250", "then": "user_id", "else": "'card'"},
                "status": "if(amount > 100, 'PAID', 'NEW')",
                "day": "time",
                "at": "time",
                "total": "amount",
            }}],
        }],
    }


def _events(engines: list[ShardEngine], ticks: int) -> list[EventColumns]:
    out: list[EventColumns] = []
    for _ in range(ticks):
        for batch in step_shards(engines):
            out.extend(batch.events)
    return out


def _order_id(row: dict[str, Any]) -> str:
    return str(row["order_id"])


def _rows(events: list[EventColumns]) -> list[dict[str, Any]]:
    rows = []
    for e in events:
        rows.extend(to_python(StructColumn(e.fields, len(e))))
    return rows


def test_nested_values_follow_the_model(engines: EngineFactory) -> None:
    """Nested records, dotted names, arrays, maps, unions and logical types hold what was asked."""
    start = 1_704_067_200_000
    events = _events(engines(order_model(), users=40, start_ms=start), 3)
    rows = _rows(events)
    assert rows
    for row in rows:
        user = row["customer"]["id"]
        assert row["order_id"].startswith(f"o-{user}-")
        assert row["customer"]["plan"] in ("free", "gold")  # by name from the attribute
        assert row["customer"]["address"]["street"] == f"Main St {user % 7}"
        assert row["customer"]["address"]["zip"] is None  # the schema default
        assert len(row["lines"]) <= 3
        assert [line["sku"] for line in row["lines"]] == [f"sku-{i}" for i in
                                                            range(len(row["lines"]))]
        assert all(1 <= line["qty"] <= 5 for line in row["lines"])
        assert all(isinstance(line["price"], decimal.Decimal) for line in row["lines"])
        assert row["tags"] == [row["customer"]["plan"], "web"]
        assert row["attrs"] == {"tick": row["attrs"]["tick"], "user": user}
        assert row["counts"] == {"k0": 0, "k1": 10}
        assert (row["shipping"] is None) == (user % 2 == 1)
        if row["shipping"] is not None:
            assert row["shipping"] == {"street": f"Dock {user}", "city": "Bergen", "zip": None}
        amount = float(row["total"])
        assert row["payment"] == (user if amount > 250 else "card")
        assert row["status"] == ("PAID" if amount > 100 else "NEW")
        assert row["day"] == row["timestamp"] // 86_400_000
        assert row["at"] == row["timestamp"] * 1000
        assert row["total"] == decimal.Decimal(str(amount)).quantize(decimal.Decimal("0.01"))


def test_nested_events_encode_like_fastavro(engines: EngineFactory) -> None:
    """What the engine builds encodes (columnar) to the bytes fastavro writes for the rows."""
    events = _events(engines(order_model(), users=300), 2)
    encoder = RecordEncoder({**ORDER})
    parsed = fastavro.parse_schema({**ORDER})
    for e in events:
        rows = to_python(StructColumn(e.fields, len(e)), tagged=True)
        expected = []
        for row in rows:
            out = io.BytesIO()
            fastavro.schemaless_writer(out, parsed, row)
            expected.append(out.getvalue())
        assert list(encoder.encode(e.fields, len(e)).values()) == expected


def test_output_does_not_depend_on_grouping_of_shards(engines: EngineFactory) -> None:
    """Random draws of array items are per shard: stepping shards together or alone agrees."""
    together = _rows(_events(engines(order_model(), users=90, shards=3), 3))
    alone: list[dict[str, Any]] = []
    solo = engines(order_model(), users=90, shards=3)
    for _ in range(3):
        for engine in solo:
            alone_events = engine.step().events
            alone.extend(_rows(list(alone_events)))
    assert sorted(together, key=_order_id) == sorted(alone, key=_order_id)


def test_keys_and_headers_are_columns(engines: EngineFactory) -> None:
    """`key:` and `headers:` give each event a key column and header columns."""
    model = order_model(key="order_id", headers={"source": "'doge'", "plan": "plan"})
    events = _events(engines(model, users=30), 2)
    for e in events:
        assert e.keys is not None and isinstance(e.keys, np.ndarray)
        assert e.keys.tolist() == e.array("order_id").tolist()
        headers = dict(e.headers)
        assert set(headers["source"].tolist()) == {"doge"}
        assert len(headers["plan"]) == len(e)


def test_record_key_and_null_key(engines: EngineFactory) -> None:
    """A record key fills its fields like a value; `key: null` gives null keys."""
    model = order_model(key={"schema": KEY, "fields": {"key": "order_id"}})
    (e, *_) = _events(engines(model, users=30), 1)
    assert isinstance(e.keys, StructColumn)
    assert to_python(e.keys) == [{"key": o} for o in e.array("order_id").tolist()]
    (e, *_) = _events(engines(order_model(key=None), users=30), 1)
    assert isinstance(e.keys, np.ndarray) and set(e.keys.tolist()) == {None}


@pytest.mark.parametrize("key", ["missing_name", "amount"])
def test_key_errors_name_the_topic(engines: EngineFactory, key: str) -> None:
    """A key expression that is unknown or of the wrong type is refused with the topic's path."""
    with pytest.raises(UserError, match=r"topics\.orders\.key"):
        engines(order_model(key=key), users=3)


def shop_digest(batches: list[TickBatch], engine: ShardEngine) -> str:
    """Hash of every event's encoded value, keys and headers."""
    h = hashlib.sha256()
    model = engine.plan.model
    plans = {t: KafkaTopicPlan(t, 6, RecordEncoder(s), key_serializer(model, t, KeyFormat.STRING))
             for t, s in model.schemas.items()}
    for batch in batches:
        for e in batch.events:
            records = kafka_records(plans[e.topic], merge([(batch.tick, e)]))
            for value, key, part, ts in records:
                h.update(value + (key or b"-") + f"/{part}/{ts}".encode())
            h.update(repr(records.headers).encode())
    return h.hexdigest()


def _shop(users: int) -> dict[str, Any]:
    model = shop()
    model["population"] = {"users": users, "arrivals": {"per_hour": 60}}
    return model


def test_shop_is_deterministic_across_restores_and_replays(engines: EngineFactory) -> None:
    """Same seed, same bytes (nested values, record keys, headers); a snapshot restored mid-run
    and a silent replay continue with exactly the bytes of an uninterrupted run."""
    reference = engines(_shop(800), users=800, shards=2, seed=3)[1]
    expected = shop_digest([reference.step() for _ in range(240)], reference)
    again = engines(_shop(800), users=800, shards=2, seed=3)[1]
    assert shop_digest([again.step() for _ in range(240)], again) == expected
    first = engines(_shop(800), users=800, shards=2, seed=3)[1]
    head = [first.step() for _ in range(100)]
    restored = engines(_shop(800), users=800, shards=2, seed=3)[1]
    restored.restore(first.snapshot())
    assert shop_digest(head + [restored.step() for _ in range(140)], restored) == expected
    replayed = engines(_shop(800), users=800, shards=2, seed=3)[1]
    for _ in range(100):
        replayed.step(build_events=False)
    assert shop_digest(head + [replayed.step() for _ in range(140)], replayed) == expected
    other = engines(_shop(800), users=800, shards=2, seed=4)[1]
    assert shop_digest([other.step() for _ in range(240)], other) != expected
