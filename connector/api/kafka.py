"""Kafka as an in-process destination: what `doge worker` sets up for a task, in this process.

`run(model, Kafka("worker.properties"))` runs every shard in the calling process (one task, as
`doge run` does locally) with the worker's topics, registry and exactly-once transactions, and
resumes from the committed offsets like any task. `connector.doge` uses the same set-up for
DOGE's Kafka sinks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import attrs
from confluent_kafka import Producer

from connector.destinations.kafka import KafkaDestination
from connector.errors import InfrastructureError, Problem, UserError
from connector.kafka import offsets as store
from connector.kafka.topics import COMPACT, ensure_topics
from connector.runtime.config import ConnectorConfig
from connector.runtime.simulation import Simulation
from connector.runtime.task import kafka_destination
from connector.runtime.worker_config import WorkerConfig, load_worker_config, worker_config_from


@attrs.frozen
class Kafka:
    """Kafka through a worker config: a `.properties`/`.json` file as `doge worker` reads, or
    its keys as a mapping (`bootstrap.servers`, `schema.registry.url`, ...)."""

    worker: str | os.PathLike[str] | Mapping[str, str]

    def config(self) -> WorkerConfig:
        if isinstance(self.worker, Mapping):
            return worker_config_from({str(k): str(v) for k, v in self.worker.items()}, None)
        if isinstance(self.worker, str | os.PathLike):
            return load_worker_config(Path(self.worker))
        raise UserError([Problem(f"Kafka(worker): expected a worker config file or mapping, "
                                 f"got {type(self.worker).__name__}")])


def ensure_internal_topics(worker: WorkerConfig, extra: dict[str, tuple[int, int, dict[str, str]]]
                           ) -> dict[str, int]:
    """Create the offsets and snapshots topics (compacted, as a worker does) and `extra`."""
    rf = worker.integer("internal.topics.replication.factor")
    parts = worker.integer("offset.storage.partitions")
    topics = {worker.get("offset.storage.topic"): (parts, rf, COMPACT),
              worker.get("snapshot.storage.topic"): (parts, rf, COMPACT), **extra}
    return ensure_topics(worker.client("admin"), topics)


def record_generation(worker: WorkerConfig, connector: str, tasks_max: int) -> None:
    """Remember that `connector` ran with `tasks_max` tasks, so later generations fence ours."""
    topic = worker.get("offset.storage.topic")
    known = store.read_generations(worker.client("consumer"), topic, connector)
    if tasks_max in known:
        return
    producer = Producer(worker.client("producer"))
    producer.produce(topic, store.generations_value(known | {tasks_max}),
                     store.generations_key(connector))
    if producer.flush(30) != 0:
        raise InfrastructureError(f"could not record the task generation in {topic}")


def in_process_destination(worker: WorkerConfig, sim: Simulation) -> KafkaDestination:
    """The Kafka destination of all of a connector's shards, owned by this process."""
    config: ConnectorConfig = sim.config
    ensure_internal_topics(worker, {
        config.kafka_topic(t): (config.partitions, config.replication_factor,
                                config.topic_configs) for t in sim.model.schemas})
    record_generation(worker, config.name, config.tasks_max)
    return kafka_destination(worker, config, sim, 0, list(range(config.shards)))
