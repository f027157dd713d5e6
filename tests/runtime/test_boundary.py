"""Transaction boundaries: the throughput-first default, Connect's spellings, and a paced run
committing each tick as it becomes due."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import attrs
import pytest

from connector.core.batch import TickBatch
from connector.destinations.base import Committed, ShardCheckpoint
from connector.errors import UserError
from connector.runtime import runner as runner_module
from connector.runtime.config import Boundary, ConnectorConfig, load_connector
from connector.runtime.pacing import Pacer
from connector.runtime.runner import Runner
from connector.runtime.simulation import prepare
from tests.helpers import banking_model, write_connector, write_model


@attrs.define
class Recording:
    """A destination that keeps what it is given: the ticks of each commit."""

    staged: list[int] = attrs.Factory(list)
    commits: list[list[int]] = attrs.Factory(list)
    sent_ahead: list[tuple[list[int], float]] = attrs.Factory(list)  # staged, time of call
    clock: FakeClock | None = None

    def committed(self) -> Committed | None:
        return None

    def begin(self, fingerprint: str, start_ms: int) -> None:
        self.staged = []

    def write(self, batch: TickBatch) -> None:
        if batch.tick not in self.staged:
            self.staged.append(batch.tick)

    def send_ahead(self) -> None:
        self.sent_ahead.append((list(self.staged), self.clock.now if self.clock else 0.0))

    def commit(self, checkpoints: dict[int, ShardCheckpoint]) -> None:
        self.commits.append(self.staged)
        self.staged = []

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


@attrs.define
class FakeClock:
    now: float

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _config(tmp: Path, **extra: Any) -> ConnectorConfig:
    model = write_model(tmp, banking_model())
    return load_connector(write_connector(tmp, model, users=200, shards=2, **extra))


def _run(config: ConnectorConfig) -> list[list[int]]:
    destination = Recording()
    runner = Runner(prepare(config), destination, [0, 1])
    runner.resume()
    runner.run()
    return destination.commits


def test_default_is_interval(tmp_path: Path) -> None:
    """Without a `transaction.boundary`, transactions are cut by wall-time interval."""
    assert _config(tmp_path, ticks=5).boundary is Boundary.INTERVAL


@pytest.mark.parametrize(("text", "boundary"), [("poll", Boundary.TICK),
                                                ("interval", Boundary.INTERVAL),
                                                ("connector", Boundary.TICKS),
                                                ("tick", Boundary.TICK),
                                                ("ticks", Boundary.TICKS)])
def test_connect_spellings(tmp_path: Path, text: str, boundary: Boundary) -> None:
    """Kafka Connect's `poll`, `interval` and `connector` are accepted beside our own names."""
    assert _config(tmp_path, ticks=5, transaction_boundary=text).boundary is boundary


def test_unknown_boundary_lists_the_choices(tmp_path: Path) -> None:
    """A misspelt boundary is an error naming the key and every accepted spelling."""
    with pytest.raises(UserError) as info:
        _config(tmp_path, ticks=5, transaction_boundary="pol")
    message = str(info.value)
    assert "transaction.boundary" in message and "poll" in message and "connector" in message


def test_backfill_commits_once_per_interval(tmp_path: Path) -> None:
    """pace=max with a long interval: the whole run is one transaction (the last tick's)."""
    config = _config(tmp_path, ticks=40, transaction_boundary_interval_ms=3_600_000)
    assert _run(config) == [list(range(40))]


def test_paced_run_sends_each_tick_before_it_is_due(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A realtime run hands each tick's events to the destination (uncommitted) before the
    tick is due, and commits them only once it is: the commit waits for less."""
    clock = FakeClock(1_704_067_200.0)
    monkeypatch.setattr(runner_module, "Pacer",
                        functools.partial(Pacer, clock=clock.time, sleep=clock.sleep))
    config = _config(tmp_path, ticks=6, pace="realtime", tick_ms=1000,
                     transaction_boundary_interval_ms=3_600_000)
    destination = Recording(clock=clock)
    runner = Runner(prepare(config), destination, [0, 1])
    runner.resume()
    runner.run()
    assert destination.commits == [[t] for t in range(6)]
    sent = {staged[0]: at for staged, at in destination.sent_ahead if len(staged) == 1}
    assert set(sent) >= set(range(1, 6))
    for tick, at in sent.items():  # due when the tick's event time has passed
        assert at < (runner.start_ms + (tick + 1) * config.tick_ms) / 1000


def test_paced_run_commits_each_tick_when_due(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A realtime run commits every tick before waiting for the next, however long the
    interval: nothing done is held back while the task idles."""
    clock = FakeClock(1_704_067_200.0)
    monkeypatch.setattr(runner_module, "Pacer",
                        functools.partial(Pacer, clock=clock.time, sleep=clock.sleep))
    config = _config(tmp_path, ticks=6, pace="realtime", tick_ms=1000,
                     transaction_boundary_interval_ms=3_600_000)
    assert _run(config) == [[t] for t in range(6)]


@attrs.define
class Batches(Recording):
    """A Recording that also keeps what each written batch held."""

    written: list[tuple[int, tuple[int, ...], tuple[tuple[str, int, int], ...]]] = \
        attrs.Factory(list)

    def write(self, batch: TickBatch) -> None:
        super().write(batch)
        self.written.append((batch.tick, batch.shards, tuple(
            (e.topic, len(e), int(e.user_ids.sum())) for e in batch.events)))


def test_paced_run_stopped_while_a_stepped_tick_waits(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A paced run steps a tick before it is due; stopped during that wait and run again, it
    writes exactly what a backfill of the same ticks writes (no tick lost or stepped twice)."""
    for name in ("max", "rt"):
        (tmp_path / name).mkdir()
    backfill = Batches()
    runner = Runner(prepare(_config(tmp_path / "max", ticks=6, tick_ms=60_000)), backfill,
                    [0, 1])
    runner.resume()
    runner.run()
    clock = FakeClock(1_704_067_200.0)
    paced = Batches()
    runner = Runner(prepare(_config(tmp_path / "rt", ticks=6, pace="realtime", tick_ms=60_000)),
                    paced, [0, 1])

    stops: list[float] = []

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if len(paced.commits) == 3 and not stops:
            stops.append(clock.now)
            runner.stop()  # during the wait for tick 3, already stepped

    monkeypatch.setattr(runner_module, "Pacer",
                        functools.partial(Pacer, clock=clock.time, sleep=sleep))
    runner.resume()
    runner.run()
    assert paced.commits == [[0], [1], [2]]
    assert runner._ahead is not None and runner._ahead[0] == 3  # stepped, not committed
    runner.stopping = False
    runner.run()
    assert paced.written == backfill.written
    assert paced.commits == [[t] for t in range(6)]
