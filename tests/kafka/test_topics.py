"""Topic creation answers with every wanted topic, also those created moments before."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from connector.errors import InfrastructureError
from connector.kafka import topics
from connector.kafka.topics import ensure_topics

pytestmark = pytest.mark.integration


def test_topics_created_just_before_are_answered_with_their_partitions(
        kafka_bootstrap: str) -> None:
    """Topics another client created a moment ago (so possibly not yet in every broker's
    metadata) and topics it creates itself all come back with their partition counts: a caller
    partitions its records by them (a topic left out failed a DOGE script with a KeyError)."""
    conf: dict[str, Any] = {"bootstrap.servers": kafka_bootstrap}
    names = [f"settle-{uuid.uuid4().hex[:10]}" for _ in range(4)]
    other = AdminClient(conf)
    for future in other.create_topics([NewTopic(n, num_partitions=2 + i, replication_factor=-1)
                                       for i, n in enumerate(names[:2])]).values():
        future.result()
    wanted: topics.TopicWanted = {n: (3 + i, -1, {}) for i, n in enumerate(names)}
    assert ensure_topics(conf, wanted) == {names[0]: 2, names[1]: 3, names[2]: 5, names[3]: 6}


def test_a_topic_that_never_shows_is_one_clear_error(kafka_bootstrap: str) -> None:
    """A topic missing from the metadata after the timeout names itself and says what to check,
    rather than being left out of the answer."""
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    with pytest.raises(InfrastructureError, match=r"\['never-there-[0-9a-f]+'\] are not "
                                                  r"available .* check the brokers"):
        topics._visible(admin, [f"never-there-{uuid.uuid4().hex[:8]}"], timeout_s=0.5)
