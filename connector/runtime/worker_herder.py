"""The Herder of a worker: decides what runs (configs, target states, restarts) and answers REST.

Worker state is touched by the worker's loop thread only. A REST thread hands each request to
that thread (requests.py) and waits; only work that reads no worker state runs in the REST
thread itself (validating a model, creating topics, reading or resetting offsets in Kafka), so
the loop is never held up by it. `reconcile` runs every loop round: the tasks this worker should
run (assignment.py) are started, the others stopped, through the TaskSupervisor.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import attrs
import structlog

from connector.core.sharding import shards_of_task
from connector.engine.identity import run_fingerprint
from connector.errors import Problem, UserError
from connector.kafka.topics import TopicWanted
from connector.model.expr import FunctionSpec
from connector.runtime.assignment import assigned
from connector.runtime.config import ConnectorConfig, DestinationKind, resolve_start_ms
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
from connector.runtime.membership import Membership
from connector.runtime.names import check_connector_name
from connector.runtime.providers import Providers, parse_resolved
from connector.runtime.requests import RequestQueue
from connector.runtime.simulation import Simulation
from connector.runtime.status import State, TargetState
from connector.runtime.status_view import StatusView
from connector.runtime.stores import ConfigStore, OffsetStore, StatusStore, StoredConnector
from connector.runtime.supervisor import TaskSupervisor
from connector.runtime.task_process import TaskSpec
from connector.runtime.validation import checked_simulation, connector_data, validate_response

log = structlog.get_logger(__name__)
T = TypeVar("T")
# Keys whose change alters the committed output; refused while offsets exist.
IDENTITY_KEYS = ("model", "users", "shards", "seed", "tick.ms", "start.time")
ENDED = (State.FINISHED, State.FAILED, State.STOPPED)


@attrs.frozen
class HerderContext:
    """What the herder needs of the worker besides its stores."""

    worker_values: dict[str, str]
    worker_file: str | None
    models_dir: Path
    functions: tuple[FunctionSpec, ...]
    slots: int
    distributed: bool
    create_topics: Callable[[TopicWanted], object]
    kafka_cluster_id: str | None = None
    confine_models: bool = True  # REST-created connectors' files stay inside models_dir
    providers: Providers = attrs.Factory(Providers)  # resolve `${...}`; stored configs keep them

    def confined(self, file: str | None) -> bool:
        """Whether a connector's paths must stay inside models_dir (REST-created ones)."""
        return file is None and self.confine_models


class WorkerHerder:
    """Implements the Herder (connector/runtime/herder.py) over the stores and a supervisor."""

    def __init__(self, context: HerderContext, configs: ConfigStore, statuses: StatusStore,
                 offsets: OffsetStore, supervisor: TaskSupervisor, membership: Membership,
                 requests: RequestQueue | None = None) -> None:
        self.context = context
        self.configs = configs
        self.statuses = statuses
        self.offset_store = offsets
        self.supervisor = supervisor
        self.membership = membership
        self.requests = requests or RequestQueue()
        self.kafka_cluster_id = context.kafka_cluster_id
        self.view = StatusView(supervisor, statuses, context.distributed)
        self._parsed: dict[str, ConnectorConfig | UserError] = {}  # by version
        self._restart_seen: dict[str, int] = {}

    @property
    def worker_id(self) -> str:
        return self.supervisor.worker_id

    @worker_id.setter
    def worker_id(self, value: str) -> None:
        self.supervisor.worker_id = value

    def _call(self, request: Callable[[], T]) -> T:
        return self.requests.call(request)

    # -- the Herder API (any thread) --------------------------------------------------------
    def connectors(self) -> list[str]:
        return self._call(lambda: sorted(self.configs.snapshot()))

    def connector_info(self, name: str) -> ConnectorInfo:
        return self._call(lambda: self._info(name))

    def connector_config(self, name: str) -> dict[str, str]:
        return self._call(lambda: self._stored(name).strings())

    def create_connector(self, name: str, config: dict[str, Any]) -> ConnectorInfo:
        self._put(name, config, str(self.context.models_dir), None, create_only=True)
        return self.connector_info(name)

    def put_connector_config(self, name: str, config: dict[str, Any]
                             ) -> tuple[bool, ConnectorInfo]:
        created = self._put(name, config, str(self.context.models_dir), None, create_only=False)
        return created, self.connector_info(name)

    def add_connector(self, data: Any, file: str | None, base_dir: str) -> None:
        """A connector from a file (standalone command line): validated, then stored."""
        name = data.get("name") if isinstance(data, dict) else None
        config = data.get("config") if isinstance(data, dict) else None
        if not isinstance(name, str) or not isinstance(config, dict):
            raise UserError([Problem('expected {"name": ..., "config": {...}}', file=file)])
        self._put(name, config, base_dir, file, create_only=False)

    def connector_status(self, name: str) -> ConnectorStatus:
        return self._call(lambda: self._status(name))

    def task_configs(self, name: str) -> list[TaskConfig]:
        return self._call(lambda: self._task_configs(name))

    def task_status(self, name: str, task: int) -> TaskState:
        return self._call(lambda: self._task_status(name, task))

    def pause(self, name: str) -> None:
        self._call(lambda: self._set_target(name, TargetState.PAUSED))

    def resume(self, name: str) -> None:
        self._call(lambda: self._set_target(name, TargetState.RUNNING))

    def stop(self, name: str) -> None:
        self._call(lambda: self._set_target(name, TargetState.STOPPED))

    def restart_connector(self, name: str, include_tasks: bool, only_failed: bool
                          ) -> ConnectorStatus | None:
        return self._call(lambda: self._restart(name, include_tasks, only_failed))

    def restart_task(self, name: str, task: int) -> None:
        self._call(lambda: self._restart_one(name, task))

    def delete_connector(self, name: str, reset_offsets: bool = False) -> None:
        stored = self._call(lambda: self._delete(name))
        if reset_offsets:
            self._reset(stored)

    def reset_offsets(self, name: str) -> None:
        """Delete a STOPPED connector's committed offsets and snapshots (Connect's KIP-875)."""
        stored = self._call(lambda: self._stored(name))
        if stored.target is not TargetState.STOPPED:
            raise UserError(f"Connector {name} must be stopped before its offsets are reset "
                            f"(PUT /connectors/{name}/stop)")
        self._reset(stored)

    def offsets(self, name: str) -> Offsets:
        self._call(lambda: self._stored(name))
        committed = self.offset_store.committed(name)
        return Offsets(tuple(ShardOffset(shard, r.next_tick, r.snapshot_tick)
                             for shard, r in sorted(committed.items())))

    def validate(self, config: dict[str, Any]) -> dict[str, Any]:
        return validate_response(config, self.context.models_dir, self.context.functions,
                                 self.context.providers, confined=self.context.confine_models)

    # -- the loop thread --------------------------------------------------------------------
    def poll_stores(self) -> None:
        """Apply what the other workers wrote (configs, statuses) and keep the membership."""
        self.configs.poll()
        self.membership.poll()
        self.statuses.poll()

    def reconcile(self) -> None:
        """Start the tasks this worker should run, stop the others."""
        owned = self.membership.owned_slots()
        if owned is None:
            return  # rebalance in progress: keep everything as it is until assignments arrive
        connectors = self.configs.snapshot()
        parsed = {n: self._config(s) for n, s in connectors.items()}
        mine = assigned({n: c.tasks_max for n, c in parsed.items() if c is not None}, owned,
                        self.context.slots)
        for key, running in list(self.supervisor.tasks.items()):
            current = connectors.get(key[0])
            if current is None or key not in mine:
                self.supervisor.stop(key, State.UNASSIGNED)
            elif current.target is not TargetState.RUNNING:  # before the version: pause wins
                self.supervisor.stop(key, current.target.state)
            elif running.version != current.version:
                self.supervisor.stop(key, State.UNASSIGNED)
        for name, stored in connectors.items():
            config = parsed[name]
            if stored.restart_seq > self._restart_seen.get(name, 0) and config is not None:
                self._restart_seen[name] = stored.restart_seq
                for task in stored.restart_tasks or range(config.tasks_max):
                    self.supervisor.restart((name, task))
        for key in sorted(mine):
            stored, config = connectors[key[0]], parsed[key[0]]
            if stored.target is not TargetState.RUNNING or key in self.supervisor.tasks \
                    or config is None:
                continue
            ended = self.supervisor.ended.get(key)
            if ended is not None and ended.version == stored.version:
                continue  # finished or failed with this config: stays so until restarted
            self.supervisor.start(key, stored.version, self._spec(stored, key[1]),
                                  finite=config.ticks is not None)

    def all_ended(self) -> bool:
        names = list(self.configs.snapshot())
        return bool(names) and all(self._connector_state(n)[0] in ENDED for n in names)

    def any_failed(self) -> bool:
        return any(self._connector_state(n)[0] is State.FAILED for n in self.configs.snapshot())

    # -- inside (loop thread unless said otherwise) -------------------------------------------
    def _stored(self, name: str) -> StoredConnector:
        stored = self.configs.snapshot().get(name)
        if stored is None:
            raise NotFound(f"Connector {name} not found")
        return stored

    def _config(self, stored: StoredConnector) -> ConnectorConfig | None:
        """The parsed config; None (logged once) when a stored config no longer parses."""
        version = stored.version
        parsed = self._parsed.get(version)
        if parsed is None:
            try:
                parsed = parse_resolved(stored.data, stored.file, Path(stored.base_dir),
                                        self.context.providers,
                                        confined=self.context.confined(stored.file))
            except UserError as exc:
                log.error("stored connector config is invalid", connector=stored.name,
                          error=str(exc))
                parsed = exc
            self._parsed[version] = parsed
        return parsed if isinstance(parsed, ConnectorConfig) else None

    def _broken(self, stored: StoredConnector) -> str | None:
        """Why a stored config does not parse (any more), or None."""
        self._config(stored)
        parsed = self._parsed.get(stored.version)
        if isinstance(parsed, UserError):
            return "the stored connector config is invalid: " + " ".join(str(parsed).split())
        return None

    def _tasks_max(self, stored: StoredConnector) -> int:
        config = self._config(stored)
        return config.tasks_max if config is not None else 0

    def _spec(self, stored: StoredConnector, task: int) -> TaskSpec:
        return TaskSpec(dict(self.context.worker_values), self.context.worker_file, stored.data,
                        stored.file, stored.base_dir, task, self.worker_id, os.getpid())

    def _info(self, name: str) -> ConnectorInfo:
        stored = self._stored(name)
        return ConnectorInfo(name, stored.strings(),
                             tuple(TaskId(name, t) for t in range(self._tasks_max(stored))))

    def _put(self, name: str, config: dict[str, Any], base_dir: str, file: str | None,
             create_only: bool) -> bool:
        """Validate (in the calling thread), then store (on the loop thread)."""
        check_connector_name(name, config, file)
        data = connector_data(name, config)
        sim = checked_simulation(data, file, Path(base_dir), self.context.functions,
                                 self.context.worker_values, self.context.providers,
                                 confined=self.context.confined(file))
        parsed = sim.config
        if create_only:
            self._call(lambda: self._absent(name))
        if parsed.destination is DestinationKind.KAFKA:
            # PostgreSQL: no topics; its doge_offsets refuse another run's output themselves.
            self._check_output_identity(name, sim)
            self.context.create_topics({
                parsed.kafka_topic(t): (parsed.partitions, parsed.replication_factor,
                                        parsed.topic_configs) for t in sim.model.schemas})
            self.offset_store.record_generation(name, parsed.tasks_max)
        return self._call(lambda: self._store(name, data, base_dir, file, create_only))

    def _absent(self, name: str) -> None:
        if name in self.configs.snapshot():
            raise Conflict(f"Connector {name} already exists")

    def _store(self, name: str, data: dict[str, Any], base_dir: str, file: str | None,
               create_only: bool) -> bool:
        old = self.configs.snapshot().get(name)
        if old is not None and create_only:
            raise Conflict(f"Connector {name} already exists")
        target = old.target if old is not None else TargetState.RUNNING
        seq = old.restart_seq if old is not None else 0
        self.configs.put(StoredConnector(name, data, base_dir, file, target, seq))
        return old is None

    def _check_output_identity(self, name: str, sim: Simulation) -> None:
        """Refuse a config whose output differs from what this connector already committed."""
        committed = self.offset_store.committed(name)
        if not committed:
            return
        record = next(iter(committed.values()))
        settings = sim.settings(resolve_start_ms(sim.config, record.start_ms))
        if run_fingerprint(sim.model, settings) != record.fingerprint:
            raise Conflict(
                f"Connector {name} already committed output for another model, seed or "
                f"population ({', '.join(IDENTITY_KEYS)}), or from an earlier engine version; "
                f"this config would mix two runs. "
                f"Stop it and reset its offsets first (PUT /connectors/{name}/stop, then "
                f"DELETE /connectors/{name}/offsets), or use a new connector name")

    def _task_state(self, name: str, task: int) -> TaskState:
        return self.view.task(self.configs.snapshot().get(name), name, task)

    def _connector_state(self, name: str) -> tuple[State, str | None]:
        stored = self._stored(name)
        return self.view.connector(stored, self._tasks_max(stored), self._broken(stored))

    def _status(self, name: str) -> ConnectorStatus:
        stored = self._stored(name)
        state, trace = self._connector_state(name)
        tasks = tuple(self._task_state(name, t) for t in range(self._tasks_max(stored)))
        return ConnectorStatus(name, ConnectorState(state, self.worker_id, trace), tasks)

    def _task_status(self, name: str, task: int) -> TaskState:
        if not 0 <= task < self._tasks_max(self._stored(name)):
            raise NotFound(f"Task {name}-{task} not found")
        return self._task_state(name, task)

    def _task_configs(self, name: str) -> list[TaskConfig]:
        stored = self._stored(name)
        config = self._config(stored)
        base = stored.strings()
        return [TaskConfig(TaskId(name, t), {
            **base, "task.id": str(t),
            "task.shards": ",".join(map(str, shards_of_task(config.shards, config.tasks_max, t)))})
            for t in range(config.tasks_max)] if config is not None else []

    def _set_target(self, name: str, target: TargetState) -> None:
        stored = self._stored(name)
        if stored.target is not target:
            self.configs.put(attrs.evolve(stored, target=target))

    def _restart(self, name: str, include_tasks: bool, only_failed: bool
                 ) -> ConnectorStatus | None:
        stored = self._stored(name)
        if not include_tasks and not only_failed:
            return None  # the connector itself has no runtime of its own to restart
        tasks = tuple(t for t in range(self._tasks_max(stored)) if include_tasks and (
            not only_failed or self._task_state(name, t).state is State.FAILED))
        status = self._status(name)
        if not tasks:
            return status
        self.configs.put(attrs.evolve(stored, restart_seq=stored.restart_seq + 1,
                                      restart_tasks=tasks))
        return ConnectorStatus(
            name, attrs.evolve(status.connector, state=State.RESTARTING),
            tuple(attrs.evolve(t, state=State.RESTARTING) if t.id in tasks else t
                  for t in status.tasks))

    def _restart_one(self, name: str, task: int) -> None:
        stored = self._stored(name)
        if not 0 <= task < self._tasks_max(stored):
            raise NotFound(f"Task {name}-{task} not found")
        self.configs.put(attrs.evolve(stored, restart_seq=stored.restart_seq + 1,
                                      restart_tasks=(task,)))

    def _delete(self, name: str) -> StoredConnector:
        stored = self._stored(name)
        self.configs.delete(name)
        return stored

    def _reset(self, stored: StoredConnector) -> None:
        """(Calling thread) once its tasks stopped, fence every generation and delete offsets."""
        deadline = time.monotonic() + self.supervisor.settings.grace_s
        while self._call(lambda: self.supervisor.running(stored.name)) \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        config = self._call(lambda: self._config(stored))
        generations = self.offset_store.generations(stored.name)
        if config is not None:
            generations.add(config.tasks_max)
        self.offset_store.reset(stored.name, config.shards if config else 0, generations)
