"""How the tasks a worker owns run: spawn, stop, restart with backoff, FAILED after N, hangs.

The supervisor knows nothing of configs or REST: the herder tells it which task to start (with
the spec and config version to run) or stop, and it keeps each one's status, publishing every
change. A crashed task restarts with exponential backoff; after `max_attempts` failures in a row
without progress it is FAILED. A task that stops reporting for `hang_timeout_s` gets a
replacement, which fences it; the hung process is left as a zombie that can never commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import attrs
import structlog

from connector.runtime.assignment import TaskKey
from connector.runtime.metrics import WorkerMetrics
from connector.runtime.status import State, TaskReport, TaskStatus
from connector.runtime.task_process import ExitCode, SetLogLevels, TaskProcess, TaskSpec

log = structlog.get_logger(__name__)
PUBLISH_EVERY_S = 5.0  # progress reaches the status topic at most this often


@attrs.frozen
class SupervisorSettings:
    max_attempts: int = 5  # restarts in a row without progress before FAILED
    backoff_s: float = 1.0  # first restart delay, doubled each time (at most 60 s)
    hang_timeout_s: float = 60.0
    fenced_delay_s: float = 10.0  # a fenced task waits this long (a session timeout) to restart
    grace_s: float = 30.0  # a stopping task gets this long before SIGKILL


@attrs.define
class RunningTask:
    """A task this worker runs (or is about to restart)."""

    key: TaskKey
    version: str  # of the connector config the process runs
    spec: TaskSpec
    finite: bool  # `ticks` set: a clean exit means FINISHED, not STOPPED
    status: TaskStatus
    process: TaskProcess | None = None
    restart_at: float | None = None
    last_report: float = 0.0
    stopping_since: float | None = None
    published: float = 0.0  # when progress was last published
    stop_state: State = State.UNASSIGNED  # what the task becomes once its process has stopped


@attrs.frozen
class Ended:
    """A task that finished or failed with config `version`: it stays so until restarted."""

    version: str
    state: State
    trace: str | None


class TaskSupervisor:
    def __init__(self, settings: SupervisorSettings, spawn: Callable[[TaskSpec], TaskProcess],
                 publish: Callable[[str, TaskStatus], None], worker_id: str = "",
                 clock: Callable[[], float] = time.monotonic,
                 metrics: WorkerMetrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or WorkerMetrics()
        self.log_levels: dict[str, int] = {}  # set through /admin/loggers; told to each task
        self.spawn = spawn
        self.publish = publish
        self.worker_id = worker_id
        self.clock = clock
        self.tasks: dict[TaskKey, RunningTask] = {}
        self.ended: dict[TaskKey, Ended] = {}
        self.zombies: list[TaskProcess] = []  # hung processes left to be fenced

    # -- what the herder asks ---------------------------------------------------------------
    def start(self, key: TaskKey, version: str, spec: TaskSpec, finite: bool) -> None:
        self.ended.pop(key, None)
        rt = RunningTask(key, version, spec, finite, TaskStatus(key[1], worker_id=self.worker_id))
        self.tasks[key] = rt
        self._spawn(rt)

    def stop(self, key: TaskKey, then: State) -> None:
        """Stop a task after its current transaction (SIGTERM); it becomes `then`."""
        rt = self.tasks.get(key)
        if rt is None:
            return
        rt.stop_state = then
        if rt.process is None or not rt.process.is_alive():
            self._forget(rt, then)
        elif rt.stopping_since is None:
            rt.stopping_since = self.clock()
            rt.process.stop()

    def restart(self, key: TaskKey) -> None:
        """A restart request: forget how it ended; a running task stops and starts again."""
        self.ended.pop(key, None)
        rt = self.tasks.get(key)
        if rt is not None:
            self.stop(key, State.RESTARTING)
            rt.status.failures = 0
            self.metrics.restarted(key)

    def running(self, connector: str) -> bool:
        """Whether any process of the connector's tasks is still alive."""
        return any(k[0] == connector and rt.process is not None for k, rt in self.tasks.items())

    def set_log_levels(self, levels: dict[str, int]) -> None:
        """Tell every running task (and remember for the ones started later)."""
        self.log_levels.update(levels)
        for rt in self.tasks.values():
            if rt.process is not None:
                rt.process.tell(SetLogLevels(dict(levels)))

    def states(self) -> dict[TaskKey, State]:
        """Every task this worker runs or ran, by state (for /metrics)."""
        out = {key: ended.state for key, ended in self.ended.items()}
        out.update({key: rt.status.state for key, rt in self.tasks.items()})
        return out

    def waitables(self) -> list[Any]:
        return [w for rt in self.tasks.values() if rt.process is not None
                for w in [rt.process.waitable()] if w is not None]

    # -- the loop ---------------------------------------------------------------------------
    def poll(self) -> None:
        """Read reports, then handle exits, restarts that are due, and hung tasks."""
        now = self.clock()
        for rt in list(self.tasks.values()):
            if rt.process is not None:
                self._read(rt, rt.process)
            if rt.process is None:
                if rt.restart_at is not None and now >= rt.restart_at:
                    self._spawn(rt)
                continue
            if rt.process.is_alive():
                if rt.stopping_since is not None:
                    if now - rt.stopping_since > self.settings.grace_s:
                        rt.process.kill()
                elif now - rt.last_report > self.settings.hang_timeout_s:
                    self._replace_hung(rt)
                continue
            rt.process.join()
            self._read(rt, rt.process)  # its last report (final tick, events)
            code = rt.process.exitcode if rt.process.exitcode is not None else -1
            rt.process = None
            self.metrics.exited(rt.key, clean=code in (ExitCode.DONE, ExitCode.USER_ERROR))
            if rt.stopping_since is not None:
                self._forget(rt, rt.stop_state)  # RESTARTING: the herder starts it again
            else:
                self._on_exit(rt, code)
        for process in list(self.zombies):
            if not process.is_alive():
                process.join()
                self.zombies.remove(process)

    def shutdown(self) -> None:
        """Stop every task (after its current transaction), wait for them, mark them UNASSIGNED."""
        for key in list(self.tasks):
            self.stop(key, State.UNASSIGNED)
        deadline = self.clock() + self.settings.grace_s
        for rt in list(self.tasks.values()):
            if rt.process is not None:
                rt.process.join(max(0.0, deadline - self.clock()))
                if rt.process.is_alive():
                    rt.process.kill()
                    rt.process.join()
                self._read(rt, rt.process)
                rt.process = None
            self._forget(rt, State.UNASSIGNED)

    # -- inside -----------------------------------------------------------------------------
    def _spawn(self, rt: RunningTask) -> None:
        process = self.spawn(rt.spec)
        rt.process, rt.restart_at, rt.stopping_since = process, None, None
        rt.last_report = self.clock()
        rt.status.state, rt.status.worker_id, rt.status.trace = \
            State.RUNNING, self.worker_id, None
        rt.status.pid = process.pid
        if self.log_levels:
            process.tell(SetLogLevels(dict(self.log_levels)))
        log.info("task process started", connector=rt.key[0], task=rt.key[1], pid=process.pid)
        self._publish(rt)

    def _read(self, rt: RunningTask, process: TaskProcess) -> None:
        for report in process.reports():
            if process is rt.process and report.pid == process.pid:
                self._on_report(rt, report)  # else: a replaced (hung) process still talking

    def _on_report(self, rt: RunningTask, report: TaskReport) -> None:
        rt.last_report = self.clock()
        self.metrics.report(rt.key, report)
        status = rt.status
        if report.next_tick is not None and report.next_tick > status.next_tick:
            status.failures = 0  # progress: the task is healthy again
            status.next_tick = report.next_tick
        if report.events is not None:
            status.events = report.events
        if report.lag_seconds is not None:
            status.lag_seconds = report.lag_seconds
        if report.state is State.FAILED or report.trace:
            status.trace = report.trace  # e.g. "registry retry: ..." while RUNNING
        elif report.next_tick is not None and status.trace and status.state is State.RUNNING:
            status.trace = None  # progress again: the fault is over
        if self.clock() - rt.published > PUBLISH_EVERY_S:
            self._publish(rt)

    def _replace_hung(self, rt: RunningTask) -> None:
        """Start a replacement of a task that stopped reporting (paused, swapped out, stuck).

        The replacement fences the hung process's transactional id before reading offsets, so
        if it ever wakes up it cannot commit. It is deliberately not killed: correctness must
        not depend on being able to kill a zombie (in distributed mode it may be elsewhere).
        """
        assert rt.process is not None
        log.warning("task unresponsive; starting a replacement", connector=rt.key[0],
                    task=rt.key[1], pid=rt.process.pid)
        self.zombies.append(rt.process)
        rt.process = None
        self._spawn(rt)

    def _on_exit(self, rt: RunningTask, code: int) -> None:
        status = rt.status
        if code == ExitCode.DONE:
            self._end(rt, State.FINISHED if rt.finite else State.STOPPED, None)
            return
        if code == ExitCode.USER_ERROR:
            self._end(rt, State.FAILED, status.trace)
            return
        status.failures += 1
        if status.failures > self.settings.max_attempts:
            trace = (status.trace or f"task exited with code {code}") + \
                f" (failed {status.failures} times in a row)"
            self._end(rt, State.FAILED, trace)
            return
        delay = min(self.settings.backoff_s * 2 ** (status.failures - 1), 60.0)
        if code == ExitCode.FENCED:
            # Usually another worker took the task over: give the group a session timeout to
            # say so; the herder drops the task if it is no longer ours before this fires.
            delay = max(delay, self.settings.fenced_delay_s)
        rt.restart_at = self.clock() + delay
        self.metrics.restarted(rt.key)
        status.state = State.RESTARTING
        log.warning("task ended unexpectedly; restarting", connector=rt.key[0], task=rt.key[1],
                    exit_code=code, attempt=status.failures, delay_s=delay)
        self._publish(rt)

    def _end(self, rt: RunningTask, state: State, trace: str | None) -> None:
        rt.status.trace = trace
        self.ended[rt.key] = Ended(rt.version, state, trace)
        self._forget(rt, state)

    def _forget(self, rt: RunningTask, state: State) -> None:
        rt.status.state = state
        rt.status.pid = None
        self._publish(rt)
        self.tasks.pop(rt.key, None)

    def _publish(self, rt: RunningTask) -> None:
        rt.published = self.clock()
        self.publish(rt.key[0], rt.status)
