"""The three narrow stores of the control plane, and their in-memory implementations.

- ConfigStore: connector configs, target states and restart requests (the cluster's intent).
- StatusStore: the last status each worker published for its tasks.
- OffsetStore: committed shard offsets, every `tasks.max` generation, and reset-with-fencing.

The Kafka implementations (kafka_stores.py) keep each in a compacted topic through the one
compacted-topic log; the memory ones serve standalone configs and the broker-free tests. All
are used from the worker's loop thread only (REST requests run there too), so none locks.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol

import attrs

from connector.kafka.offsets import OffsetRecord
from connector.runtime.status import TargetState, TaskStatus


@attrs.frozen
class StoredConnector:
    """A connector as the cluster knows it: its config and what the operator asked of it."""

    name: str
    data: dict[str, Any]  # {"name", "config"} as given (string values, or an inline model)
    base_dir: str  # where a relative model path resolves
    file: str | None
    target: TargetState = TargetState.RUNNING
    restart_seq: int = 0  # bumped by every restart request
    restart_tasks: tuple[int, ...] | None = None  # None: every task
    # The config's identity: tasks run with one version, a change restarts them.
    version: str = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        digest = hashlib.sha256(json.dumps(self.data, sort_keys=True).encode()).hexdigest()
        object.__setattr__(self, "version", digest[:16])

    def strings(self) -> dict[str, str]:
        """The config as Connect shows it: string values (an inline model as JSON), `name`."""
        config = {k: v if isinstance(v, str) else json.dumps(v)
                  for k, v in self.data["config"].items()}
        return {**config, "name": self.name}


class ConfigStore(Protocol):
    def poll(self) -> None:
        """Apply records written since the last poll (no-op in memory)."""

    def snapshot(self) -> dict[str, StoredConnector]:
        """The current connectors."""

    def put(self, stored: StoredConnector) -> None:
        """Create or replace a connector (config, target, restart request); visible at once."""

    def delete(self, name: str) -> None:
        """Remove a connector."""

    def close(self) -> None:
        """Release clients; later calls see nothing and change nothing."""


class StatusStore(Protocol):
    def publish(self, connector: str, status: TaskStatus) -> None:
        """Record a task's status (for the other workers and after a restart)."""

    def poll(self) -> None:
        """Read what other workers published."""

    def remote(self, connector: str, task: int) -> TaskStatus | None:
        """The last status another worker published for a task, if this store reads them."""

    def close(self) -> None:
        """Deliver what was published, release clients."""


class OffsetStore(Protocol):
    def committed(self, connector: str) -> dict[int, OffsetRecord]:
        """Each shard's committed offset record."""

    def generations(self, connector: str) -> set[int]:
        """Every `tasks.max` the connector's tasks ran with."""

    def record_generation(self, connector: str, tasks_max: int) -> None:
        """Remember a `tasks.max` before its tasks start, so later ones can fence them."""

    def reset(self, connector: str, shard_count: int, generations: set[int]) -> None:
        """Fence every transactional id of these generations, then delete offsets and
        snapshots: no earlier task can commit after this returns."""


class MemoryConfigStore:
    def __init__(self) -> None:
        self._connectors: dict[str, StoredConnector] = {}
        self._closed = False

    def poll(self) -> None:
        return None

    def snapshot(self) -> dict[str, StoredConnector]:
        return {} if self._closed else dict(self._connectors)

    def put(self, stored: StoredConnector) -> None:
        if not self._closed:
            self._connectors[stored.name] = stored

    def delete(self, name: str) -> None:
        self._connectors.pop(name, None)

    def close(self) -> None:
        self._closed = True


class MemoryStatusStore:
    """Keeps what is published; `remote` answers from another store's records when shared."""

    def __init__(self, records: dict[tuple[str, int], TaskStatus] | None = None) -> None:
        self.records = records if records is not None else {}
        self.published: list[tuple[str, TaskStatus]] = []

    def publish(self, connector: str, status: TaskStatus) -> None:
        copy = attrs.evolve(status)
        self.published.append((connector, copy))
        self.records[(connector, status.task)] = copy

    def poll(self) -> None:
        return None

    def remote(self, connector: str, task: int) -> TaskStatus | None:
        return self.records.get((connector, task))

    def close(self) -> None:
        return None


class MemoryOffsetStore:
    def __init__(self) -> None:
        self.offsets: dict[str, dict[int, OffsetRecord]] = {}
        self.known: dict[str, set[int]] = {}
        self.fenced: list[tuple[str, int, int]] = []  # (connector, generation, task)

    def committed(self, connector: str) -> dict[int, OffsetRecord]:
        return dict(self.offsets.get(connector, {}))

    def generations(self, connector: str) -> set[int]:
        return set(self.known.get(connector, set()))

    def record_generation(self, connector: str, tasks_max: int) -> None:
        self.known.setdefault(connector, set()).add(tasks_max)

    def reset(self, connector: str, shard_count: int, generations: set[int]) -> None:
        self.fenced.extend((connector, g, t) for g in sorted(generations) for t in range(g))
        self.offsets.pop(connector, None)
