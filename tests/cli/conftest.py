"""Graphviz's `dot` for the graph tests: installed by scripts/graphviz.sh when missing."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.helpers import ROOT


@pytest.fixture(scope="session")
def dot_binary() -> str:
    """Path of Graphviz's `dot` (Debian's graphviz package is installed if it is absent)."""
    found = shutil.which("dot")
    if found:
        return found
    done = subprocess.run([str(ROOT / "scripts" / "graphviz.sh")], capture_output=True,
                          text=True, timeout=600, check=False)
    if done.returncode != 0 or not shutil.which("dot"):
        pytest.fail(f"scripts/graphviz.sh could not install Graphviz:\n{done.stderr[-2000:]}")
    return str(shutil.which("dot"))
