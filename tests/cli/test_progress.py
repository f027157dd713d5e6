"""`doge run` as a Unix tool: progress on a terminal and in logs, exit codes after signals, the
summary of transitions fired and events emitted."""

from __future__ import annotations

import datetime as dt
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT, banking_model, write_model

DOGE = [sys.executable, "-m", "connector"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}


def _model(tmp: Path) -> Path:
    return write_model(tmp, banking_model())


def _start(offset_s: float = 0.0) -> str:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset_s)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_plain_progress_lines_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    """Without a terminal, progress is a plain line every --progress-interval seconds, with
    percentage, elapsed, ETA, current events/s and totals, and a last line at 100 %."""
    done = subprocess.run(
        [*DOGE, "run", str(_model(tmp_path)), "-o", str(tmp_path / "o"), "--users", "2000",
         "--ticks", "60", "--pace", "1200", "--start", "2024-01-01T00:00:00Z",
         "--progress-interval", "0.1"],
        env=ENV, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = [x for x in done.stderr.splitlines() if x.startswith("tick ")]
    assert len(lines) >= 5, done.stderr
    pattern = re.compile(r"tick [\d,]+/60  [\d.]+ %  elapsed \d:\d\d:\d\d  (eta \d:\d\d:\d\d  )?"
                         r"[\d,]+ events/s  [\d,]+ events  \d{4}-\d\d-\d\d \d\d:\d\d")
    assert all(pattern.fullmatch(x) for x in lines), lines
    assert any("eta" in x for x in lines)
    assert lines[-1].startswith("tick 60/60  100.0 %")


def test_terminal_progress_draws_its_last_frame(tmp_path: Path) -> None:
    """On a terminal the live display (rich) ends with the final frame: all ticks, 100 %."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [*DOGE, "run", str(_model(tmp_path)), "-o", str(tmp_path / "o"), "--users", "500",
         "--ticks", "120", "--start", "2024-01-01T00:00:00Z"],
        env={**ENV, "TERM": "xterm"}, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=60) == 0
    os.close(leader)
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode(errors="replace"))
    frames = [x for x in screen.replace("\r", "\n").splitlines() if x.startswith("tick")]
    assert frames, screen
    last = frames[-1]
    assert "120/120" in last and "100%" in last and "events/s" in last, last
    assert "done: connector 'banking' at tick 120" in screen


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_after_a_clean_commit(tmp_path: Path, signum: int, code: int) -> None:
    """Ctrl-C exits 130 and SIGTERM 143, both after committing cleanly: the run resumes from
    where it stopped and ends byte-identical to an uninterrupted one."""
    model = _model(tmp_path)
    args = ["--users", "500", "--ticks", "400", "--start", "2024-01-01T00:00:00Z", "-q"]
    subprocess.run([*DOGE, "run", str(model), "-o", str(tmp_path / "ref"), *args], env=ENV,
                   check=True, capture_output=True, timeout=120)
    out = tmp_path / "part"
    proc = subprocess.Popen([*DOGE, "run", str(model), "-o", str(out), *args[:-1], "--pace",
                             "100"], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 60
    while not (out / "_offsets.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert "stopped: connector 'banking'" in stderr and "Traceback" not in stderr
    stopped_at = json.loads((out / "_offsets.json").read_text())["shards"]["0"]["next_tick"]
    assert 0 < stopped_at < 400
    subprocess.run([*DOGE, "run", str(model), "-o", str(out), *args], env=ENV, check=True,
                   capture_output=True, timeout=120)
    for name in ("clickstream.avro", "balance.avro", "trx.avro", "loan.avro"):
        assert (out / name).read_bytes() == (tmp_path / "ref" / name).read_bytes(), name


def test_realtime_run_says_when_its_first_tick_commits(tmp_path: Path) -> None:
    """A realtime run announces when its first tick will be committed, then that it was."""
    done = subprocess.run(
        [*DOGE, "run", str(_model(tmp_path)), "-o", str(tmp_path / "o"), "--users", "100",
         "--ticks", "1", "--tick", "2s", "--pace", "realtime", "--start", _start(1.5)],
        env=ENV, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert re.search(r"realtime: tick 0 \(.*\) is committed once it has passed, in about "
                     r"0:00:0\d", done.stderr), done.stderr
    assert "first tick committed at" in done.stderr


def test_summary_separates_transitions_from_events(tmp_path: Path) -> None:
    """The summary counts transitions fired apart from events emitted and names silent ones:
    take_loan fires once per loan but emits three events."""
    done = subprocess.run(
        [*DOGE, "run", str(_model(tmp_path)), "-o", str(tmp_path / "o"), "--users", "3000",
         "--ticks", "300", "--start", "2024-01-01T00:00:00Z"],
        env=ENV, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    text = done.stderr
    fired = dict(re.findall(r"^  (\w+) +([\d,]+)  -> ", text, re.MULTILINE))
    emitted = dict(re.findall(r"^  (\w+) +([\d,]+)$", text, re.MULTILINE))
    assert fired["take_loan"] == emitted["loan"]
    assert int(fired["logout"].replace(",", "")) > 0
    assert re.search(r"^  logout +[\d,]+  -> silent: emits nothing$", text, re.MULTILINE)
    assert "silent transitions (they move users, emit nothing): logout" in text
    assert re.search(r"^done: .* [\d,]+ transitions fired, [\d,]+ events emitted", text, re.M)
