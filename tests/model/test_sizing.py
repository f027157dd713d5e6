"""The one memory estimate: bytes per user x users against the memory there is."""

from __future__ import annotations

import subprocess
import sys

import pytest

from connector.model import sizing
from connector.model.validate import load_model
from tests.helpers import MODELS

GIB = 2**30


def test_population_that_cannot_fit_is_refused_with_number_and_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """users: 1e9 with 16 GiB free: the message gives the need, the memory and what fits."""
    monkeypatch.setattr(sizing, "available_memory", lambda: 16 * GIB)
    spec = load_model(MODELS / "banking.yaml").spec
    per_user = sizing.bytes_per_user(spec, 60_000)
    problem = sizing.population_problem(spec, 10**9, tick_ms=60_000, ticks=None)
    fits = int(16 * GIB * sizing.USABLE / per_user)
    assert problem == (
        f"1,000,000,000 users need about {10**9 * per_user / GIB:,.1f} GiB (about {per_user} "
        f"bytes per user for this model), more than the 12.8 GiB of memory available here; at "
        f"most {fits:,} users fit (split the connector over more workers, or use fewer users)")
    assert sizing.population_problem(spec, fits, tick_ms=60_000, ticks=None) is None


def test_share_and_arrivals_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """A task holding half the shards needs half; arrivals over a finite run are counted."""
    monkeypatch.setattr(sizing, "available_memory", lambda: GIB)
    spec = load_model(MODELS / "music.yaml").spec
    fits = int(GIB * sizing.USABLE / sizing.bytes_per_user(spec, 60_000))
    assert sizing.population_problem(spec, fits, tick_ms=60_000, ticks=None) is None
    assert sizing.population_problem(spec, 2 * fits - 10, tick_ms=60_000, ticks=None,
                                     share=0.5) is None
    problem = sizing.population_problem(spec, fits, tick_ms=60_000, ticks=10**9)
    assert problem is not None and "(arrivals included)" in problem


def test_available_memory_honours_the_address_space_limit() -> None:
    """Under RLIMIT_AS (a container, the fuzz harness) the estimate uses what is left of it."""
    code = ("import resource; resource.setrlimit(resource.RLIMIT_AS, (2**31, 2**31)); "
            "from connector.model.sizing import available_memory; print(available_memory())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert 0 < int(out.stdout) < 2**31
