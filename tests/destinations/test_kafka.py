"""The Kafka destination's commit, which finishes in the background: durable once flushed, and a
failure there surfaces at the next flush/commit with nothing of the transaction visible."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from connector.core.staged import merge
from connector.destinations.base import ShardCheckpoint
from connector.destinations.kafka import KafkaDestination
from connector.kafka.errors import ProducerFenced
from connector.kafka.log import watermarks
from connector.kafka.topics import COMPACT, ensure_topics
from connector.runtime.config import parse_connector, resolve_start_ms
from connector.runtime.simulation import Simulation, prepare
from connector.runtime.task import kafka_destination
from connector.runtime.worker_config import worker_config_from
from connector.serde.records import kafka_records
from tests.runtime.harness import KafkaRun
from tests.runtime.reading import ReadRecord, partitions_of, read_all

pytestmark = pytest.mark.integration


@pytest.fixture
def kafka_run(tmp_path: Path, kafka_bootstrap: str, registry_url: str) -> KafkaRun:
    return KafkaRun(tmp_path, kafka_bootstrap, registry_url)


def _open(run: KafkaRun, **worker_values: str
          ) -> tuple[KafkaDestination, Simulation, list[str]]:
    """A 1-task destination for the banking connector, topics created as the worker does."""
    connector = run.connector(tasks_max=1, shards=2, users=2000)
    worker = worker_config_from({
        "bootstrap.servers": run.bootstrap, "schema.registry.url": run.registry,
        "group.id": f"g{run.uid}", "offset.storage.topic": f"{run.prefix}offsets",
        "snapshot.storage.topic": f"{run.prefix}snapshots", **worker_values}, None)
    sim = prepare(parse_connector(connector, None, run.tmp))
    topics = [sim.config.kafka_topic(t) for t in sim.model.schemas]
    ensure_topics(worker.client("admin"), {
        f"{run.prefix}offsets": (1, -1, COMPACT), f"{run.prefix}snapshots": (1, -1, COMPACT),
        **{t: (3, -1, {}) for t in topics}})
    destination = kafka_destination(worker, sim.config, sim, 0, [0, 1])
    assert destination.committed() is None
    return destination, sim, topics


def _settled_read(bootstrap: str, topics: list[str]) -> list[ReadRecord]:
    """What read_committed sees once no transaction is open on `topics`: the commit's markers
    are written after commit_transaction returns, so wait until the last stable offset of
    every partition has reached its end."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"w{uuid.uuid4().hex}",
                         "isolation.level": "read_committed"})
    try:
        deadline = time.monotonic() + 30
        while True:
            lagging = [(t, p) for t in topics
                       for p in partitions_of(consumer, t)
                       if _stable_end(consumer, t, p) < _end(bootstrap, t, p)]
            if not lagging or time.monotonic() > deadline:
                assert not lagging, f"transactions still open on {lagging}"
                break
            time.sleep(0.2)
    finally:
        consumer.close()
    return read_all(bootstrap, topics)


def _stable_end(consumer: Consumer, topic: str, partition: int) -> int:
    return watermarks(consumer, TopicPartition(topic, partition))[1]


def _end(bootstrap: str, topic: str, partition: int) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"w{uuid.uuid4().hex}",
                         "isolation.level": "read_uncommitted"})
    try:
        return _stable_end(consumer, topic, partition)
    finally:
        consumer.close()


def _write_ticks(destination: KafkaDestination, sim: Simulation, ticks: int) -> int:
    """Stage `ticks` ticks of both shards; returns how many events were staged."""
    settings = sim.settings(resolve_start_ms(sim.config))
    destination.begin("fingerprint", settings.start_ms)
    engines = [sim.shard(settings, s) for s in (0, 1)]
    staged = 0
    for _ in range(ticks):
        for engine in engines:
            batch = engine.step()
            destination.write(batch)
            staged += batch.event_count
    return staged


def test_commit_is_visible_to_read_committed_once_flushed(kafka_run: KafkaRun) -> None:
    """After commit + flush every staged event is visible, and so are the shard offsets."""
    destination, sim, topics = _open(kafka_run)
    try:
        staged = _write_ticks(destination, sim, 30)
        destination.commit({0: ShardCheckpoint(30), 1: ShardCheckpoint(30)})
        destination.flush()
        assert staged > 0
        assert len(_settled_read(kafka_run.bootstrap, topics)) == staged
        committed = destination.committed()
        assert committed is not None
        assert {s: c.next_tick for s, c in committed.shards.items()} == {0: 30, 1: 30}
    finally:
        destination.close()


def test_a_full_local_queue_loses_duplicates_and_reorders_nothing(kafka_run: KafkaRun) -> None:
    """With a producer queue far smaller than a send (produce() raises BufferError again and
    again), every partition still holds exactly the records of the staged events, in order."""
    destination, sim, topics = _open(kafka_run, **{
        "producer.queue.buffering.max.messages": "5", "producer.linger.ms": "0"})
    try:
        staged = _write_ticks(destination, sim, 30)
        destination.commit({0: ShardCheckpoint(30), 1: ShardCheckpoint(30)})
        destination.flush()
    finally:
        destination.close()
    settings = sim.settings(resolve_start_ms(sim.config))
    engines = [sim.shard(settings, s) for s in (0, 1)]
    expected: dict[tuple[str, int], list[tuple[bytes, bytes, int]]] = defaultdict(list)
    for _ in range(30):
        for engine in engines:
            batch = engine.step()
            for events in batch.events:
                if len(events):
                    plan = destination.topics[events.topic]
                    records = kafka_records(plan, merge([(batch.tick, events)]))
                    for value, key, part, ts in records:
                        expected[(plan.kafka_topic, part)].append((key or b"", value, ts))
    got: dict[tuple[str, int], list[tuple[bytes, bytes, int]]] = defaultdict(list)
    for r in _settled_read(kafka_run.bootstrap, topics):
        got[(r.topic, r.partition)].append((r.key, r.value, r.timestamp))
    assert staged > 10 * int(destination.producer_conf["queue.buffering.max.messages"])
    assert got == expected


def test_a_failed_background_commit_raises_at_flush_and_shows_nothing(
        kafka_run: KafkaRun) -> None:
    """A zombie situation: the task is fenced while its commit is in flight. commit() returns,
    flush() raises ProducerFenced, and no record of that transaction is ever visible."""
    destination, sim, topics = _open(kafka_run)
    original: Callable[[Any], None] = destination._commit_transaction

    def fenced_then_commit(producer: Any) -> None:
        assert producer.flush(30) == 0  # the transaction's records are in the log, uncommitted
        fencer = Producer({**destination.producer_conf})  # same transactional.id
        fencer.init_transactions(30)
        original(producer)

    setattr(destination, "_commit_transaction", fenced_then_commit)  # noqa: B010
    try:
        assert _write_ticks(destination, sim, 30) > 0
        destination.commit({0: ShardCheckpoint(30), 1: ShardCheckpoint(30)})
        with pytest.raises(ProducerFenced):
            destination.flush()
        written = read_all(kafka_run.bootstrap, topics, isolation="read_uncommitted")
        assert len(written) > 0  # the records reached the log, in the aborted transaction
        assert _settled_read(kafka_run.bootstrap, topics) == []
    finally:
        destination.close()
