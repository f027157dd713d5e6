"""The Kafka destination: Avro events plus shard offsets, one transaction per commit.

Per commit: begin -> every staged event (Confluent wire format, key = user id, partition =
murmur2(key) like the Java client, timestamp = event time) -> one offset record per shard (and
snapshot chunks when due) -> commit. A read_committed consumer sees whole ticks or nothing.
On start the task's transactional id is fenced (init_transactions) together with the ids of
earlier `tasks.max` generations, and only then are committed offsets read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import attrs
import structlog
from confluent_kafka import KafkaException, Producer

from connector.destinations.base import Committed, ShardCheckpoint
from connector.engine.batch import EventColumns, TickBatch, concat_fields
from connector.runtime import offset_store as store
from connector.runtime.kafka_errors import (
    Outcome,
    ProducerFailed,
    ProducerFenced,
    TransactionAborted,
    classify,
)
from connector.serde.encoder import RecordEncoder
from connector.serde.keys import KeySerializer
from connector.serde.partitioner import partitions

log = structlog.get_logger(__name__)


@attrs.frozen
class KafkaTopicPlan:
    """Where one model topic goes: Kafka topic name, partition count, framed value encoder."""

    kafka_topic: str
    partitions: int
    encoder: RecordEncoder
    keys: KeySerializer


@attrs.frozen
class _Records:
    """One topic's records of one transaction, ready for produce()."""

    topic: str
    values: Sequence[bytes]
    keys: Sequence[bytes]
    partitions: Sequence[int]
    timestamps: Sequence[int]


@attrs.frozen
class TaskIdentity:
    connector: str
    task: int
    tasks_max: int
    group_id: str

    def transactional_id(self, tasks_max: int | None = None, task: int | None = None) -> str:
        """Stable per (group, connector, tasks.max generation, task)."""
        gen = self.tasks_max if tasks_max is None else tasks_max
        return f"{self.group_id}-{self.connector}-{gen}-{self.task if task is None else task}"


class KafkaDestination:
    def __init__(self, identity: TaskIdentity, shards: list[int], shard_count: int,
                 topics: dict[str, KafkaTopicPlan], producer_conf: dict[str, Any],
                 consumer_conf: dict[str, Any], offsets_topic: str, snapshots_topic: str,
                 chunk_bytes: int = 900_000, timeout_s: float = 60.0) -> None:
        self.identity = identity
        self.shards = shards
        self.shard_count = shard_count
        self.topics = topics
        self.producer_conf = {
            "enable.idempotence": True, "acks": "all", "linger.ms": 20,
            "batch.size": 1_000_000, "compression.type": "lz4",
            "queue.buffering.max.messages": 2_000_000, "queue.buffering.max.kbytes": 1_048_576,
            "transaction.timeout.ms": 60_000, "partitioner": "murmur2_random",
            **producer_conf, "transactional.id": identity.transactional_id()}
        self.consumer_conf = consumer_conf
        self.offsets_topic = offsets_topic
        self.snapshots_topic = snapshots_topic
        self.chunk_bytes = chunk_bytes
        self.timeout_s = timeout_s
        self._producer: Producer | None = None
        self._staged: dict[str, list[EventColumns]] = defaultdict(list)
        self._fingerprint = ""
        self._start_ms = 0
        self._snapshots: dict[int, tuple[int, int, str]] = {}  # shard -> (tick, chunks, sha)
        self._committer: ThreadPoolExecutor | None = None  # runs commit_transaction
        self._in_flight: Future[None] | None = None

    # -- start-up -------------------------------------------------------------------------
    def committed(self) -> Committed | None:
        """Fence every earlier owner of these shards, then read what they committed."""
        self._drain()
        self._close_producer()
        generations = self._generations()
        self._fence_older_generations(generations)
        self._producer = Producer(self.producer_conf)
        self._call(self._producer.init_transactions, self.timeout_s)
        name = self.identity.connector
        # complete=True: what our fenced predecessor committed may lie beyond the open
        # transaction of another task (not fenced yet); reading only to the last stable offset
        # would resume from an older tick and produce it twice.
        offsets = store.read_latest(self.consumer_conf, self.offsets_topic, f"{name}/".encode(),
                                    self.timeout_s, complete=True)
        snapshots = store.read_latest(self.consumer_conf, self.snapshots_topic,
                                      f"{name}/".encode(), self.timeout_s, complete=True)
        committed = store.committed_for(name, self.shards, offsets, snapshots)
        self._snapshots = {}
        if committed is not None:
            for shard in committed.shards:
                record = json.loads(offsets[store.offset_key(name, shard)])
                if record.get("snapshot_tick") is not None:
                    self._snapshots[shard] = (record["snapshot_tick"], record["snapshot_chunks"],
                                              record["snapshot_sha"])
        return committed

    def _generations(self) -> list[int]:
        key = store.generations_key(self.identity.connector)
        raw = store.read_latest(self.consumer_conf, self.offsets_topic, key, self.timeout_s)
        return [int(g) for g in json.loads(raw[key])] if key in raw else []

    def _fence_older_generations(self, generations: list[int]) -> None:
        """init_transactions on every older generation's id that owned one of our shards."""
        from connector.runtime.simulation import shards_of_task

        mine = set(self.shards)
        for gen in generations:
            if gen == self.identity.tasks_max:
                continue
            for task in range(gen):
                if mine & set(shards_of_task(self.shard_count, gen, task)):
                    conf = {**self.producer_conf,
                            "transactional.id": self.identity.transactional_id(gen, task)}
                    fencer = Producer(conf)
                    self._call(fencer.init_transactions, self.timeout_s)
                    fencer.flush(0)
                    log.info("fenced older generation", transactional_id=conf["transactional.id"])

    def begin(self, fingerprint: str, start_ms: int) -> None:
        self._fingerprint, self._start_ms = fingerprint, start_ms
        self._staged.clear()

    # -- the transaction ------------------------------------------------------------------
    def write(self, batch: TickBatch) -> None:
        for events in batch.events:
            if len(events):
                self._staged[events.topic].append(events)

    def commit(self, checkpoints: dict[int, ShardCheckpoint]) -> None:
        """Produce the staged events and the checkpoints in one transaction, and start
        committing it in the background; it is durable once `flush` (or the next `commit`) has
        returned, which raise if it failed. The encoding for this commit overlaps the previous
        commit's round trips to the broker, and so does whatever the caller does next."""
        producer = self._producer
        assert producer is not None, "committed() must run before commit()"
        try:
            prepared = [self._prepare(self.topics[topic], staged)
                        for topic, staged in self._staged.items()]
        finally:
            self._staged.clear()
        self.flush()  # one transaction at a time: the previous one must be committed
        self._call(producer.begin_transaction)
        try:
            for records in prepared:
                self._produce_events(producer, records)
            self._produce_offsets(producer, checkpoints)
        except KafkaException as exc:
            self._abort(producer, exc)
        if self._committer is None:
            self._committer = ThreadPoolExecutor(1, thread_name_prefix="doge-commit")
        self._in_flight = self._committer.submit(self._commit_transaction, producer)

    def flush(self) -> None:
        """Wait until the last commit is durable; raises TransactionAborted (the transaction was
        aborted: resume from the committed offsets), ProducerFenced or ProducerFailed."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            in_flight.result()

    def _commit_transaction(self, producer: Producer) -> None:
        try:
            self._call(producer.commit_transaction, self.timeout_s)
        except KafkaException as exc:
            self._abort(producer, exc)

    def _prepare(self, plan: KafkaTopicPlan, staged: list[EventColumns]) -> _Records:
        """One topic's staged events as Kafka records: framed values, keys, partitions."""
        values = plan.encoder.encode(concat_fields(staged)).values()
        user_ids = staged[0].user_ids if len(staged) == 1 else _concat([e.user_ids for e in staged])
        timestamps = (staged[0].timestamps if len(staged) == 1
                      else _concat([e.timestamps for e in staged]))
        keys = plan.keys.encode(user_ids)
        return _Records(plan.kafka_topic, values, keys.values(),
                        partitions(keys, plan.partitions).tolist(), timestamps.tolist())

    def _produce_events(self, producer: Producer, records: _Records) -> None:
        produce, topic = producer.produce, records.topic
        # Positional for speed: (topic, value, key, partition, callback, on_delivery, timestamp).
        for value, key, part, ts in zip(records.values, records.keys, records.partitions,
                                        records.timestamps, strict=True):
            try:
                produce(topic, value, key, part, None, None, ts)
            except BufferError:
                producer.poll(0.05)  # the local queue is full: let librdkafka drain it
                produce(topic, value, key, part, None, None, ts)

    def _produce_offsets(self, producer: Producer, checkpoints: dict[int, ShardCheckpoint]
                         ) -> None:
        name, task = self.identity.connector, self.identity.transactional_id()
        for shard, cp in sorted(checkpoints.items()):
            if cp.snapshot is not None and cp.snapshot_tick is not None:
                parts = store.chunks(cp.snapshot, cp.snapshot_tick, self.chunk_bytes)
                for i, part in enumerate(parts):
                    producer.produce(self.snapshots_topic, part, store.chunk_key(name, shard, i))
                self._snapshots[shard] = (cp.snapshot_tick, len(parts),
                                          hashlib.sha256(cp.snapshot).hexdigest())
            snap = self._snapshots.get(shard)
            value = store.offset_value(cp, self._fingerprint, self._start_ms,
                                       snap[0] if snap else None, snap[1] if snap else 0,
                                       snap[2] if snap else None, task)
            producer.produce(self.offsets_topic, value, store.offset_key(name, shard))

    def _abort(self, producer: Producer, exc: KafkaException) -> None:
        outcome = classify(exc)
        if outcome is Outcome.FENCED:
            raise ProducerFenced(str(exc)) from exc
        if outcome is Outcome.FATAL:
            raise ProducerFailed(str(exc)) from exc
        try:
            producer.abort_transaction(self.timeout_s)
        except KafkaException as abort_exc:
            if classify(abort_exc) is Outcome.FENCED:
                raise ProducerFenced(str(abort_exc)) from abort_exc
            raise ProducerFailed(f"abort failed: {abort_exc}") from abort_exc
        raise TransactionAborted(str(exc)) from exc

    def _call(self, func: Any, *args: Any) -> Any:
        """A producer call, retried while librdkafka says the error is retriable."""
        delay = 0.1
        deadline = time.monotonic() + self.timeout_s * 5
        while True:
            try:
                return func(*args)
            except KafkaException as exc:
                outcome = classify(exc)
                if outcome is Outcome.RETRY and time.monotonic() < deadline:
                    log.warning("retrying producer call", call=getattr(func, "__name__", "?"),
                                error=str(exc))
                    time.sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                if outcome is Outcome.FENCED:
                    raise ProducerFenced(str(exc)) from exc
                if outcome is Outcome.FATAL:
                    raise ProducerFailed(str(exc)) from exc
                raise

    def _drain(self) -> None:
        """Wait for a commit still in flight, whatever its outcome (the caller starts over from
        what is committed, or gives up the producer)."""
        with contextlib.suppress(Exception):
            self.flush()

    def _close_producer(self) -> None:
        """Drop the producer; never raises (a fenced producer raises on every call, and this
        runs in `finally` blocks where it would hide the error that matters)."""
        if self._producer is not None:
            with contextlib.suppress(KafkaException):
                self._producer.flush(0)
            self._producer = None

    def close(self) -> None:
        """Drop the producer; an open transaction is aborted by the broker (or by the fence)."""
        self._drain()
        self._staged.clear()
        if self._producer is not None:
            with contextlib.suppress(KafkaException):
                self._producer.abort_transaction(1)
        self._close_producer()
        if self._committer is not None:
            self._committer.shutdown(wait=True)
            self._committer = None


def _concat(columns: list[Any]) -> Any:
    import numpy as np

    return np.concatenate(columns)
