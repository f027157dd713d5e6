"""The API reference (docs/api.md) is generated from the docstrings and must be current."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT


def test_api_reference_is_current() -> None:
    """docs/api.md is what scripts/api_reference.py renders from the public docstrings."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "api_reference.py"),
                             "--check"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
