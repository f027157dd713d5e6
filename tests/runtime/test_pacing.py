"""Pacing: max never waits; realtime commits a tick once its event time has passed; a factor
runs simulated time that many times faster; lateness is reported."""

from __future__ import annotations

import attrs

from connector.runtime.pacing import Pacer


@attrs.define
class FakeClock:
    now: float
    slept: list[float] = attrs.Factory(list)

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_max_pace_never_waits() -> None:
    """Backfill (pace=max) does not sleep and reports no lag."""
    clock = FakeClock(1_000_000.0)
    pacer = Pacer(None, 0, 60_000, clock.time, clock.sleep)
    assert pacer.wait_for(10_000) == 0.0 and clock.slept == []


def test_realtime_waits_until_the_tick_has_passed() -> None:
    """realtime: tick k is released once wall time reaches the end of its event time."""
    start_ms = 1_700_000_000_000
    clock = FakeClock(start_ms / 1000)  # wall time = start of tick 0
    pacer = Pacer(1.0, start_ms, 60_000, clock.time, clock.sleep)
    assert pacer.wait_for(0) == 0.0
    assert clock.now >= start_ms / 1000 + 60  # tick 0 ends one minute later
    assert clock.now - start_ms / 1000 < 60.5


def test_realtime_reports_lag_when_behind() -> None:
    """A run that is behind its schedule reports by how many seconds."""
    start_ms = 1_700_000_000_000
    clock = FakeClock(start_ms / 1000 + 3600)  # an hour late
    pacer = Pacer(1.0, start_ms, 60_000, clock.time, clock.sleep)
    assert abs(pacer.wait_for(0) - (3600 - 60)) < 1e-6
    assert clock.slept == []


def test_speed_up_factor() -> None:
    """pace=60: one simulated minute per wall second, measured from the first tick."""
    clock = FakeClock(500.0)
    pacer = Pacer(60.0, 0, 60_000, clock.time, clock.sleep)
    pacer.wait_for(0)
    first = clock.now
    for tick in range(1, 11):
        pacer.wait_for(tick)
    assert abs((clock.now - first) - 10.0) < 1e-6  # 10 ticks of 1 minute at 60x = 10 s


def test_stop_interrupts_a_wait() -> None:
    """A stop request ends the wait at once (Ctrl-C during a realtime run)."""
    clock = FakeClock(0.0)
    pacer = Pacer(1.0, 10_000_000, 60_000, clock.time, clock.sleep)
    pacer.wait_for(0, stop=lambda: True)
    assert clock.slept == []
