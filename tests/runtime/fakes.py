"""Broker-free doubles for control-plane tests: a fake task process, its spawner, a clock."""

from __future__ import annotations

import itertools
from typing import Any

import attrs

from connector.runtime.status import State, TaskReport
from connector.runtime.task_process import ExitCode, TaskSpec

_pids = itertools.count(10_000)


@attrs.define
class FakeClock:
    now: float = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@attrs.define(eq=False)
class FakeTask:
    """A task process that does what the test says: report, exit, hang, ignore SIGTERM."""

    spec: TaskSpec
    pid: int = attrs.Factory(lambda: next(_pids))
    exitcode: int | None = None
    stopping: bool = False  # SIGTERM received
    exits_on_stop: bool = True
    killed: bool = False
    told: list[Any] = attrs.Factory(list)
    queued: list[TaskReport] = attrs.Factory(list)

    def is_alive(self) -> bool:
        return self.exitcode is None

    def report(self, state: State = State.RUNNING, **fields: Any) -> None:
        self.queued.append(TaskReport(self.spec.task, state, self.pid, **fields))

    def exit(self, code: int = ExitCode.DONE) -> None:
        self.exitcode = int(code)

    def reports(self) -> list[TaskReport]:
        out, self.queued = self.queued, []
        return out

    def waitable(self) -> Any:
        return None

    def tell(self, message: Any) -> None:
        self.told.append(message)

    def stop(self) -> None:
        self.stopping = True
        if self.exits_on_stop:
            self.exit(ExitCode.DONE)

    def kill(self) -> None:
        self.killed = True
        self.exitcode = -9

    def join(self, timeout: float | None = None) -> None:
        return None


@attrs.define
class Spawner:
    """Spawns FakeTasks and remembers them, in order."""

    spawned: list[FakeTask] = attrs.Factory(list)
    exits_on_stop: bool = True

    def __call__(self, spec: TaskSpec) -> FakeTask:
        task = FakeTask(spec, exits_on_stop=self.exits_on_stop)
        self.spawned.append(task)
        return task

    def of(self, connector: str, task: int) -> list[FakeTask]:
        """The processes spawned for one task, oldest first."""
        return [t for t in self.spawned
                if t.spec.connector_data["name"] == connector and t.spec.task == task]

    def alive(self) -> list[FakeTask]:
        return [t for t in self.spawned if t.is_alive()]


def spec(connector: str = "c", task: int = 0) -> TaskSpec:
    return TaskSpec({}, None, {"name": connector, "config": {}}, None, ".", task, "w:1", 1)
