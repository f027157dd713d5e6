"""A real spawned task process seen from the worker: its reports arrive, its exit code too."""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection

from connector.runtime.status import State, TaskReport
from connector.runtime.task_process import ExitCode, ReportPipe, SpawnedTask, TaskSpec
from tests.runtime.fakes import spec


def _reporting_task(task: TaskSpec, connection: Connection) -> None:
    pipe = ReportPipe(connection)
    pipe.send(TaskReport(task.task, State.RUNNING, 0, next_tick=3))
    pipe.send(TaskReport(task.task, State.FINISHED, 0, next_tick=4))
    raise SystemExit(int(ExitCode.FENCED))


def test_reports_and_exit_code_cross_the_process_boundary() -> None:
    """Both reports arrive in order, then the exit code; the pipe then reads as closed."""
    process = SpawnedTask(spec(task=2), _reporting_task)
    process.join(30)
    assert not process.is_alive() and process.exitcode == ExitCode.FENCED
    reports = process.reports()
    assert [(r.task, r.state, r.next_tick) for r in reports] == [
        (2, State.RUNNING, 3), (2, State.FINISHED, 4)]
    assert process.reports() == [] and process.waitable() is None


def test_a_report_to_a_gone_worker_is_not_an_error() -> None:
    """A task whose worker is gone keeps running: its reports just stop being sent."""
    reader, writer = multiprocessing.Pipe(duplex=False)
    reader.close()
    pipe = ReportPipe(writer)
    pipe.send(TaskReport(0, State.RUNNING, 0))
    pipe.send(TaskReport(0, State.RUNNING, 0))
    assert pipe.connection is None
