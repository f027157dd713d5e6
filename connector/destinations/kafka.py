"""The Kafka destination: Avro events plus shard offsets, one transaction per commit.

Per commit: begin -> every written event (Confluent wire format, key = the topic's key (by default
the user id), partition = murmur2(key) like the Java client (null keys: serde/records.py),
timestamp = event time, the topic's headers) -> one offset record per shard (and snapshot chunks
when due) -> commit. A read_committed consumer sees whole ticks or nothing.
A transaction of several ticks is not held back until its commit: once `SEND_EVENTS` events
are staged, they are encoded and produced into the open transaction at the next tick's first
write, so librdkafka sends them while the task steps on. Encoding a few ticks per call rather
than one amortises the encoders' fixed cost per call (~40 % less per event at 1e6 users,
bench/kafka.py); the order of records within each partition is the same either way.
On start the task's transactional id is fenced (init_transactions) together with the ids of
earlier `tasks.max` generations, and only then are committed offsets read.
"""

from __future__ import annotations

import contextlib
import hashlib
import operator
import time
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import repeat
from typing import Any, TypeVar

import structlog
from confluent_kafka import KafkaError, KafkaException, Producer

from connector.core.batch import EventColumns, TickBatch
from connector.core.staged import merge
from connector.destinations.base import Committed, ShardCheckpoint
from connector.kafka import native
from connector.kafka import offsets as store
from connector.kafka.errors import (
    Outcome,
    ProducerFailed,
    ProducerFenced,
    TransactionAborted,
    classify,
    retrying,
)
from connector.kafka.fencing import TaskIdentity, earlier_owners, fence
from connector.kafka.log import read_latest
from connector.serde.records import Header, KafkaTopicPlan, Records, kafka_records

log = structlog.get_logger(__name__)
R = TypeVar("R")

# Staged events are encoded and produced at a tick boundary once there are this many (or at the
# commit): enough rows per encoder call to amortise its fixed cost, little enough to keep
# librdkafka sending while the task steps on.
SEND_EVENTS = 16_384
# While the previous commit is still in flight (a transaction begins only once it has ended),
# the task steps on and stages up to this many events rather than wait for it (~10-20 MB of
# columns for the banking model): the wait for the previous commit 0.47-0.71 -> 0.15-0.35 ms
# a tick in eight alternating bench/kafka.py pairs (events/s within the host's noise).
HOLD_EVENTS = 8 * SEND_EVENTS


class KafkaDestination:
    """Events and shard offsets of one task, committed in one Kafka transaction."""

    def __init__(self, identity: TaskIdentity, shards: list[int], shard_count: int,
                 topics: dict[str, KafkaTopicPlan], producer_conf: dict[str, Any],
                 consumer_conf: dict[str, Any], offsets_topic: str, snapshots_topic: str,
                 chunk_bytes: int = 900_000, timeout_s: float = 60.0) -> None:
        self.identity = identity
        self.shards = shards
        self.shard_count = shard_count
        self.topics = topics
        # No `partitioner`: every record is given its partition (serde/records.py), so
        # librdkafka's would never run. Delivery reports only for errors: no record has a
        # callback, and a failed delivery fails the transaction's commit anyway. linger.ms 5
        # (librdkafka's and, since Kafka 4.0, the Java client's default): against 20, a
        # realtime tick's commit comes ~6 ms sooner (p50, bench/recovery.py) while a backfill
        # sends as much (bench/kafka.py, alternating runs: within the host's noise).
        self.producer_conf = {
            "enable.idempotence": True, "acks": "all", "linger.ms": 5,
            "delivery.report.only.error": True,
            "batch.size": 1_000_000, "compression.type": "lz4",
            "queue.buffering.max.messages": 2_000_000, "queue.buffering.max.kbytes": 1_048_576,
            "transaction.timeout.ms": 60_000,
            **producer_conf, "transactional.id": identity.transactional_id()}
        self.consumer_conf = consumer_conf
        self.offsets_topic = offsets_topic
        self.snapshots_topic = snapshots_topic
        self.chunk_bytes = chunk_bytes
        self.timeout_s = timeout_s
        self._producer: Producer | None = None
        self._native = False  # whether records go in by one C call a batch (kafka/native.py)
        # Per topic: staged emits and the tick of each (merged in committed order to send).
        self._staged: dict[str, list[tuple[int, EventColumns]]] = defaultdict(list)
        self._encoded: list[Records] = []  # records the caller encoded itself
        self._fingerprint = ""
        self._start_ms = 0
        self._snapshots: dict[int, tuple[int, int, str]] = {}  # shard -> (tick, chunks, sha)
        self._committer: ThreadPoolExecutor | None = None  # runs commit_transaction
        self._in_flight: Future[None] | None = None
        self._open = False  # a transaction has begun and not been committed
        self._staged_tick: int | None = None  # the tick of the events staged last
        self._staged_events = 0
        self.encode_seconds = 0.0  # time spent encoding records (for /metrics)

    # -- start-up -------------------------------------------------------------------------
    def committed(self) -> Committed | None:
        """Fence every earlier owner of these shards, then read what they committed."""
        self._drain()
        self._close_producer()
        generations = store.read_generations(self.consumer_conf, self.offsets_topic,
                                             self.identity.connector, self.timeout_s)
        fence(self.producer_conf,
              earlier_owners(self.identity, generations, self.shard_count, self.shards),
              self.timeout_s)
        self._producer = Producer(self.producer_conf)
        why_not = native.unavailable(self._producer)
        self._native = why_not is None
        if why_not is not None:
            log.info("kafka.records_one_by_one", reason=why_not)
        self._open = False
        self._call(self._producer.init_transactions, self.timeout_s)
        name = self.identity.connector
        # complete=True: what our fenced predecessor committed may lie beyond the open
        # transaction of another task (not fenced yet); reading only to the last stable offset
        # would resume from an older tick and produce it twice.
        offsets = read_latest(self.consumer_conf, self.offsets_topic, f"{name}/".encode(),
                                    self.timeout_s, complete=True)
        snapshots = read_latest(self.consumer_conf, self.snapshots_topic,
                                      f"{name}/".encode(), self.timeout_s, complete=True)
        committed = store.committed_for(name, self.shards, offsets, snapshots)
        self._snapshots = {}
        if committed is not None:
            for shard in committed.shards:
                record = store.OffsetRecord.from_bytes(offsets[store.offset_key(name, shard)])
                if record.snapshot_tick is not None and record.snapshot_sha is not None:
                    self._snapshots[shard] = (record.snapshot_tick, record.snapshot_chunks,
                                              record.snapshot_sha)
        return committed

    def begin(self, fingerprint: str, start_ms: int) -> None:
        self._fingerprint, self._start_ms = fingerprint, start_ms
        self._staged.clear()
        self._staged_tick = None
        self._staged_events = 0
        self._encoded = []

    # -- the transaction ------------------------------------------------------------------
    def write(self, batch: TickBatch) -> None:
        """Stage a tick's events; the first write of a new tick sends what is staged
        into the open transaction (beginning one if needed) once it is `SEND_EVENTS` events,
        unless that would wait for the previous commit (see HOLD_EVENTS)."""
        if batch.tick != self._staged_tick and self._staged_events >= SEND_EVENTS and \
                not self._commit_pending():
            self._send()
        self._staged_tick = batch.tick
        for events in batch.events:
            if len(events):
                self._staged[events.topic].append((batch.tick, events))
                self._staged_events += len(events)

    def _commit_pending(self) -> bool:
        """Whether sending now would wait for the previous commit (its transaction must end
        before the next begins): then the task steps on, staging up to HOLD_EVENTS events."""
        in_flight = self._in_flight
        return not self._open and in_flight is not None and not in_flight.done() and \
            self._staged_events < HOLD_EVENTS

    def send_ahead(self) -> None:
        """Produce what is staged into the open transaction now, before the tick is due (a
        read_committed consumer still sees it only at the commit): the commit then waits only
        for the broker's EndTxn, not for the encoding, AddPartitionsToTxn and the produce round
        trip. Realtime, 1e6 users: commit p50 ~40 -> ~13 ms after the tick's end, p99 ~90-130
        -> ~65 ms (bench/recovery.py, runs alternating)."""
        if self._staged_events or self._encoded:
            self._send()

    def write_encoded(self, records: Records) -> None:
        """Stage records encoded elsewhere (DOGE's sinks in `connector.doge`, whose keys and
        values come from the script's own functions) in the open transaction."""
        self._encoded.append(records)

    def commit(self, checkpoints: dict[int, ShardCheckpoint]) -> None:
        """Produce the staged events and the checkpoints in one transaction, and start
        committing it in the background; it is durable once `flush` (or the next `commit`) has
        returned, which raise if it failed. The encoding for this commit overlaps the previous
        commit's round trips to the broker, and so does whatever the caller does next."""
        producer = self._send()
        try:
            self._produce_offsets(producer, checkpoints)
        except KafkaException as exc:
            self._abort(producer, exc)
        self._open = False
        if self._committer is None:
            self._committer = ThreadPoolExecutor(1, thread_name_prefix="doge-commit")
        self._in_flight = self._committer.submit(self._commit_transaction, producer)

    def _send(self) -> Producer:
        """Encode the staged events and produce them into the open transaction; returns the
        producer. The encoding overlaps the previous commit's round trips to the broker."""
        producer = self._producer
        assert producer is not None, "committed() must run before commit()"
        started = time.monotonic()
        try:
            prepared = self._prepare()
        finally:
            self.encode_seconds += time.monotonic() - started
            self._staged.clear()
            self._staged_events = 0
            self._encoded = []
        if not self._open:
            self.flush()  # one transaction at a time: the previous one must be committed
            self._call(producer.begin_transaction)
            self._open = True
        try:
            for records in prepared:
                self._produce_events(producer, records)
        except KafkaException as exc:
            self._abort(producer, exc)
        return producer

    def _prepare(self) -> list[Records]:
        """The staged events as records: values, keys, partitions, timestamps, headers."""
        return [kafka_records(self.topics[topic], merge(staged))
                for topic, staged in self._staged.items()] + self._encoded

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

    def _produce_events(self, producer: Producer, records: Records) -> None:
        if records.headers is not None:
            self._produce_with_headers(producer, records)
            return
        if self._native:
            self._produce_natively(producer, records)
            return
        produce, topic = producer.produce, records.topic
        values = iter(records.values)
        # produce() called by map, positional: (topic, value, key, partition, callback,
        # on_delivery, timestamp); no Python bytecode per record (~10 % less main-thread time).
        calls = map(produce, repeat(topic), values, records.keys, records.partitions,
                    repeat(None), repeat(None), records.timestamps)
        while True:
            try:
                deque(calls, maxlen=0)
                return
            except BufferError:
                # The local queue is full: the record that did not fit is the one before what
                # is left of `values`; once librdkafka drains, it goes first, then the rest.
                i = len(records.values) - operator.length_hint(values) - 1
                self._produce_when_room(producer, topic, records.values[i], records.keys[i],
                                        records.partitions[i], records.timestamps[i])

    @staticmethod
    def _produce_natively(producer: Producer, records: Records) -> None:
        """All records in C calls, polling while the local queue is full."""
        first = 0
        while True:
            first, error = native.produce(producer, records, first)
            if first == len(records):
                return
            if error != KafkaError._QUEUE_FULL:
                raise KafkaException(KafkaError(error))
            producer.poll(0.05)

    @staticmethod
    def _produce_when_room(producer: Producer, topic: str, value: bytes, key: bytes | None,
                           partition: int = -1, timestamp: int = 0,
                           headers: list[Header] | None = None) -> None:
        """produce(), polling while the local queue is full (-1: the partitioner's choice,
        0: the time of producing, as produce() takes them)."""
        while True:
            try:
                producer.produce(topic, value, key, partition, None, None, timestamp, headers)
                return
            except BufferError:
                producer.poll(0.05)

    def _produce_with_headers(self, producer: Producer, records: Records) -> None:
        produce, topic = producer.produce, records.topic
        assert records.headers is not None
        for (value, key, part, ts), headers in zip(records, records.headers, strict=True):
            try:
                produce(topic, value, key, part, None, None, ts, headers)
            except BufferError:
                self._produce_when_room(producer, topic, value, key, part, ts, headers)

    def _produce_offsets(self, producer: Producer, checkpoints: dict[int, ShardCheckpoint]
                         ) -> None:
        name, task = self.identity.connector, self.identity.transactional_id()
        for shard, cp in sorted(checkpoints.items()):
            if cp.snapshot is not None and cp.snapshot_tick is not None:
                parts = store.chunks(cp.snapshot, cp.snapshot_tick, self.chunk_bytes)
                for i, part in enumerate(parts):
                    self._produce_when_room(producer, self.snapshots_topic, part,
                                            store.chunk_key(name, shard, i))
                self._snapshots[shard] = (cp.snapshot_tick, len(parts),
                                          hashlib.sha256(cp.snapshot).hexdigest())
            snap = self._snapshots.get(shard)
            value = store.offset_value(cp, self._fingerprint, self._start_ms,
                                       snap[0] if snap else None, snap[1] if snap else 0,
                                       snap[2] if snap else None, task)
            self._produce_when_room(producer, self.offsets_topic, value,
                                    store.offset_key(name, shard))

    def _abort(self, producer: Producer, exc: KafkaException) -> None:
        self._open = False
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

    def _call(self, func: Callable[..., R], *args: object) -> R:
        return retrying(func, *args, timeout_s=self.timeout_s * 5)

    def _drain(self) -> None:
        """Wait for a commit still in flight, whatever its outcome (the caller starts over from
        what is committed, or gives up the producer)."""
        try:
            self.flush()
        except (TransactionAborted, ProducerFenced, ProducerFailed, KafkaException) as exc:
            log.warning("the last commit did not complete; resuming from what is committed",
                        error=str(exc))

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
        self._encoded = []
        self._open = False
        if self._producer is not None:
            with contextlib.suppress(KafkaException):
                self._producer.abort_transaction(1)
        self._close_producer()
        if self._committer is not None:
            self._committer.shutdown(wait=True)
            self._committer = None

