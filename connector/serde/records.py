"""What goes to Kafka for a topic's events: framed values, keys, partitions, timestamps.

The one definition of the Kafka records of a batch of engine output, used by the Kafka
destination, the end-to-end benchmark and the tests' reference output alike.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import attrs
import numpy as np

from connector.core.batch import EventColumns, concat_fields
from connector.serde.encoder import RecordEncoder
from connector.serde.keys import KeySerializer
from connector.serde.partitioner import partitions


@attrs.frozen
class KafkaTopicPlan:
    """Where one model topic goes: Kafka topic name, partition count, value and key encoders."""

    kafka_topic: str
    partitions: int
    encoder: RecordEncoder
    keys: KeySerializer


@attrs.frozen
class Records:
    """One topic's records, ready for produce()."""

    topic: str
    values: Sequence[bytes]
    keys: Sequence[bytes]
    partitions: Sequence[int]
    timestamps: Sequence[int]

    def __iter__(self) -> Iterator[tuple[bytes, bytes, int, int]]:
        """(value, key, partition, timestamp) of each record."""
        return iter(zip(self.values, self.keys, self.partitions, self.timestamps, strict=True))


def kafka_records(plan: KafkaTopicPlan, events: Sequence[EventColumns]) -> Records:
    """The records of several emits to one topic (one encode call), in their order."""
    values = plan.encoder.encode(concat_fields(list(events))).values()
    user_ids = events[0].user_ids if len(events) == 1 else \
        np.concatenate([e.user_ids for e in events])
    timestamps = events[0].timestamps if len(events) == 1 else \
        np.concatenate([e.timestamps for e in events])
    keys = plan.keys.encode(user_ids)
    return Records(plan.kafka_topic, values, keys.values(),
                   partitions(keys, plan.partitions).tolist(), timestamps.tolist())
