"""Interrupting `doge run` with kill -9 in the middle of a run, as a crash would."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

DOGE = [sys.executable, "-m", "connector"]


def kill_mid_run(connector: Path, out: Path, env: dict[str, str],
                 delays: tuple[float, ...] = (0.2, 0.7), options: tuple[str, ...] = ()) -> None:
    """Start `doge run` (with `options`) into `out` once per delay and kill -9 it that long
    after it has committed something (so the test is not load-dependent). The killed runs are
    paced at ~10 ms a tick (pacing changes no byte), so that however fast the machine, each is
    still running when it is killed."""
    connector = paced(connector, tick_s=0.01)
    offsets_file = out / "_offsets.json"
    for delay in delays:
        before = offsets_file.stat().st_mtime_ns if offsets_file.exists() else 0
        proc = subprocess.Popen([*DOGE, "run", str(connector), "-q", "-o", str(out), *options],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while (not offsets_file.exists() or offsets_file.stat().st_mtime_ns == before) \
                and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def paced(connector: Path, tick_s: float) -> Path:
    """A copy of the connector file whose run takes `tick_s` of wall time per tick."""
    data = json.loads(connector.read_text())
    tick_ms = int(data["config"].get("tick.ms", 60000))
    data["config"]["pace"] = str(tick_ms / 1000 / tick_s)
    copy = connector.with_name(f"paced-{connector.name}")
    copy.write_text(json.dumps(data))
    return copy
