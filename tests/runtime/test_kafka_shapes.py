"""Nested values, record keys, null keys and headers through a real worker, broker and registry."""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.confluent.type.decimal_utils import from_proto_decimal
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from connector.model.avro import load_schemas
from connector.serde.formats import Format
from connector.serde.partitioner import partition
from tests.helpers import ROOT
from tests.model.test_fills import shop
from tests.runtime.harness import KafkaRun, assert_exact, reference
from tests.runtime.reading import partition_counts, read_all
from tests.serde.protoc import message_class

pytestmark = pytest.mark.integration
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def _model() -> dict[str, Any]:
    """The shop example, its page views unkeyed (key: null) to see null keys spread."""
    model = shop()
    model["topics"]["shop_views"]["key"] = None
    model["population"] = {"users": 3000, "arrivals": {"per_day": 300}}
    return model


def test_shop_round_trip_with_keys_and_headers(kafka_run: KafkaRun) -> None:
    """After a kill -9 and a resume, a read_committed consumer sees exactly the reference:
    order values and their record keys decode with AvroDeserializer (key schema registered
    under <topic>-key), keyed orders sit on the Java client's partition, unkeyed views spread
    over every partition, and every order carries its headers."""
    connector = kafka_run.connector(_model(), users=3000, shards=4, tasks_max=2, ticks=480,
                                    seed=11, transaction_boundary="ticks",
                                    transaction_boundary_ticks=20)
    proc = kafka_run.start_worker(connector)
    time.sleep(6.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert kafka_run.run_worker(connector) == 0, kafka_run.logs()

    topics = kafka_run.topics(connector)
    orders_topic, views_topic = (kafka_run.prefix + t for t in ("shop_orders", "shop_views"))
    records = read_all(kafka_run.bootstrap, topics)
    counts = partition_counts(kafka_run.bootstrap, topics)
    registry = SchemaRegistryClient({"url": kafka_run.registry})
    key_id = registry.get_latest_version(f"{orders_topic}-key").schema_id
    assert key_id is not None
    assert_exact(records, reference(connector, kafka_run.tmp, counts, {orders_topic: key_id}))

    deserialize = AvroDeserializer(registry)
    orders = [r for r in records if r.topic == orders_topic]
    views = [r for r in records if r.topic == views_topic]
    assert len(orders) > 100 and len(views) > 1000
    for r in orders:
        value = deserialize(r.value, SerializationContext(r.topic, MessageField.VALUE))
        key = deserialize(r.key, SerializationContext(r.topic, MessageField.KEY))
        assert value is not None and key == {"order_id": value["order_id"]}
        assert r.partition == partition(r.key, counts[r.topic])
        assert value["customer"]["address"]["country"] == "DE"
        assert 1 <= len(value["items"]) <= 4
        headers = dict(r.headers)
        assert headers["source"] == b"doge-shop"
        trace = headers["trace_id"]
        assert trace is not None and UUID.fullmatch(trace.decode())
    assert len({dict(r.headers)["trace_id"] for r in orders}) == len(orders)
    assert all(r.null_key and not r.headers for r in views)
    spread = Counter(r.partition for r in views)
    assert set(spread) == set(range(counts[views_topic]))
    assert max(spread.values()) < 1.5 * min(spread.values())


def test_shop_orders_as_protobuf(kafka_run: KafkaRun) -> None:
    """The shop's nested orders written as protobuf: the registry takes the derived .proto
    (nested messages, repeated line items, Confluent's Decimal), confluent-kafka's
    ProtobufDeserializer reads every order back with the nested values, and the records equal
    the reference run's."""
    connector = kafka_run.connector(_model(), users=3000, shards=2, tasks_max=2, ticks=480,
                                    seed=11, value_format="protobuf")
    assert kafka_run.run_worker(connector) == 0, kafka_run.logs()
    topics = kafka_run.topics(connector)
    orders_topic = kafka_run.prefix + "shop_orders"
    records = read_all(kafka_run.bootstrap, topics)
    counts = partition_counts(kafka_run.bootstrap, topics)
    registry = SchemaRegistryClient({"url": kafka_run.registry})
    registered = registry.get_latest_version(f"{orders_topic}-value").schema
    assert registered.schema_type == "PROTOBUF"
    assert "message LineItem" in (registered.schema_str or "")
    key_id = registry.get_latest_version(f"{orders_topic}-key").schema_id
    assert key_id is not None
    assert_exact(records, reference(connector, kafka_run.tmp, counts, {orders_topic: key_id}),
                 Format.PROTOBUF)
    schema = load_schemas(ROOT / "schemas").get("shop_orders")
    decode = ProtobufDeserializer(message_class(schema), {"use.deprecated.format": False})
    orders = [r for r in records if r.topic == orders_topic]
    assert len(orders) > 50
    for r in orders:
        order = decode(r.value, SerializationContext(r.topic, MessageField.VALUE))
        assert order.order_id.startswith("ORD-") and order.timestamp == r.timestamp
        assert order.customer.address.country == "DE" and "@" in order.customer.email
        assert 1 <= len(order.items) <= 4
        for item in order.items:
            price = from_proto_decimal(item.unit_price)
            assert price > 0 and price.as_tuple().exponent == -2
        assert order.payment.HasField("card") == (order.payment.method == 0)  # CARD
