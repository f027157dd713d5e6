"""A task process seen from both ends: the worker's handle on it, and its report pipe.

Parent side: `TaskProcess` is what the supervisor needs of a task process (start, reports,
stop, kill, exit code); `SpawnedTask` is the real one, a `spawn`ed OS process with a one-way
pipe of `TaskReport`s. Child side: `ReportPipe`, the task's end of that pipe. The supervisor's
tests use a fake `TaskProcess` instead.
"""

from __future__ import annotations

import enum
import multiprocessing as mp
import os
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Protocol

import attrs

from connector.runtime.status import TaskReport


@attrs.frozen
class SetLogLevels:
    """Worker -> task: logger name -> level (Python's number), set through /admin/loggers."""

    levels: dict[str, int]


class ExitCode(enum.IntEnum):
    """How a task process ended; the supervisor decides from it whether to restart."""

    DONE = 0  # finished its ticks, or stopped on request
    USER_ERROR = 2  # bad config or incompatible schema: restarting cannot help
    FAILED = 3  # infrastructure or producer failure: restart with backoff
    FENCED = 4  # another owner took over: restart only if we still own the task


@attrs.frozen
class TaskSpec:
    """Everything a task process needs, picklable for the spawn start method."""

    worker_values: dict[str, str]
    worker_file: str | None
    connector_data: dict[str, Any]
    connector_file: str | None
    base_dir: str
    task: int
    worker_id: str
    parent_pid: int


class TaskProcess(Protocol):
    """The worker's handle on one task process."""

    @property
    def pid(self) -> int | None: ...

    @property
    def exitcode(self) -> int | None:
        """None while it runs."""

    def is_alive(self) -> bool: ...

    def reports(self) -> list[TaskReport]:
        """Reports that arrived since the last call (never blocks)."""

    def waitable(self) -> Any:
        """What `multiprocessing.connection.wait` can wait on for reports, or None."""

    def tell(self, message: SetLogLevels) -> None:
        """Send it a message (log levels); a process that is gone is not an error."""

    def stop(self) -> None:
        """Ask it to stop after its current transaction (SIGTERM)."""

    def kill(self) -> None:
        """SIGKILL."""

    def join(self, timeout: float | None = None) -> None: ...


class SpawnedTask:
    """A task in a process of its own (the `spawn` start method: no inherited threads)."""

    def __init__(self, spec: TaskSpec, target: Callable[[TaskSpec, Connection], None]) -> None:
        ctx = mp.get_context("spawn")
        reader, writer = ctx.Pipe(duplex=True)  # reports up, log levels down
        self._process: BaseProcess = ctx.Process(
            target=target, args=(spec, writer), daemon=False,
            name=f"doge-task-{spec.connector_data.get('name')}-{spec.task}")
        self._process.start()
        writer.close()  # the child holds the write end; EOF here means it is gone
        self._reader: Connection | None = reader

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def exitcode(self) -> int | None:
        return self._process.exitcode

    def is_alive(self) -> bool:
        return self._process.is_alive()

    def reports(self) -> list[TaskReport]:
        out: list[TaskReport] = []
        try:
            while self._reader is not None and self._reader.poll():
                report = self._reader.recv()
                if isinstance(report, TaskReport):
                    out.append(report)
        except (EOFError, OSError):  # the process ended (or died mid-report)
            self._close_reader()
        return out

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def waitable(self) -> Any:
        return self._reader

    def tell(self, message: SetLogLevels) -> None:
        try:
            if self._reader is not None:
                self._reader.send(message)
        except (BrokenPipeError, EOFError, OSError):
            pass  # it ended: reports() notices

    def stop(self) -> None:
        if self._process.pid is not None and self._process.is_alive():
            os.kill(self._process.pid, signal.SIGTERM)

    def kill(self) -> None:
        self._process.kill()

    def join(self, timeout: float | None = None) -> None:
        self._process.join(timeout)


class ReportPipe:
    """The task's end of its pipe (a task killed mid-write breaks only its own pipe)."""

    def __init__(self, connection: Connection | None) -> None:
        self.connection = connection
        self._lock = threading.Lock()  # the main and progress threads both report

    def listen(self, apply: Callable[[SetLogLevels], None]) -> None:
        """Apply what the worker sends until the pipe closes (run on a thread of its own)."""
        connection = self.connection
        while connection is not None:
            try:
                message = connection.recv()
            except (EOFError, OSError):
                return
            if isinstance(message, SetLogLevels):
                apply(message)

    def send(self, report: TaskReport) -> None:
        """Send a report; a worker that is gone is not an error of the task's."""
        if self.connection is None:
            return
        with self._lock:
            try:
                self.connection.send(report)
            except (BrokenPipeError, EOFError, OSError):
                self.connection = None
