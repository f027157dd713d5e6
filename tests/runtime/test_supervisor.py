"""The task supervisor, with fake task processes and a fake clock (no broker, no processes)."""

from __future__ import annotations

from typing import Any

import attrs

from connector.runtime.status import State, TaskStatus
from connector.runtime.supervisor import SupervisorSettings, TaskSupervisor
from connector.runtime.task_process import ExitCode
from tests.runtime.fakes import FakeClock, Spawner, spec

KEY = ("c", 0)


def _supervisor(spawner: Spawner, clock: FakeClock, **settings: Any
                ) -> tuple[TaskSupervisor, list[tuple[str, TaskStatus]]]:
    published: list[tuple[str, TaskStatus]] = []
    chosen = attrs.evolve(SupervisorSettings(max_attempts=2, backoff_s=1.0, hang_timeout_s=10.0,
                                             fenced_delay_s=6.0, grace_s=5.0), **settings)
    supervisor = TaskSupervisor(chosen, spawner, lambda c, s: published.append((c, s)),
                                worker_id="w:1", clock=clock)
    return supervisor, published


def _state(supervisor: TaskSupervisor) -> State:
    rt = supervisor.tasks.get(KEY)
    return rt.status.state if rt is not None else supervisor.ended[KEY].state


def test_crash_restarts_with_exponential_backoff() -> None:
    """A crashed task restarts after 1 s, then 2 s: never earlier."""
    spawner, clock = Spawner(), FakeClock()
    supervisor, _ = _supervisor(spawner, clock, max_attempts=5)
    supervisor.start(KEY, "v1", spec(), finite=False)
    for delay in (1.0, 2.0):
        spawner.spawned[-1].exit(ExitCode.FAILED)
        supervisor.poll()
        assert _state(supervisor) is State.RESTARTING
        count = len(spawner.spawned)
        clock.advance(delay - 0.01)
        supervisor.poll()
        assert len(spawner.spawned) == count
        clock.advance(0.02)
        supervisor.poll()
        assert len(spawner.spawned) == count + 1 and _state(supervisor) is State.RUNNING


def test_failed_after_max_attempts_without_progress() -> None:
    """max_attempts failures in a row are retried; one more is FAILED, with the count."""
    spawner, clock = Spawner(), FakeClock()
    supervisor, published = _supervisor(spawner, clock, max_attempts=2)
    supervisor.start(KEY, "v1", spec(), finite=False)
    for _ in range(3):
        spawner.spawned[-1].report(State.FAILED, trace="broker gone")
        spawner.spawned[-1].exit(ExitCode.FAILED)
        supervisor.poll()
        clock.advance(60)
        supervisor.poll()
    assert len(spawner.spawned) == 3
    assert KEY not in supervisor.tasks and supervisor.ended[KEY].state is State.FAILED
    assert supervisor.ended[KEY].trace == "broker gone (failed 3 times in a row)"
    assert published[-1][1].state is State.FAILED


def test_progress_resets_the_failure_count() -> None:
    """A task that made progress since its last failure starts counting afresh."""
    spawner, clock = Spawner(), FakeClock()
    supervisor, _ = _supervisor(spawner, clock, max_attempts=1)
    supervisor.start(KEY, "v1", spec(), finite=False)
    for tick in (10, 20, 30):
        spawner.spawned[-1].report(next_tick=tick)
        spawner.spawned[-1].exit(ExitCode.FAILED)
        supervisor.poll()
        clock.advance(60)
        supervisor.poll()
    assert _state(supervisor) is State.RUNNING and supervisor.tasks[KEY].status.next_tick == 30


def test_configuration_error_fails_at_once() -> None:
    """A task that exits with a user error is FAILED without a restart, with its trace."""
    spawner, clock = Spawner(), FakeClock()
    supervisor, _ = _supervisor(spawner, clock)
    supervisor.start(KEY, "v1", spec(), finite=False)
    spawner.spawned[0].report(State.FAILED, trace="schema incompatible")
    spawner.spawned[0].exit(ExitCode.USER_ERROR)
    supervisor.poll()
    clock.advance(600)
    supervisor.poll()
    assert len(spawner.spawned) == 1
    assert supervisor.ended[KEY].state is State.FAILED
    assert supervisor.ended[KEY].trace == "schema incompatible"


def test_clean_exit_is_finished_or_stopped() -> None:
    """A finite run that exits cleanly is FINISHED; an endless one STOPPED."""
    for finite, state in ((True, State.FINISHED), (False, State.STOPPED)):
        spawner, clock = Spawner(), FakeClock()
        supervisor, _ = _supervisor(spawner, clock)
        supervisor.start(KEY, "v1", spec(), finite=finite)
        spawner.spawned[0].exit(ExitCode.DONE)
        supervisor.poll()
        assert supervisor.ended[KEY].state is state and KEY not in supervisor.tasks


def test_fenced_task_waits_a_session_timeout() -> None:
    """A fenced task restarts no sooner than the fenced delay (its new owner may be elsewhere)."""
    spawner, clock = Spawner(), FakeClock()
    supervisor, _ = _supervisor(spawner, clock, fenced_delay_s=6.0)
    supervisor.start(KEY, "v1", spec(), finite=False)
    spawner.spawned[0].exit(ExitCode.FENCED)
    supervisor.poll()
    clock.advance(5.9)
    supervisor.poll()
    assert len(spawner.spawned) == 1
    clock.advance(0.2)
    supervisor.poll()
    assert len(spawner.spawned) == 2


def test_hung_task_gets_a_replacement_and_its_reports_are_ignored() -> None:
    """No report for hang_timeout_s: a replacement starts; the zombie's late reports count not."""
    spawner, clock = Spawner(), FakeClock()
    supervisor, _ = _supervisor(spawner, clock, hang_timeout_s=10.0)
    supervisor.start(KEY, "v1", spec(), finite=False)
    clock.advance(5)
    spawner.spawned[0].report(next_tick=5)
    supervisor.poll()
    clock.advance(10.5)
    supervisor.poll()
    assert len(spawner.spawned) == 2 and supervisor.zombies == [spawner.spawned[0]]
    assert not spawner.spawned[0].killed  # fenced by its replacement, never relied on a kill
    spawner.spawned[0].report(next_tick=99)
    supervisor.poll()
    assert supervisor.tasks[KEY].status.next_tick == 5
    spawner.spawned[0].exit(ExitCode.FENCED)
    supervisor.poll()
    assert supervisor.zombies == [] and _state(supervisor) is State.RUNNING


def test_stop_waits_for_the_transaction_then_kills_after_the_grace() -> None:
    """stop() sends SIGTERM; a process still alive after grace_s is killed."""
    spawner, clock = Spawner(exits_on_stop=False), FakeClock()
    supervisor, published = _supervisor(spawner, clock, grace_s=5.0)
    supervisor.start(KEY, "v1", spec(), finite=False)
    supervisor.stop(KEY, State.PAUSED)
    assert spawner.spawned[0].stopping and _state(supervisor) is State.RUNNING
    clock.advance(4)
    supervisor.poll()
    assert not spawner.spawned[0].killed
    clock.advance(2)
    supervisor.poll()
    assert spawner.spawned[0].killed
    supervisor.poll()
    assert KEY not in supervisor.tasks and published[-1][1].state is State.PAUSED


def test_restart_request_restarts_a_running_task_afresh() -> None:
    """A restart request stops the task as RESTARTING and forgets its failures."""
    spawner, clock = Spawner(), FakeClock()
    supervisor, published = _supervisor(spawner, clock)
    supervisor.start(KEY, "v1", spec(), finite=False)
    supervisor.tasks[KEY].status.failures = 2
    supervisor.restart(KEY)
    supervisor.poll()
    assert KEY not in supervisor.tasks
    assert published[-1][1].state is State.RESTARTING and published[-1][1].failures == 0


def test_shutdown_marks_every_task_unassigned() -> None:
    """Shutdown stops each task and publishes it UNASSIGNED, without a pid."""
    spawner, clock = Spawner(), FakeClock()
    supervisor, published = _supervisor(spawner, clock)
    supervisor.start(KEY, "v1", spec(), finite=False)
    supervisor.start(("c", 1), "v1", spec(task=1), finite=False)
    supervisor.shutdown()
    assert supervisor.tasks == {}
    assert {(s.task, s.state, s.pid) for _, s in published[-2:]} == {
        (0, State.UNASSIGNED, None), (1, State.UNASSIGNED, None)}
