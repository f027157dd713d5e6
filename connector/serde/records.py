"""What goes to Kafka for a topic's events: framed values, keys, partitions, timestamps, headers.

The one definition of the Kafka records of a batch of engine output, used by the Kafka
destination, the end-to-end benchmark and the tests' reference output alike.

Partitions: a keyed record goes where the Java client would put it (murmur2 of the serialized
key). A record with a null key (`key: null`) goes round-robin, deterministically: the i-th
record (null-keyed or not) of shard s's events of one topic in tick t goes to partition
(s + t + i) mod partitions. The Java client's sticky partitioner would spread them too, but
by batch timing, which no run repeats; this spreads them as evenly and depends only on
(shard, tick, position), which the committed output already is a pure function of.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence

import attrs
import numpy as np
import numpy.typing as npt

from connector.core.staged import Runs, TopicRows
from connector.errors import Problem, UserError
from connector.model.spec import KeyKind
from connector.model.validate import ValidatedModel
from connector.serde.encoder import EncodedBatch
from connector.serde.keybatch import KeyBatch
from connector.serde.keys import RECORD_KEY_FORMATS, STRING_KEY_FORMATS, KeyFormat, KeySerializer
from connector.serde.partitioner import partitions
from connector.serde.userkeys import UserKeys
from connector.serde.values import ValueEncoder

Header = tuple[str, str | bytes | None]


@attrs.frozen
class KafkaTopicPlan:
    """Where one model topic goes: Kafka topic name, partition count, value and key encoders;
    `user_keys` keeps each user's key and partition (topics with one key serializer may share
    one)."""

    kafka_topic: str
    partitions: int
    encoder: ValueEncoder
    keys: KeySerializer
    user_keys: UserKeys = attrs.field(
        default=attrs.Factory(lambda self: UserKeys(self.keys), takes_self=True), eq=False)


@attrs.frozen
class Records:
    """One topic's records, columnar (what connector/kafka/native.py produces in one call), with
    each column as a list of Python objects on demand (what `Producer.produce` takes)."""

    topic: str
    value_batch: EncodedBatch
    key_batch: KeyBatch
    partition_array: npt.NDArray[np.int32] = attrs.field(eq=False)
    timestamp_array: npt.NDArray[np.int64] = attrs.field(eq=False)
    headers: Sequence[list[Header]] | None = None  # None: no record has headers

    @classmethod
    def from_lists(cls, topic: str, values: Sequence[bytes], keys: Sequence[bytes | None],
                   partitions: Sequence[int], timestamps: Sequence[int]) -> Records:
        """Records that exist one by one (encoded elsewhere)."""
        return cls(topic, EncodedBatch.from_values(values), KeyBatch.from_values(keys),
                   np.asarray(partitions, dtype=np.int32), np.asarray(timestamps, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.value_batch)

    @functools.cached_property
    def values(self) -> Sequence[bytes]:
        return self.value_batch.values()

    @functools.cached_property
    def keys(self) -> Sequence[bytes | None]:
        return self.key_batch.values()

    @functools.cached_property
    def partitions(self) -> list[int]:
        parts: list[int] = self.partition_array.tolist()
        return parts

    @functools.cached_property
    def timestamps(self) -> list[int]:
        stamps: list[int] = self.timestamp_array.tolist()
        return stamps

    def __iter__(self) -> Iterator[tuple[bytes, bytes | None, int, int]]:
        """(value, key, partition, timestamp) of each record."""
        return iter(zip(self.values, self.keys, self.partitions, self.timestamps, strict=True))


def key_serializer(model: ValidatedModel, topic: str, key_format: KeyFormat,
                   envelope: bool = False) -> KeySerializer:
    """The key serializer of a model topic in `key_format` (schema id set once registered);
    a record key under the default `string` is Avro. UserError naming the topic's key if its
    keys cannot be written so (a STRING key as a long, a record key as bytes...)."""
    record = model.key_schemas.get(topic)
    spec = model.spec.topic(topic).key
    problem = None
    if record is not None and key_format not in RECORD_KEY_FORMATS:
        problem = f"a record key cannot be written as {key_format.value}"
    elif spec is not None and spec.kind is KeyKind.EXPRESSION and \
            _key_type(model, topic) == "STRING" and key_format not in STRING_KEY_FORMATS:
        problem = f"a STRING key cannot be written as {key_format.value}"
    if problem is not None:
        assert spec is not None
        formats = sorted(f.value for f in (RECORD_KEY_FORMATS if record is not None
                                           else STRING_KEY_FORMATS))
        raise UserError([Problem(f"topic '{topic}': {problem}; use a key format of "
                                 f"{', '.join(formats)}", file=model.spec.file, path=spec.path)])
    return KeySerializer(key_format, envelope=envelope, record=record)


def _key_type(model: ValidatedModel, topic: str) -> str | None:
    for t in model.transitions:
        for e in t.emits:
            if e.topic == topic and e.key is not None and e.key.expression is not None:
                return e.key.expression.type.name
    return None


def kafka_records(plan: KafkaTopicPlan, rows: TopicRows) -> Records:
    """The records of a topic's staged emits (one encode call), in committed order."""
    values = plan.encoder.encode(rows.fields)
    user_ids, n = rows.user_ids, len(rows)
    keys: KeyBatch
    if rows.keys is None:
        keys, parts = plan.user_keys.lookup(user_ids, plan.partitions)
    else:
        encoded, present = plan.keys.encode_column(rows.keys)
        if present is None:
            keys = KeyBatch.from_encoded(encoded)
            parts = partitions(encoded, plan.partitions)
        else:
            keys = KeyBatch.from_encoded(encoded).scattered(present, n)
            parts = _round_robin(rows.runs, plan.partitions)
            parts[present] = partitions(encoded, plan.partitions)
    return Records(plan.kafka_topic, values, keys, parts.astype(np.int32, copy=False),
                   rows.timestamps.astype(np.int64, copy=False), _headers(rows))


def _round_robin(runs: Runs, count: int) -> np.ndarray:
    """(shard + tick + position in the shard's tick) mod count, for every row."""
    start = np.repeat(runs.shards + runs.ticks, runs.lengths)
    return ((start + runs.positions()) % count).astype(np.int32)


def _headers(rows: TopicRows) -> list[list[Header]] | None:
    """Each record's headers as produce() takes them (UTF-8 values, None stays None)."""
    if not rows.headers:
        return None
    names = [name for name, _ in rows.headers]
    columns = [values.tolist() for _, values in rows.headers]
    return [[(name, None if v is None else v.encode("utf-8"))
             for name, v in zip(names, row, strict=True)]
            for row in zip(*columns, strict=True)] if len(rows) else []
