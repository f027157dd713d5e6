"""What a task or connector is, as the REST status says it: from this worker's supervisor, the
operator's intent, how the task last ended, or what its owner published (distributed)."""

from __future__ import annotations

import attrs

from connector.runtime.contracts import TaskState
from connector.runtime.status import State, TargetState, TaskStatus
from connector.runtime.stores import StatusStore, StoredConnector
from connector.runtime.supervisor import TaskSupervisor


@attrs.frozen
class StatusView:
    supervisor: TaskSupervisor
    statuses: StatusStore
    distributed: bool

    def task(self, stored: StoredConnector | None, name: str, task: int) -> TaskState:
        """A task's state from this worker's view, or from what its owner published."""
        remote = self.statuses.remote(name, task) if self.distributed else None
        worker = remote.worker_id if remote is not None else self.supervisor.worker_id
        rt = self.supervisor.tasks.get((name, task))
        progress: TaskStatus | None = rt.status if rt is not None else remote
        state, trace = State.UNASSIGNED, None
        ended = self.supervisor.ended.get((name, task))
        if rt is not None and (rt.stopping_since is None or stored is None
                               or stored.target is TargetState.RUNNING):
            state, worker, trace = rt.status.state, rt.status.worker_id, rt.status.trace
        elif stored is not None and stored.target is not TargetState.RUNNING:
            # The operator's intent: pausing/stopping tasks report it right away.
            state, worker = stored.target.state, rt.status.worker_id if rt else worker
        elif ended is not None and stored is not None and ended.version == stored.version:
            state, worker, trace = ended.state, self.supervisor.worker_id, ended.trace
        elif remote is not None:
            state, trace = remote.state, remote.trace
        else:
            worker = ""
        if progress is None:
            return TaskState(task, state, worker, trace)
        return TaskState(task, state, worker, trace, progress.next_tick, progress.events,
                         progress.lag_seconds)

    def connector(self, stored: StoredConnector, tasks_max: int, broken: str | None
                  ) -> tuple[State, str | None]:
        """The connector's state and, when FAILED, why."""
        if broken is not None:
            return State.FAILED, broken
        if stored.target is not TargetState.RUNNING:
            return stored.target.state, None
        tasks = [self.task(stored, stored.name, t) for t in range(tasks_max)]
        failed = next((t for t in tasks if t.state is State.FAILED), None)
        if failed is not None:
            return State.FAILED, f"task {failed.id} failed: {failed.trace or ''}"
        if tasks and all(t.state is State.FINISHED for t in tasks):
            return State.FINISHED, None
        return State.RUNNING, None
