"""Mover selection has the per-user draw's distribution whatever state is dominant."""

from __future__ import annotations

import numpy as np
import pytest

from connector.engine.movers import by_transition, pick_movers
from connector.engine.plan import ONE
from tests.engine.stats import binomial_bounds, chi_square, chi_square_critical

# States 0..4: never moves, always moves, 30 %, 0.1 %, 40 % (the last two below and above the
# point where the dominant state stops using geometric gaps).
TOTALS = np.array([0, ONE, int(0.3 * ONE), int(0.001 * ONE), int(0.4 * ONE)], dtype=np.int64)


def _states(seed: int, n: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, len(TOTALS), size=n).astype(np.int8)


@pytest.mark.parametrize("dominant", range(len(TOTALS)))
def test_movers_are_ascending_rows_with_draws_below_their_state_total(dominant: int) -> None:
    """Every mover is a distinct row, in ascending order, with u below its state's total."""
    states = _states(dominant, 50_000)
    rows, draws = pick_movers(np.random.default_rng(7), states, TOTALS, dominant)
    assert np.all(np.diff(rows) > 0)
    assert np.all(draws >= 0) and np.all(draws < TOTALS[states[rows]])
    assert not np.isin(np.flatnonzero(states == 0), rows).any()
    assert np.isin(np.flatnonzero(states == 1), rows).all()


@pytest.mark.parametrize("dominant", [2, 3, 4])
def test_each_state_moves_at_its_total_chance(dominant: int) -> None:
    """Movers per state stay within binomial bounds (false-alarm rate 1e-6 per check)."""
    n = 400_000
    states = _states(100 + dominant, n)
    states[: n // 2] = dominant  # make it the most populous, as the engine would choose it
    rows, _ = pick_movers(np.random.default_rng(dominant), states, TOTALS, dominant)
    moved = np.bincount(states[rows], minlength=len(TOTALS))
    for state in (2, 3, 4):
        users = int((states == state).sum())
        low, high = binomial_bounds(users, TOTALS[state] / ONE)
        assert low <= moved[state] <= high, (state, users, moved[state])


@pytest.mark.parametrize("dominant", [3, 4])
def test_mover_draws_are_uniform_below_the_total(dominant: int) -> None:
    """A mover's u is uniform on [0, total): chi-square over 20 bins at false-alarm rate 1e-6."""
    n = 2_000_000
    states = np.full(n, dominant, dtype=np.int8)
    _, draws = pick_movers(np.random.default_rng(11), states, TOTALS, dominant)
    total = int(TOTALS[dominant])
    observed = np.bincount(draws * 20 // total, minlength=20).tolist()
    expected = [draws.shape[0] / 20] * 20
    assert chi_square(observed, expected) < chi_square_critical(19)


def test_transitions_of_all_shards_at_once_match_each_shard_alone() -> None:
    """by_transition gives each shard's movers the slot their draw falls in (the per-row
    threshold count), grouped by transition then shard, rows ascending whatever order the
    rows came in (several states sharing a transition included)."""
    gen = np.random.default_rng(5)
    # 3 states x 3 slots; transition 1 leaves both states 0 and 2, state 1's last slot is empty.
    slot_transition = np.array([[0, 1, 2], [3, 4, -1], [1, 5, 6]], dtype=np.int32)
    chances = np.array([[0.1, 0.0, 0.3], [0.2, 0.5, 0.0], [0.25, 0.25, 0.5]])
    cum = np.rint(np.cumsum(chances, axis=1) * ONE).astype(np.int64)
    cum[slot_transition < 0] = ONE + 1
    totals = np.where(slot_transition >= 0, cum, 0).max(axis=1)
    picked: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for _ in range(5):
        rows = gen.permutation(10_000)[:gen.integers(0, 3_000)]
        states = np.asarray(gen.integers(0, 3, size=rows.shape[0]), dtype=np.int8)
        draws = (gen.random(rows.shape[0]) * totals[states]).astype(np.int64)
        picked.append((rows, states, draws))
    expected: dict[int, list[tuple[int, list[int]]]] = {}
    for k, (rows, states, draws) in enumerate(picked):
        slot = (draws[:, None] >= cum[states]).sum(axis=1)
        chosen = slot_transition[states, slot]
        for index in sorted(set(chosen.tolist())):
            expected.setdefault(index, []).append((k, sorted(rows[chosen == index].tolist())))
    got = by_transition(cum, slot_transition, picked)
    assert [(i, [(k, r.tolist()) for k, r in parts]) for i, parts in got] == \
        sorted(expected.items())
