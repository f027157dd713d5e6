"""An in-memory Herder that answers like Kafka Connect's, for the REST layer's contract tests.

A test double of our own Herder interface (connector/runtime/herder.py), not of Kafka: configs,
states and offsets live in dicts, and every change takes effect at once. It checks configs
against the real connector config keys, so its 400s look like the worker's.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import attrs

from connector.errors import Problem, UserError
from connector.runtime.config import CONNECTOR_CLASSES, CONNECTOR_CONFIG
from connector.runtime.contracts import (
    ConnectorInfo,
    ConnectorState,
    ConnectorStatus,
    Offsets,
    ShardOffset,
    TaskConfig,
    TaskId,
    TaskState,
)
from connector.runtime.herder import Conflict, NotFound
from connector.runtime.status import State

WORKER_ID = "127.0.0.1:8083"


@attrs.define
class _Connector:
    config: dict[str, str]
    target: str = "RUNNING"  # RUNNING, PAUSED or STOPPED, as asked over REST
    failed: dict[int, str] = attrs.Factory(dict)  # task -> trace

    @property
    def tasks_max(self) -> int:
        return int(self.config.get("tasks.max", "1"))

    @property
    def shards(self) -> int:
        return int(self.config.get("shards", "8"))


def _problems(config: dict[str, Any]) -> list[Problem]:
    out: list[Problem] = []
    for key, value in config.items():
        if key != "name" and not CONNECTOR_CONFIG.known(key):
            out.extend(CONNECTOR_CONFIG.unknown_problems([key], path_prefix="config."))
        elif key != "model" and (isinstance(value, bool)
                                 or not isinstance(value, str | int | float)):
            out.append(Problem(f"expected a string or number, got {type(value).__name__}",
                               path=f"config.{key}"))
    if config.get("connector.class", CONNECTOR_CLASSES[0]) not in CONNECTOR_CLASSES:
        out.append(Problem(f"expected one of {', '.join(CONNECTOR_CLASSES)}, got "
                           f"{config.get('connector.class')!r}", path="config.connector.class"))
    if "model" not in config:
        out.append(Problem("a model is required (a path or an inline object)",
                           path="config.model"))
    for key in ("tasks.max", "shards"):
        text = str(config.get(key, CONNECTOR_CONFIG[key].default))
        if not text.isdigit() or int(text) < 1:
            out.append(Problem(f"expected a whole number >= 1, got {text!r}",
                               path=f"config.{key}"))
    return out


def _strings(name: str, config: dict[str, Any]) -> dict[str, str]:
    out = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    return {**out, "name": name}


class MemoryHerder:
    """Connect-like answers from memory; thread-safe, as the REST layer needs."""

    worker_id = WORKER_ID
    kafka_cluster_id = "memory-cluster-0"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._connectors: dict[str, _Connector] = {}
        self._offsets: dict[str, dict[int, int]] = {}  # survive deletion, as in Connect

    # -- test hooks -----------------------------------------------------------------------
    def commit(self, name: str, next_tick: int) -> None:
        """Pretend every shard of `name` committed up to `next_tick`."""
        with self._lock:
            shards = self._get(name).shards
            self._offsets[name] = dict.fromkeys(range(shards), next_tick)

    def fail(self, name: str, task: int, trace: str = "boom") -> None:
        with self._lock:
            self._get(name).failed[task] = trace

    # -- the Herder -------------------------------------------------------------------------
    def _get(self, name: str) -> _Connector:
        connector = self._connectors.get(name)
        if connector is None:
            raise NotFound(f"Connector {name} not found")
        return connector

    def _task(self, name: str, task: int) -> _Connector:
        connector = self._get(name)
        if not 0 <= task < connector.tasks_max:
            raise NotFound(f"Task {name}-{task} not found")
        return connector

    def connectors(self) -> list[str]:
        with self._lock:
            return sorted(self._connectors)

    def connector_info(self, name: str) -> ConnectorInfo:
        with self._lock:
            connector = self._get(name)
            return ConnectorInfo(name, dict(connector.config),
                                 tuple(TaskId(name, t) for t in range(connector.tasks_max)))

    def connector_config(self, name: str) -> dict[str, str]:
        with self._lock:
            return dict(self._get(name).config)

    def create_connector(self, name: str, config: dict[str, Any]) -> ConnectorInfo:
        with self._lock:
            if name in self._connectors:
                raise Conflict(f"Connector {name} already exists")
            self._put(name, config)
            return self.connector_info(name)

    def put_connector_config(self, name: str, config: dict[str, Any]
                             ) -> tuple[bool, ConnectorInfo]:
        with self._lock:
            created = name not in self._connectors
            self._put(name, config)
            return created, self.connector_info(name)

    def _put(self, name: str, config: dict[str, Any]) -> None:
        if config.get("name", name) != name:
            raise UserError(f"connector name in the config ({config.get('name')!r}) does not "
                            f"match the name {name!r}")
        problems = _problems(config)
        if problems:
            raise UserError(problems)
        old = self._connectors.get(name)
        self._connectors[name] = _Connector(_strings(name, config),
                                            old.target if old is not None else "RUNNING")

    def _task_entry(self, name: str, connector: _Connector, task: int) -> TaskState:
        if task in connector.failed:
            return TaskState(task, State.FAILED, WORKER_ID, connector.failed[task])
        return TaskState(task, State(connector.target), WORKER_ID)

    def connector_status(self, name: str) -> ConnectorStatus:
        with self._lock:
            connector = self._get(name)
            tasks = tuple(self._task_entry(name, connector, t)
                          for t in range(connector.tasks_max))
            return ConnectorStatus(name, ConnectorState(State(connector.target), WORKER_ID),
                                   tasks)

    def task_configs(self, name: str) -> list[TaskConfig]:
        with self._lock:
            connector = self._get(name)
            n = connector.tasks_max
            return [TaskConfig(TaskId(name, t), {
                **connector.config, "task.id": str(t),
                "task.shards": ",".join(str(s) for s in range(t, connector.shards, n))})
                for t in range(n)]

    def task_status(self, name: str, task: int) -> TaskState:
        with self._lock:
            return self._task_entry(name, self._task(name, task), task)

    def pause(self, name: str) -> None:
        with self._lock:
            self._get(name).target = "PAUSED"

    def resume(self, name: str) -> None:
        with self._lock:
            self._get(name).target = "RUNNING"

    def stop(self, name: str) -> None:
        with self._lock:
            self._get(name).target = "STOPPED"

    def restart_connector(self, name: str, include_tasks: bool, only_failed: bool
                          ) -> ConnectorStatus | None:
        with self._lock:
            connector = self._get(name)
            if not include_tasks:
                return None
            restarting = [t for t in range(connector.tasks_max)
                          if not only_failed or t in connector.failed]
            status = self.connector_status(name)
            tasks = tuple(attrs.evolve(t, state=State.RESTARTING, trace=None)
                          if t.id in restarting else t for t in status.tasks)
            state = status.connector
            if not only_failed:  # the connector itself never fails here
                state = attrs.evolve(state, state=State.RESTARTING)
            for t in restarting:
                connector.failed.pop(t, None)
            return ConnectorStatus(name, state, tasks)

    def restart_task(self, name: str, task: int) -> None:
        with self._lock:
            self._task(name, task).failed.pop(task, None)

    def delete_connector(self, name: str, reset_offsets: bool = False) -> None:
        with self._lock:
            self._get(name)
            del self._connectors[name]
            if reset_offsets:
                self._offsets.pop(name, None)

    def reset_offsets(self, name: str) -> None:
        with self._lock:
            if self._get(name).target != "STOPPED":
                raise UserError(f"Connector {name} must be stopped before its offsets are reset "
                                f"(PUT /connectors/{name}/stop)")
            self._offsets.pop(name, None)

    def offsets(self, name: str) -> Offsets:
        with self._lock:
            self._get(name)
            return Offsets(tuple(ShardOffset(s, t, None)
                                 for s, t in sorted(self._offsets.get(name, {}).items())))

    def validate(self, config: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        for p in _problems(config):
            errors.setdefault((p.path or "").removeprefix("config."), []).append(p.render())
        configs: list[dict[str, Any]] = []
        for order, key in enumerate(CONNECTOR_CONFIG.keys, start=1):
            value = config.get(key.name, key.default)
            configs.append({
                "definition": {"name": key.name, "type": "STRING", "required": key.name == "model",
                               "default_value": key.default, "importance": "HIGH",
                               "documentation": key.doc, "group": "Simulation", "width": "MEDIUM",
                               "display_name": key.name, "dependents": [], "order": order},
                "value": {"name": key.name, "value": None if value is None else str(value),
                          "recommended_values": [], "errors": errors.pop(key.name, []),
                          "visible": True}})
        for unknown, messages in errors.items():  # unknown keys, listed with their errors
            configs.append({
                "definition": {"name": unknown, "type": "STRING", "required": False,
                               "default_value": None, "importance": "LOW", "documentation": "",
                               "group": "Simulation", "width": "NONE", "display_name": unknown,
                               "dependents": [], "order": 0},
                "value": {"name": unknown, "value": str(config.get(unknown)),
                          "recommended_values": [], "errors": messages, "visible": True}})
        return {"name": CONNECTOR_CLASSES[0],
                "error_count": sum(len(c["value"]["errors"]) for c in configs),
                "groups": ["Simulation"], "configs": configs}
