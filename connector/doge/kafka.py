"""DOGE's Kafka sinks on our Kafka destination: one transaction per tick, exactly once.

A `KafkaSinkFactory` is one transactional producer: everything its sinks collect in a tick is
produced and committed together (a `read_committed` consumer sees whole ticks or nothing), with
the offsets a worker would write. Keys and values are what the script's functions return,
serialized as DOGE does (its serializers; for Avro, the schema registered in the registry under
`<topic>-key` / `<topic>-value`). Partitions are the Java client's (murmur2 of the key bytes), so
keyed joins with Java-produced topics line up (librdkafka's default, which DOGE used, does not).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import fastavro
from confluent_kafka.serialization import (
    MessageField,
    SerializationContext,
    Serializer,
    StringSerializer,
)

from connector.api.values import CallSite, call_site, user_errors
from connector.destinations.base import ShardCheckpoint
from connector.destinations.kafka import KafkaDestination
from connector.doge.core import DogeError, EventSink, RunInfo, TickCommitter, Transition
from connector.errors import UserError
from connector.kafka.fencing import TaskIdentity
from connector.runtime.kafka_stores import ensure_offset_store
from connector.runtime.worker_config import WorkerConfig, worker_config_from
from connector.serde.partitioner import partitions
from connector.serde.records import Records
from connector.serde.registry import SchemaRegistry
from connector.serde.wire import header

GROUP = "doge-datagen"  # the "group" of the transactional ids of DOGE scripts' producers


class KafkaChannel:
    """One transactional producer committing its sinks' records once per tick."""

    def __init__(self, bootstrap_servers: Iterable[str], client_id: str,
                 registry_url: str | None, site: CallSite) -> None:
        servers = [bootstrap_servers] if isinstance(bootstrap_servers, str) \
            else list(bootstrap_servers)
        values = {"bootstrap.servers": ",".join(servers), "client.id": client_id,
                  "group.id": GROUP}
        if registry_url is not None:
            values["schema.registry.url"] = registry_url
        try:
            self.worker: WorkerConfig = worker_config_from(values, None)
        except UserError as exc:
            raise DogeError(site, "bootstrap_servers", str(exc)) from None
        self.client_id = client_id
        self.topics: set[str] = set()
        self.avro: list[AvroSerializer] = []
        self._staged: dict[str, tuple[list[bytes], list[bytes], list[int]]] = \
            defaultdict(lambda: ([], [], []))
        self._partitions: dict[str, int] = {}
        self._destination: KafkaDestination | None = None

    def open(self, run: RunInfo) -> None:
        if self._destination is not None:
            return
        # Topics a script writes are created with the broker's defaults if missing, as a
        # broker with auto-creation would have made them for DOGE.
        self._partitions = ensure_offset_store(
            self.worker, {t: (-1, -1, {}) for t in sorted(self.topics)})
        if self.avro:
            with SchemaRegistry(self.worker.registry()) as registry:
                for serializer in self.avro:
                    serializer.register(registry)
        connector = f"{GROUP}.{self.client_id}"
        destination = KafkaDestination(
            TaskIdentity(connector, 0, 1, GROUP), [0], 1, {}, self.worker.client("producer"),
            self.worker.client("consumer"), self.worker.get("offset.storage.topic"),
            self.worker.get("snapshot.storage.topic"))
        destination.committed()  # fences an earlier run of this script's producer
        run_id = hashlib.sha256(json.dumps([connector, run.seed, run.start_ms]).encode())
        destination.begin(run_id.hexdigest()[:32], run.start_ms)
        self._destination = destination

    def stage(self, topic: str, key: bytes | None, value: bytes | None, timestamp: int) -> None:
        keys, values, stamps = self._staged[topic]
        keys.append(key or b"")
        values.append(value or b"")
        stamps.append(timestamp)

    def commit(self, tick: int) -> None:
        destination = self._destination
        assert destination is not None, "open() comes first"
        for topic, (keys, values, stamps) in self._staged.items():
            if keys:
                parts = partitions(keys, self._partitions[topic]).tolist()
                destination.write_encoded(Records.from_lists(topic, values, keys, parts, stamps))
        self._staged.clear()
        destination.commit({0: ShardCheckpoint(tick + 1, None, None)})

    def close(self) -> None:
        destination, self._destination = self._destination, None
        if destination is not None:
            try:
                destination.flush()
            finally:
                destination.close()


class AvroSerializer:
    """Avro in the Confluent wire format with a schema registered when the run starts (never
    inside a tick), written by fastavro as DOGE's serializer does."""

    def __init__(self, topic: str, schema_str: str, field: MessageField, site: CallSite) -> None:
        what = "key_schema" if field == MessageField.KEY else "value_schema"
        try:
            self.parsed = fastavro.parse_schema(json.loads(schema_str))
        except (ValueError, TypeError, KeyError, fastavro.schema.SchemaParseException) as exc:
            raise DogeError(site, what, f"not a valid Avro schema: {exc}") from None
        self.subject = f"{topic}-{'key' if field == MessageField.KEY else 'value'}"
        self.schema_str = schema_str
        self._header = b""

    def register(self, registry: SchemaRegistry) -> None:
        self._header = header(registry.register(self.subject, self.schema_str))

    def __call__(self, obj: Any, ctx: SerializationContext | None = None) -> bytes:
        out = io.BytesIO()
        out.write(self._header)
        fastavro.schemaless_writer(out, self.parsed, obj)
        return out.getvalue()


class KafkaSink(EventSink):
    """Records of one topic: key_function(subject, transition) and value_function(timestamp,
    subject, transition), serialized, produced in the tick's transaction."""

    def __init__(self, channel: KafkaChannel, topic: str,
                 key_function: Callable[[Any, Transition], Any],
                 value_function: Callable[[int, Any, Transition], Any],
                 key_serializer: Callable[..., bytes | None],
                 value_serializer: Callable[..., bytes | None]) -> None:
        self.channel = channel
        self.topic = topic
        self.key_function = key_function
        self.value_function = value_function
        self.key_serializer = key_serializer
        self.value_serializer = value_serializer
        self._key_ctx = SerializationContext(topic, MessageField.KEY)
        self._value_ctx = SerializationContext(topic, MessageField.VALUE)
        channel.topics.add(topic)

    def collect(self, timestamp: int, subject: Any, transition: Transition) -> None:
        key = self.key_serializer(self.key_function(subject, transition), self._key_ctx)
        value = self.value_serializer(self.value_function(timestamp, subject, transition),
                                      self._value_ctx)
        self.channel.stage(self.topic, key, value, timestamp)

    def close(self) -> None:
        """The channel commits and closes when the generator ends."""

    def committer(self) -> TickCommitter:
        return self.channel


class KafkaSinkFactory:
    """Sinks producing to Kafka (`bootstrap_servers`, `client_id` as in DOGE; `buffer_size` is
    accepted and not needed: each tick is one transaction)."""

    @user_errors
    def __init__(self, bootstrap_servers: Iterable[str], client_id: str,
                 buffer_size: int = 100000) -> None:
        self.channel = KafkaChannel(bootstrap_servers, client_id, None, call_site())
        self.buffer_size = buffer_size

    @user_errors
    def create(self, topic: str, key_function: Callable[[Any, Transition], Any],
               value_function: Callable[[int, Any, Transition], Any],
               key_serializer: Serializer | Callable[..., bytes | None] | None = None,
               value_serializer: Serializer | Callable[..., bytes | None] | None = None
               ) -> KafkaSink:
        """A sink for `topic`; keys and values go through the serializers (default: UTF-8
        strings, confluent_kafka's StringSerializer)."""
        site = call_site()
        for name, fn in (("key_function", key_function), ("value_function", value_function)):
            if not callable(fn):
                raise DogeError(site, name, f"expected a function, got {fn!r}")
        return KafkaSink(self.channel, _topic(topic, site), key_function, value_function,
                         key_serializer or StringSerializer(), value_serializer or
                         StringSerializer())


class KafkaAvroSinkFactory:
    """Sinks producing Avro records, schemas registered in the registry at `schema_registry_url`
    (Confluent wire format; readable with confluent_kafka's AvroDeserializer)."""

    @user_errors
    def __init__(self, bootstrap_servers: Iterable[str], schema_registry_url: str,
                 client_id: str, buffer_size: int = 100000) -> None:
        site = call_site()
        self.factory = KafkaSinkFactory.__new__(KafkaSinkFactory)
        self.factory.channel = KafkaChannel(bootstrap_servers, client_id, schema_registry_url,
                                            site)
        self.factory.buffer_size = buffer_size

    @user_errors
    def create(self, topic: str, key_function: Callable[[Any, Transition], Any], key_schema: str,
               value_function: Callable[[int, Any, Transition], Any], value_schema: str
               ) -> KafkaSink:
        """A sink for `topic`: key_function(subject, transition) and value_function(timestamp,
        subject, transition) return what the Avro schemas (JSON text) describe (dicts, as
        fastavro writes them)."""
        site = call_site()
        topic = _topic(topic, site)
        key = AvroSerializer(topic, key_schema, MessageField.KEY, site)
        value = AvroSerializer(topic, value_schema, MessageField.VALUE, site)
        self.factory.channel.avro += [key, value]
        return self.factory.create(topic, key_function, value_function, key, value)


def _topic(topic: Any, site: CallSite) -> str:
    if not isinstance(topic, str) or not topic:
        raise DogeError(site, "topic", f"expected a topic name, got {topic!r}")
    return topic
