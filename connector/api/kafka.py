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

from connector.destinations.kafka import KafkaDestination
from connector.errors import Problem, UserError
from connector.runtime.config import ConnectorConfig
from connector.runtime.kafka_stores import ensure_offset_store, offset_store
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


def in_process_destination(worker: WorkerConfig, sim: Simulation) -> KafkaDestination:
    """The Kafka destination of all of a connector's shards, owned by this process."""
    config: ConnectorConfig = sim.config
    ensure_offset_store(worker, {
        config.kafka_topic(t): (config.partitions, config.replication_factor,
                                config.topic_configs) for t in sim.model.schemas})
    # As a worker does when it starts the connector's tasks: later generations fence ours.
    offset_store(worker).record_generation(config.name, config.tasks_max)
    return kafka_destination(worker, config, sim, 0, list(range(config.shards)))
