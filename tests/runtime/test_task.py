"""What a task writes to its log while it runs."""

from __future__ import annotations

import json

import pytest

from connector.logging import configure
from connector.runtime.runner import RunStats
from connector.runtime.task import ProgressLines


def test_long_backfills_log_progress_every_interval(capsys: pytest.CaptureFixture[str]) -> None:
    """One `progress` info line per interval (not per report), saying how far the run is."""
    configure("INFO", json=True)
    now = [0.0]
    lines = ProgressLines(total=400, interval_s=30.0, clock=lambda: now[0])
    stats = RunStats(events=1234, commits=7, lag_seconds=3.21)
    for second in range(0, 95):  # a report a second for 94 s
        now[0] = float(second)
        lines.due(second * 2, stats)
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    progress = [e for e in events if e["event"] == "progress"]
    assert [(e["tick"], e["of"], e["done"]) for e in progress] == [
        (60, 400, "15.0%"), (120, 400, "30.0%"), (180, 400, "45.0%")]
    assert progress[0]["level"] == "info" and progress[0]["events"] == 1234
    assert progress[0]["lag_seconds"] == 3.2


def test_endless_runs_log_progress_without_a_share(capsys: pytest.CaptureFixture[str]) -> None:
    """A connector without `ticks` says its tick, not a percentage."""
    configure("INFO", json=True)
    now = [0.0]
    lines = ProgressLines(total=None, interval_s=1.0, clock=lambda: now[0])
    lines.due(0, RunStats())
    now[0] = 1.5
    lines.due(9, RunStats())
    (line,) = capsys.readouterr().err.splitlines()
    assert json.loads(line)["tick"] == 9 and json.loads(line)["done"] is None
