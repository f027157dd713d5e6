"""Connector and task states in Kafka Connect's vocabulary, and what a task reports."""

from __future__ import annotations

import enum
from typing import Any

import attrs

from connector.runtime.task_metrics import TaskCounters


class State(enum.Enum):
    UNASSIGNED = "UNASSIGNED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"
    FAILED = "FAILED"
    FINISHED = "FINISHED"  # a finite run (`ticks` set) that produced all its ticks
    RESTARTING = "RESTARTING"


class TargetState(enum.Enum):
    """What the operator asked a connector to be (Connect's target state)."""

    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"

    @property
    def state(self) -> State:
        return State(self.value)


@attrs.define
class TaskStatus:
    """A task's status as its worker sees it; the record of it in the status topic."""

    task: int
    state: State = State.UNASSIGNED
    worker_id: str = ""
    trace: str | None = None
    failures: int = 0  # consecutive failed runs, reset by progress (not published)
    next_tick: int = 0
    events: int = 0
    lag_seconds: float = 0.0
    pid: int | None = None  # of the task's process while it runs (a stable handle for tests)

    def to_record(self) -> dict[str, Any]:
        """The status topic's value."""
        return {"state": self.state.value, "trace": self.trace, "worker_id": self.worker_id,
                "next_tick": self.next_tick, "events": self.events,
                "lag_seconds": self.lag_seconds, "pid": self.pid}

    @classmethod
    def from_record(cls, task: int, record: dict[str, Any]) -> TaskStatus:
        return cls(task, State(record["state"]), str(record.get("worker_id") or ""),
                   record.get("trace"), 0, int(record.get("next_tick") or 0),
                   int(record.get("events") or 0), float(record.get("lag_seconds") or 0.0),
                   record.get("pid"))


@attrs.frozen
class TaskReport:
    """What a task process tells its worker over its pipe (progress, or how it ended)."""

    task: int
    state: State
    pid: int
    next_tick: int | None = None
    events: int | None = None
    lag_seconds: float | None = None
    commits: int | None = None
    trace: str | None = None  # why it failed, or a fault it is riding out while RUNNING
    counters: TaskCounters | None = None  # for /metrics: the change since the last report
