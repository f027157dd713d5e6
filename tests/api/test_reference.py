"""The API reference (docs/api.md) is generated from the docstrings and must be current."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT


def test_api_reference_is_current() -> None:
    """`scripts/api_reference.py --check` passes: docs/api.md matches the docstrings of the
    public names (run the script without --check to regenerate it)."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "api_reference.py"),
                             "--check"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
