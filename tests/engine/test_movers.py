"""The fast mover selection equals the plain definition: draw < total chance of the user's state."""

from __future__ import annotations

import numpy as np
import pytest

from connector.engine.plan import ONE
from connector.engine.shard import _movers


@pytest.mark.parametrize("dominant", [0, 1, 2, 3])
def test_movers_match_definition_for_any_dominant_state(dominant: int) -> None:
    """Whichever state is taken as dominant, the selected rows are exactly draw < total[state]."""
    gen = np.random.default_rng(dominant)
    n = 50_000
    states = gen.integers(0, 4, size=n).astype(np.int8)
    draws = gen.integers(0, 2**32, size=n, dtype=np.uint32)
    totals = np.array([0, ONE, int(0.3 * ONE), int(0.001 * ONE)], dtype=np.int64)
    expected = np.flatnonzero(draws.astype(np.int64) < totals[states])
    assert np.array_equal(_movers(draws, states, totals, dominant), expected)
