"""Interrupting `doge run` with kill -9 in the middle of a run, as a crash would."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

DOGE = [sys.executable, "-m", "connector"]


def kill_mid_run(connector: Path, out: Path, env: dict[str, str],
                 delays: tuple[float, ...] = (0.2, 0.7)) -> None:
    """Start `doge run` into `out` once per delay and kill -9 it that long after it has
    committed something (so the test is not load-dependent)."""
    offsets_file = out / "_offsets.json"
    for delay in delays:
        before = offsets_file.stat().st_mtime_ns if offsets_file.exists() else 0
        proc = subprocess.Popen([*DOGE, "run", str(connector), "-q", "-o", str(out)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while (not offsets_file.exists() or offsets_file.stat().st_mtime_ns == before) \
                and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
