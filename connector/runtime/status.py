"""Connector and task states, in Kafka Connect's vocabulary and JSON shapes."""

from __future__ import annotations

import enum
import time
from typing import Any

import attrs


class State(enum.Enum):
    UNASSIGNED = "UNASSIGNED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"
    FAILED = "FAILED"
    FINISHED = "FINISHED"  # a finite run (`ticks` set) that produced all its ticks
    RESTARTING = "RESTARTING"


@attrs.define
class TaskStatus:
    task: int
    state: State = State.UNASSIGNED
    worker_id: str = ""
    trace: str | None = None
    failures: int = 0  # consecutive failed runs, reset by progress
    next_tick: int = 0
    events: int = 0
    lag_seconds: float = 0.0
    updated: float = attrs.Factory(time.time)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.task, "state": self.state.value,
                               "worker_id": self.worker_id}
        if self.trace:
            out["trace"] = self.trace
        return out


@attrs.define
class ConnectorStatus:
    name: str
    state: State = State.UNASSIGNED
    worker_id: str = ""
    trace: str | None = None
    tasks: dict[int, TaskStatus] = attrs.Factory(dict)

    def to_json(self) -> dict[str, Any]:
        connector: dict[str, Any] = {"state": self.state.value, "worker_id": self.worker_id}
        if self.trace:
            connector["trace"] = self.trace
        return {"name": self.name, "connector": connector,
                "tasks": [t.to_json() for _, t in sorted(self.tasks.items())],
                "type": "source"}
