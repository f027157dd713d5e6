"""Kafka records of a topic: keys from key columns, partitions (null keys too), headers."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

import attrs
import fastavro
import numpy as np
import pytest

from connector.core.batch import EventColumns
from connector.core.columns import StructColumn
from connector.core.staged import TopicRows, merge
from connector.model.avro import schema_from_dict
from connector.serde.encoder import SMALL_BATCH, RecordEncoder
from connector.serde.keys import KeyFormat, KeySerializer
from connector.serde.partitioner import partition
from connector.serde.records import KafkaTopicPlan, kafka_records
from connector.serde.wire import header

VALUE = {"type": "record", "name": "V", "fields": [{"name": "x", "type": "long"}]}
KEY = {"type": "record", "name": "K", "fields": [{"name": "key", "type": "string"}]}


def _strings(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _events(n: int, keys: Any = None, headers: tuple[tuple[str, np.ndarray], ...] = (),
            first_user: int = 0) -> EventColumns:
    ids = np.arange(first_user, first_user + n, dtype=np.int64)
    return EventColumns("t", "tr", ids, np.full(n, 1000, dtype=np.int64), {"x": ids}, keys,
                        headers)


def _staged(events: list[EventColumns], origins: list[tuple[int, int]] | None = None
            ) -> TopicRows:
    """Emits staged as a destination stages them: each of (shard, tick) `origins[i]`."""
    places = origins or [(0, 0)] * len(events)
    return merge([(tick, attrs.evolve(e, shards=(shard,)))
                  for e, (shard, tick) in zip(events, places, strict=True)])


def _plan(keys: KeySerializer, partitions: int = 6) -> KafkaTopicPlan:
    return KafkaTopicPlan("t", partitions, RecordEncoder(VALUE), keys)


@pytest.mark.parametrize("n", [5, SMALL_BATCH + 5])
def test_string_keys_are_utf8_and_partitioned_by_murmur2(n: int) -> None:
    """STRING key columns are sent as UTF-8 (StringSerializer's bytes) on the Java partition."""
    keys = _strings([f"order-{i}-ü" for i in range(n)])
    records = kafka_records(_plan(KeySerializer()), _staged([_events(n, keys)]))
    assert list(records.keys) == [k.encode() for k in keys.tolist()]
    assert list(records.partitions) == [partition(k.encode(), 6) for k in keys.tolist()]


@pytest.mark.parametrize("n", [5, SMALL_BATCH + 5])
def test_avro_string_and_long_keys(n: int) -> None:
    """Under key.format avro-string a STRING key is a framed Avro string; LONG keys are written
    like user ids; avro-long refuses strings."""
    keys = _strings([f"k{i}" for i in range(n)])
    framed = KeySerializer(KeyFormat.AVRO_STRING, schema_id=9)
    values = kafka_records(_plan(framed), _staged([_events(n, keys)])).keys
    assert list(values) == [header(9) + bytes([2 * len(k)]) + k.encode() for k in keys.tolist()]
    longs = np.arange(n, dtype=np.int64) * 7
    as_ids = kafka_records(_plan(KeySerializer()), _staged([_events(n, longs)])).keys
    assert list(as_ids) == [str(v).encode() for v in longs.tolist()]
    with pytest.raises(ValueError, match="avro-long needs LONG keys"):
        kafka_records(_plan(KeySerializer(KeyFormat.AVRO_LONG)), _staged([_events(n, keys)]))


@pytest.mark.parametrize("n", [3, SMALL_BATCH + 3])
def test_record_keys_are_framed_avro_records(n: int) -> None:
    """A record key is the key schema's Avro record, framed with the key schema's id."""
    schema = schema_from_dict(KEY)
    column = StructColumn({"key": _strings([f"u{i}" for i in range(n)])}, n)
    plan = _plan(KeySerializer(record=schema, schema_id=4))
    records = kafka_records(plan, _staged([_events(n, column)]))
    parsed = fastavro.parse_schema(KEY)
    for i, key in enumerate(records.keys):
        out = io.BytesIO()
        fastavro.schemaless_writer(out, parsed, {"key": f"u{i}"})
        assert key == header(4) + out.getvalue()
        assert records.partitions[i] == partition(key, 6)


def test_null_keys_go_round_robin_from_shard_and_tick() -> None:
    """Null keys: the i-th record of shard s in tick t goes to partition (s + t + i) mod P, so
    they spread evenly and depend on nothing but the output's own position."""
    n = 100
    nulls = _strings([None] * n)
    events = [_events(n, nulls), _events(n, nulls, first_user=n), _events(n, nulls)]
    origins = [(3, 10), (3, 10), (4, 10)]  # two emits of shard 3's tick, one of shard 4's
    records = kafka_records(_plan(KeySerializer(), 7), _staged(events, origins))
    assert list(records.keys) == [None] * (3 * n)
    expected = [(13 + i) % 7 for i in range(2 * n)] + [(14 + i) % 7 for i in range(n)]
    assert list(records.partitions) == expected
    counts = Counter(records.partitions)
    assert max(counts.values()) - min(counts.values()) <= 2 * 3


def test_null_keys_of_shards_stepped_together_go_where_they_would_stepped_alone() -> None:
    """An emit of shards 4 and 3 stepped together (rows grouped by shard) is committed shard by
    shard, each null-keyed row on the partition it would have had with its shard stepped alone."""
    n = 50
    nulls = _strings([None] * (3 * n))
    together = _events(3 * n, nulls)
    together = attrs.evolve(together, timestamps=together.user_ids, shards=(4, 3),
                            bounds=(0, n, 3 * n))
    single = _events(n, _strings([None] * n), first_user=500)
    single = attrs.evolve(single, timestamps=single.user_ids, shards=(3,))
    records = kafka_records(_plan(KeySerializer(), 7), merge([(10, together), (10, single)]))
    # shard 3: its rows of the grouped emit, then its single emit; then shard 4's rows
    assert list(records.timestamps) == list(range(n, 3 * n)) + list(range(500, 500 + n)) + \
        list(range(n))
    expected = [(13 + i) % 7 for i in range(3 * n)] + [(14 + i) % 7 for i in range(n)]
    assert list(records.partitions) == expected


def test_nullable_keys_mix_hash_and_round_robin() -> None:
    """Where a nullable key is present it is hashed; where it is null it goes round-robin."""
    keys = _strings(["a", None, "b", None])
    records = kafka_records(_plan(KeySerializer(), 5), _staged([_events(4, keys)], [(1, 2)]))
    assert list(records.keys) == [b"a", None, b"b", None]
    assert list(records.partitions) == [partition(b"a", 5), (3 + 1) % 5, partition(b"b", 5),
                                        (3 + 3) % 5]


def test_default_keys_are_user_ids_and_headers_are_utf8() -> None:
    """Without a key column the key is the user id; header columns become per-record lists."""
    headers = (("trace", _strings(["t0", "t1"])), ("src", _strings(["x", None])))
    records = kafka_records(_plan(KeySerializer()), _staged([_events(2, None, headers, 40)]))
    assert list(records.keys) == [b"40", b"41"]
    assert records.headers == [[("trace", b"t0"), ("src", b"x")], [("trace", b"t1"), ("src", None)]]
