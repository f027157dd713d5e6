"""What the Herder answers, as types; `to_json()` gives Kafka Connect's REST shapes."""

from __future__ import annotations

from typing import Any

import attrs

from connector.runtime.status import State


@attrs.frozen
class TaskId:
    connector: str
    task: int

    def to_json(self) -> dict[str, Any]:
        return {"connector": self.connector, "task": self.task}


@attrs.frozen
class ConnectorInfo:
    name: str
    config: dict[str, str]  # string values, `name` included
    tasks: tuple[TaskId, ...]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "config": dict(self.config),
                "tasks": [t.to_json() for t in self.tasks], "type": "source"}


@attrs.frozen
class TaskState:
    """One task's status; `next_tick`, `events` and `lag_seconds` extend Connect's shape
    (clients ignore unknown fields) and are left out when nothing is known of them."""

    id: int
    state: State
    worker_id: str
    trace: str | None = None
    next_tick: int | None = None
    events: int | None = None
    lag_seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "state": self.state.value,
                               "worker_id": self.worker_id}
        if self.trace:
            out["trace"] = self.trace
        for key in ("next_tick", "events", "lag_seconds"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@attrs.frozen
class ConnectorState:
    state: State
    worker_id: str
    trace: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"state": self.state.value, "worker_id": self.worker_id}
        if self.trace is not None:
            out["trace"] = self.trace
        return out


@attrs.frozen
class ConnectorStatus:
    name: str
    connector: ConnectorState
    tasks: tuple[TaskState, ...]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "connector": self.connector.to_json(),
                "tasks": [t.to_json() for t in self.tasks], "type": "source"}


@attrs.frozen
class TaskConfig:
    id: TaskId
    config: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id.to_json(), "config": dict(self.config)}


@attrs.frozen
class ShardOffset:
    shard: int
    next_tick: int
    snapshot_tick: int | None

    def to_json(self) -> dict[str, Any]:
        return {"partition": {"shard": self.shard},
                "offset": {"next_tick": self.next_tick, "snapshot_tick": self.snapshot_tick}}


@attrs.frozen
class Offsets:
    offsets: tuple[ShardOffset, ...]

    def to_json(self) -> dict[str, Any]:
        return {"offsets": [o.to_json() for o in self.offsets]}
