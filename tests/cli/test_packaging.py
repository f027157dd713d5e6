"""`pip install` alone is enough: the wheel carries the quickstarts' connectors, models and
schemas as real files, and `doge run banking` works from it, away from the repository."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT


@pytest.mark.slow
def test_wheel_runs_the_quickstarts_without_the_repository(tmp_path: Path) -> None:
    """Built wheel, unpacked elsewhere: quickstarts are listed and `doge run banking` writes
    its topics; the model JSON Schema ships beside the example models."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "-q", "-w", str(tmp_path / "dist"), str(ROOT)], check=True,
                   capture_output=True, timeout=600)
    wheel = next((tmp_path / "dist").glob("doge_connect-*.whl"))
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        z.extractall(site)
    for name in ("connector/examples/config/banking.json",
                 "connector/examples/config/models/music.yaml",
                 "connector/examples/schemas/trx.avsc",
                 "connector/examples/schemas/model.schema.json"):
        assert name in names, name
    assert not (site / "connector" / "examples" / "config").is_symlink()
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run([sys.executable, "-c", "import connector; print(connector.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(site)), where.stdout
    listed = subprocess.run([sys.executable, "-m", "connector", "quickstarts"], cwd=work,
                            env=env, capture_output=True, text=True, check=True)
    assert "banking" in listed.stdout and str(site) in listed.stdout
    done = subprocess.run([sys.executable, "-m", "connector", "run", "banking", "--ticks", "30",
                           "--users", "300"], cwd=work, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert (work / "out" / "banking" / "clickstream.avro").stat().st_size > 100
