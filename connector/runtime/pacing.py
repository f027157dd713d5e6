"""Pacing: how simulated time relates to wall time (max, realtime, or a speed-up factor)."""

from __future__ import annotations

import time
from collections.abc import Callable

import attrs


@attrs.define
class Pacer:
    """Waits until a tick is due; `factor=None` never waits (backfill as fast as possible)."""

    factor: float | None
    start_ms: int  # simulated time of tick 0
    tick_ms: int
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    _anchor_wall: float | None = None
    _anchor_sim: float = 0.0

    def due_wall_time(self, tick_end_ms: int) -> float:
        """Wall time (seconds) at which the simulated instant `tick_end_ms` is due."""
        if self.factor is None:
            return 0.0
        if self.factor == 1.0:
            return tick_end_ms / 1000.0  # realtime: event time is wall time
        if self._anchor_wall is None:
            # Sped-up runs start now and run `factor` times faster than the wall clock.
            self._anchor_wall, self._anchor_sim = self.clock(), float(tick_end_ms - self.tick_ms)
        return self._anchor_wall + (tick_end_ms - self._anchor_sim) / 1000.0 / self.factor

    def due_in(self, tick: int) -> float:
        """Seconds until tick `tick` has fully elapsed (<= 0: it is due now)."""
        if self.factor is None:
            return 0.0
        return self.due_wall_time(self.start_ms + (tick + 1) * self.tick_ms) - self.clock()

    def wait_for(self, tick: int, stop: Callable[[], bool] = lambda: False) -> float:
        """Block until tick `tick` has fully elapsed; returns how late we are, in seconds."""
        if self.factor is None:
            return 0.0  # backfill: never waits, never late
        due = self.due_wall_time(self.start_ms + (tick + 1) * self.tick_ms)
        while True:
            now = self.clock()
            if now >= due or stop():
                return max(0.0, now - due)
            self.sleep(min(due - now, 0.5))
