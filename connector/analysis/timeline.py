"""Expected occupancy and moves over a horizon: the per-tick matrix iterated on the expected
state vector, arrivals added each tick, exactly what a run's expected counts are.

Chances change only with the local hour and weekday of their profiles, so they are constant
within each quarter of an hour of UTC (every time zone's offset is a multiple of 15 minutes). The
horizon is cut into such segments; a segment of n ticks is one product with the n-th power of an
augmented matrix that carries the state vector, the arrivals and the accumulated moves
(repeated squaring, so any tick length costs the same per segment).
"""

from __future__ import annotations

import attrs
import numpy as np

from connector.analysis.chain import Chain
from connector.engine.plan import EnginePlan
from connector.errors import UserError

SEGMENT_MS = 900_000  # a quarter of an hour
WEEK_MS = 7 * 86_400_000
MAX_SEGMENTS = 200_000  # about 5.7 years of quarter hours: a bound on the work per analysis


@attrs.frozen
class Horizon:
    """Expected figures of `ticks` ticks starting at `start_ms`."""

    ticks: int
    moves: np.ndarray  # (T,) expected moves per transition over the horizon
    peak_moves: np.ndarray  # (T,) moves per tick in the busiest segment of each transition
    segment_moves: np.ndarray  # (segments, T) expected moves per transition in each segment
    segment_ticks: np.ndarray  # (segments,) ticks in each segment
    end: np.ndarray  # (K,) expected users per product state after the last tick


class Chances:
    """Per-transition chances at any time, from the engine's own table (profiles applied)."""

    def __init__(self, plan: EnginePlan, transitions: int) -> None:
        self.plan = plan
        slots = [np.argwhere(plan.slot_transition == t) for t in range(transitions)]
        # A transition without a source state in the table (impossible after validation) is 0.
        self._slot = [(int(s[0][0]), int(s[0][1])) if len(s) else None for s in slots]
        self._cache: dict[int, np.ndarray] = {}

    def at(self, time_ms: int) -> np.ndarray:
        """Chance per tick of each transition for a tick starting at `time_ms`."""
        key = time_ms // SEGMENT_MS if self.plan.profiles else 0
        hit = self._cache.get(key)
        if hit is None:
            table = self.plan.chances(key * SEGMENT_MS if self.plan.profiles else time_ms)
            hit = np.array([table[s] if s is not None else 0.0 for s in self._slot])
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = hit
        return hit

    def week(self, start_ms: int) -> np.ndarray:
        """(672, T): the chances of every quarter hour of the week from `start_ms`."""
        return np.array([self.at(start_ms + i * SEGMENT_MS) for i in range(WEEK_MS // SEGMENT_MS)])


def segments(start_ms: int, tick_ms: int, ticks: int) -> list[tuple[int, int]]:
    """(first tick, tick count) of runs of ticks starting in the same quarter hour."""
    if ticks <= 0:
        return []
    count = ticks if tick_ms >= SEGMENT_MS else tick_ms * ticks // SEGMENT_MS + 2
    if count > MAX_SEGMENTS:
        raise UserError(f"the analysis horizon ({ticks:,} ticks of {tick_ms:,} ms) is too long "
                        f"to analyse; give at most {MAX_SEGMENTS:,} quarter hours "
                        "(--ticks)")
    if tick_ms >= SEGMENT_MS:
        return [(k, 1) for k in range(ticks)]
    out = []
    first = 0
    while first < ticks:
        bucket = (start_ms + first * tick_ms) // SEGMENT_MS
        next_edge = (bucket + 1) * SEGMENT_MS
        # First tick starting at or after the next quarter hour.
        nxt = -(-(next_edge - start_ms) // tick_ms)
        nxt = min(max(nxt, first + 1), ticks)
        out.append((first, nxt - first))
        first = nxt
    return out


def iterate(chain: Chain, chances: Chances, start_ms: int, tick_ms: int, ticks: int,
            x0: np.ndarray, arrivals_per_tick: float) -> Horizon:
    """Expected moves over `ticks` ticks from `x0` users per product state, with arrivals."""
    k, t = chain.size, chain.transitions
    width = k + 1 + t
    y = np.zeros(width)
    y[:k] = x0
    y[k] = 1.0
    arrivals = arrivals_per_tick * chain.arrival
    cuts = segments(start_ms, tick_ms, ticks)
    per_segment = np.zeros((len(cuts), t))
    powers: dict[tuple[bytes, int], np.ndarray] = {}
    for i, (first, n) in enumerate(cuts):
        chance = chances.at(start_ms + first * tick_ms)
        key = (chance.tobytes(), n)
        m = powers.get(key)
        if m is None:
            p, flow = chain.matrix(chance)
            step = np.zeros((width, width))
            step[:k, :k] = p
            step[:k, k + 1:] = flow
            step[k, :k] = arrivals
            step[k, k] = 1.0
            step[k + 1:, k + 1:] = np.eye(t)
            m = np.linalg.matrix_power(step, n)
            if len(powers) > 4096:
                powers.clear()
            powers[key] = m
        before = y[k + 1:].copy()
        y = y @ m
        per_segment[i] = y[k + 1:] - before
    counts = np.array([n for _, n in cuts], dtype=float)
    peak = (per_segment / counts[:, None]).max(axis=0) if len(cuts) else np.zeros(t)
    return Horizon(ticks, y[k + 1:].copy(), peak, per_segment, counts, y[:k].copy())
