"""The worker's herder over memory stores and fake task processes (no broker, no processes)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from connector.errors import UserError
from connector.kafka.offsets import OffsetRecord
from connector.runtime.herder import Conflict, NotFound
from connector.runtime.membership import StandaloneMembership
from connector.runtime.status import State, TargetState
from connector.runtime.stores import (
    MemoryConfigStore,
    MemoryOffsetStore,
    MemoryStatusStore,
    StoredConnector,
)
from connector.runtime.supervisor import SupervisorSettings, TaskSupervisor
from connector.runtime.task_process import ExitCode
from connector.runtime.worker_herder import HerderContext, WorkerHerder
from tests.helpers import banking_model, write_model
from tests.runtime.fakes import FakeClock, Spawner

T = TypeVar("T")


class Harness:
    """A herder with memory stores, a fake spawner and a fake clock; `round()` is one loop."""

    def __init__(self, tmp: Path) -> None:
        write_model(tmp, banking_model(), "bank.yaml")
        self.spawner, self.clock = Spawner(), FakeClock()
        self.configs, self.statuses = MemoryConfigStore(), MemoryStatusStore()
        self.offsets = MemoryOffsetStore()
        self.topics: list[str] = []
        supervisor = TaskSupervisor(SupervisorSettings(max_attempts=1, grace_s=0.5),
                                    self.spawner, self.statuses.publish, "w:1", self.clock)
        context = HerderContext({"bootstrap.servers": "none"}, None, tmp, (), 64, False,
                                self.topics.extend)
        self.herder = WorkerHerder(context, self.configs, self.statuses, self.offsets,
                                   supervisor, StandaloneMembership(64))

    def config(self, **extra: Any) -> dict[str, Any]:
        return {"connector.class": "io.dogeconnect.DogeSourceConnector", "model": "bank.yaml",
                "users": "100", "shards": "4", "tasks.max": "2",
                "start.time": "2024-01-01T00:00:00Z", **{k: str(v) for k, v in extra.items()}}

    def round(self) -> None:
        self.herder.poll_stores()
        self.herder.requests.run_pending()
        self.herder.supervisor.poll()
        self.herder.reconcile()

    def states(self, name: str = "c") -> list[str]:
        return [t.state.value for t in self.herder.connector_status(name).tasks]

    def from_rest_thread(self, request: Callable[[], T]) -> T:
        """Run `request` on another thread (as REST does) while this one runs the loop."""
        result: list[T] = []
        errors: list[BaseException] = []

        def call() -> None:
            try:
                result.append(request())
            except BaseException as exc:  # re-raised below, in the test's thread
                errors.append(exc)

        thread = threading.Thread(target=call)
        thread.start()
        while thread.is_alive():
            self.round()
            thread.join(0.01)
        if errors:
            raise errors[0]
        return result[0]


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def test_created_connector_runs_its_tasks(h: Harness) -> None:
    """A created connector's topics are made, its generation recorded, its tasks started."""
    info = h.herder.create_connector("c", h.config())
    assert [t.task for t in info.tasks] == [0, 1]
    h.round()
    assert len(h.spawner.alive()) == 2 and h.states() == ["RUNNING", "RUNNING"]
    assert sorted(h.topics) == ["balance", "clickstream", "loan", "trx"]
    assert h.offsets.generations("c") == {2}
    with pytest.raises(Conflict):
        h.herder.create_connector("c", h.config())


def test_requests_from_other_threads_run_on_the_loop_thread(h: Harness) -> None:
    """A REST thread's call is queued and answered by the loop, which alone touches state."""
    loop = threading.get_ident()
    seen: list[int] = []
    original = h.configs.put

    def put(stored: StoredConnector) -> None:
        seen.append(threading.get_ident())
        original(stored)

    h.configs.put = put  # type: ignore[method-assign]
    h.from_rest_thread(lambda: h.herder.create_connector("c", h.config()))
    h.from_rest_thread(lambda: h.herder.pause("c"))
    assert seen == [loop, loop]
    assert h.from_rest_thread(h.herder.connectors) == ["c"]


def test_pause_stop_and_resume(h: Harness) -> None:
    """Pause and stop end the task processes (PAUSED, STOPPED); resume starts new ones."""
    h.herder.create_connector("c", h.config())
    h.round()
    h.herder.pause("c")
    h.round()
    h.round()
    assert h.spawner.alive() == [] and h.states() == ["PAUSED", "PAUSED"]
    assert h.herder.connector_status("c").connector.state is State.PAUSED
    h.herder.stop("c")
    h.round()
    assert h.states() == ["STOPPED", "STOPPED"]
    h.herder.resume("c")
    h.round()
    assert len(h.spawner.alive()) == 2 and h.states() == ["RUNNING", "RUNNING"]


def test_tasks_max_change_replaces_every_task(h: Harness) -> None:
    """A new tasks.max stops the old tasks and starts the new generation's, recorded first."""
    h.herder.create_connector("c", h.config())
    h.round()
    old = list(h.spawner.alive())
    created, info = h.herder.put_connector_config("c", h.config(**{"tasks.max": 3}))
    assert not created and len(info.tasks) == 3
    h.round()
    h.round()
    assert all(not t.is_alive() for t in old)
    assert sorted(t.spec.task for t in h.spawner.alive()) == [0, 1, 2]
    assert h.offsets.generations("c") == {2, 3}


def test_restart_only_failed_tasks(h: Harness) -> None:
    """restart?includeTasks&onlyFailed restarts the FAILED task only; it runs again."""
    h.herder.create_connector("c", h.config())
    h.round()
    [failing] = h.spawner.of("c", 1)
    failing.report(State.FAILED, trace="boom")
    failing.exit(ExitCode.USER_ERROR)
    h.round()
    assert h.states() == ["RUNNING", "FAILED"]
    assert h.herder.connector_status("c").connector.trace == "task 1 failed: boom"
    answer = h.herder.restart_connector("c", include_tasks=True, only_failed=True)
    assert answer is not None and [t.state for t in answer.tasks] == [State.RUNNING,
                                                                       State.RESTARTING]
    h.round()
    assert len(h.spawner.of("c", 0)) == 1 and len(h.spawner.of("c", 1)) == 2
    assert h.states() == ["RUNNING", "RUNNING"]


def test_restart_one_task(h: Harness) -> None:
    """POST .../tasks/0/restart restarts that task only; an unknown task is NotFound."""
    h.herder.create_connector("c", h.config())
    h.round()
    h.herder.restart_task("c", 0)
    h.round()
    h.round()
    assert len(h.spawner.of("c", 0)) == 2 and len(h.spawner.of("c", 1)) == 1
    with pytest.raises(NotFound):
        h.herder.restart_task("c", 7)


def test_finished_connector_stays_finished(h: Harness) -> None:
    """A finite run whose tasks exited cleanly is FINISHED and is not started again."""
    h.herder.create_connector("c", h.config(ticks=10))
    h.round()
    for task in h.spawner.alive():
        task.exit(ExitCode.DONE)
    h.round()
    h.round()
    assert h.states() == ["FINISHED", "FINISHED"] and len(h.spawner.spawned) == 2
    assert h.herder.all_ended() and not h.herder.any_failed()


def test_unparseable_stored_config_is_failed_with_the_reason(h: Harness) -> None:
    """A stored config that no longer parses shows FAILED with why, never RUNNING."""
    h.configs.put(StoredConnector("bad", {"name": "bad", "config": {"tasks.max": "two"}}, ".",
                                  None))
    h.round()
    status = h.herder.connector_status("bad")
    assert status.connector.state is State.FAILED and status.tasks == ()
    assert status.connector.trace is not None and "tasks.max" in status.connector.trace
    assert h.herder.any_failed()


def test_output_identity_change_is_refused_while_offsets_exist(h: Harness) -> None:
    """A new seed for a connector with committed offsets is a 409; reset needs STOPPED."""
    h.herder.create_connector("c", h.config())
    h.offsets.offsets["c"] = {0: OffsetRecord(5, "another-run", 1_704_067_200_000, None, 0,
                                              None)}
    with pytest.raises(Conflict, match="reset its offsets"):
        h.herder.put_connector_config("c", h.config(seed=99))
    with pytest.raises(UserError, match="must be stopped"):
        h.herder.reset_offsets("c")
    h.herder.stop("c")
    h.round()
    h.from_rest_thread(lambda: h.herder.reset_offsets("c"))
    assert h.offsets.committed("c") == {}
    assert ("c", 2, 0) in h.offsets.fenced and ("c", 2, 1) in h.offsets.fenced
    h.herder.put_connector_config("c", h.config(seed=99))


def test_delete_stops_the_tasks_and_forgets_the_connector(h: Harness) -> None:
    """Delete stops the tasks (UNASSIGNED); the connector is then unknown."""
    h.herder.create_connector("c", h.config())
    h.round()
    h.herder.delete_connector("c")
    h.round()
    h.round()
    assert h.spawner.alive() == [] and h.herder.connectors() == []
    with pytest.raises(NotFound):
        h.herder.connector_status("c")


def test_answers_are_connects_shapes(h: Harness) -> None:
    """Info, task configs, statuses and offsets serialise to Kafka Connect's JSON shapes."""
    h.herder.create_connector("c", h.config())
    h.round()
    assert h.herder.connector_info("c").to_json()["tasks"] == [
        {"connector": "c", "task": 0}, {"connector": "c", "task": 1}]
    [first, _] = h.herder.task_configs("c")
    assert first.to_json()["config"]["task.shards"] == "0,2"
    task = h.herder.task_status("c", 0).to_json()
    assert task == {"id": 0, "state": "RUNNING", "worker_id": "w:1", "next_tick": 0,
                    "events": 0, "lag_seconds": 0.0}
    h.offsets.offsets["c"] = {1: OffsetRecord(7, "f", 0, 5, 1, "x")}
    assert json.loads(json.dumps(h.herder.offsets("c").to_json())) == {"offsets": [
        {"partition": {"shard": 1}, "offset": {"next_tick": 7, "snapshot_tick": 5}}]}


def test_stored_target_survives_a_reconfiguration(h: Harness) -> None:
    """A paused connector that is reconfigured stays paused."""
    h.herder.create_connector("c", h.config())
    h.herder.pause("c")
    h.herder.put_connector_config("c", h.config(**{"tasks.max": 1}))
    assert h.configs.snapshot()["c"].target is TargetState.PAUSED
