"""The stores in compacted topics of the real broker, through the one compacted-topic log."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from connector.kafka.log import CompactedLog
from connector.kafka.offsets import generations_key
from connector.kafka.topics import COMPACT, ensure_topics
from connector.runtime.kafka_stores import KafkaConfigStore, KafkaOffsetStore, KafkaStatusStore
from connector.runtime.status import State, TargetState, TaskStatus
from connector.runtime.stores import StoredConnector

pytestmark = pytest.mark.integration


@pytest.fixture
def compacted(kafka_bootstrap: str) -> Callable[[], str]:
    def make() -> str:
        name = f"stores-{uuid.uuid4().hex[:10]}"
        ensure_topics({"bootstrap.servers": kafka_bootstrap}, {name: (1, -1, COMPACT)})
        return name
    return make


def _log(bootstrap: str, topic: str) -> CompactedLog:
    conf: dict[str, Any] = {"bootstrap.servers": bootstrap}
    return CompactedLog(topic, conf, conf)


def test_config_store_reads_its_writes_and_others_see_them(kafka_bootstrap: str,
                                                           compacted: Callable[[], str]) -> None:
    """A put is visible to its writer at once and to another worker after a poll, in order."""
    topic = compacted()
    a, b = (KafkaConfigStore(_log(kafka_bootstrap, topic)) for _ in range(2))
    try:
        stored = StoredConnector("c", {"name": "c", "config": {"tasks.max": "2"}}, "/m", None)
        a.put(stored)
        assert a.snapshot()["c"] == stored
        a.put(StoredConnector("c", stored.data, "/m", None, TargetState.PAUSED, 1, (0,)))
        later = b.snapshot()["c"]
        assert (later.target, later.restart_seq, later.restart_tasks) == (
            TargetState.PAUSED, 1, (0,))
        a.delete("c")
        assert "c" not in a.snapshot()
    finally:
        a.close()
        b.close()


def test_a_closed_store_reads_nothing_and_never_raises(kafka_bootstrap: str,
                                                       compacted: Callable[[], str]) -> None:
    """After close (a worker stopping), polls are no-ops: no 'Consumer closed' error."""
    store = KafkaConfigStore(_log(kafka_bootstrap, compacted()))
    store.close()
    store.poll()
    assert store.snapshot() == {}
    store.close()


def test_status_store_round_trip(kafka_bootstrap: str, compacted: Callable[[], str]) -> None:
    """A published status is what another worker's tailing store reads back."""
    topic = compacted()
    writer = KafkaStatusStore(_log(kafka_bootstrap, topic), tail=False)
    reader = KafkaStatusStore(_log(kafka_bootstrap, topic), tail=True)
    try:
        writer.publish("c", TaskStatus(1, State.RUNNING, "w:1", None, 0, 40, 7, 0.5, 123))
        writer.log.flush()
        deadline = time.monotonic() + 30
        while reader.remote("c", 1) is None and time.monotonic() < deadline:
            reader.poll()
            time.sleep(0.1)
        got = reader.remote("c", 1)
        assert got is not None and (got.state, got.worker_id, got.next_tick, got.pid) == (
            State.RUNNING, "w:1", 40, 123)
        assert writer.remote("c", 1) is None  # a store that does not tail reads nothing
    finally:
        writer.close()
        reader.close()


def test_offset_store_generations_and_reset(kafka_bootstrap: str,
                                            compacted: Callable[[], str]) -> None:
    """Generations accumulate; a reset fences their ids and deletes the connector's records."""
    offsets, snapshots = compacted(), compacted()
    conf: dict[str, Any] = {"bootstrap.servers": kafka_bootstrap}
    store = KafkaOffsetStore(offsets, snapshots, f"g{uuid.uuid4().hex[:6]}", conf, conf)
    store.record_generation("c", 2)
    store.record_generation("c", 3)
    store.record_generation("c", 2)
    assert store.generations("c") == {2, 3}
    store.reset("c", 8, store.generations("c"))
    assert store.generations("c") == set() and store.committed("c") == {}
    assert generations_key("c") == b"c/generations"
