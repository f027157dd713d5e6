"""scripts/fuzz.sh's engine stays working: a tiny campaign counts its inputs and finds nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT


def test_tiny_campaign_counts_inputs_and_writes_a_summary(tmp_path: Path) -> None:
    """40 inputs in batches of 20 over two forked children: at least 40 run and counted (hypothesis
    may call a test a few more times than max_examples), no failure, a summary."""
    out = tmp_path / "failures"
    result = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.campaign", "--inputs", "40", "--jobs", "2",
         "--batch", "20", "--seed", "7", "--nice", "0", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert 40 <= summary["inputs"] < 80
    assert (summary["tracebacks"], summary["hangs"], summary["memory"]) == (0, 0, 0)
    assert not list(out.glob("current-*.txt"))
