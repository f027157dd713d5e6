"""Connector and task states, in Kafka Connect's vocabulary."""

from __future__ import annotations

import enum

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
