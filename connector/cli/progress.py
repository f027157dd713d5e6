"""`doge run`'s progress: a live display on a terminal (rich), plain lines every few seconds
otherwise (logs, CI, pipes). Both show ticks done, percentage, elapsed time, ETA, the current
events/s (over the last seconds, not since the start) and the totals, and both end with a final
frame. A paced run also says when its first tick is committed (a realtime tick of one minute
commits only once that minute has passed).
"""

from __future__ import annotations

import collections
import datetime as dt
import sys
import time
from collections.abc import Callable
from typing import IO, Protocol

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from connector.runtime.runner import Runner

RATE_WINDOW_S = 3.0  # the current events/s is measured over this many seconds


def sim_time(runner: Runner, tick: int) -> str:
    ms = runner.start_ms + tick * runner.sim.config.tick_ms
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M")


def clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Reporter(Protocol):
    def start(self, runner: Runner) -> None: ...

    def update(self, runner: Runner) -> None: ...

    def finish(self, runner: Runner) -> None: ...


class _Rate:
    """Events/s over the last RATE_WINDOW_S seconds."""

    def __init__(self) -> None:
        self.samples: collections.deque[tuple[float, int]] = collections.deque()

    def add(self, now: float, events: int) -> float:
        """Record the total at `now`; returns the current rate."""
        self.samples.append((now, events))
        while len(self.samples) > 2 and now - self.samples[1][0] >= RATE_WINDOW_S:
            self.samples.popleft()
        t0, e0 = self.samples[0]
        return (events - e0) / (now - t0) if now > t0 else 0.0


class _FirstCommit:
    """Says when a paced run's first tick will commit, and when it did."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.announced = False
        self.done = False

    def start(self, runner: Runner) -> None:
        """Before the first tick: when will it commit?"""
        if runner.sim.config.pace != 1.0 or self.announced:
            return
        self.announced = True
        first = runner.next_tick
        due = (runner.start_ms + (first + 1) * runner.sim.config.tick_ms) / 1000
        self.say(f"realtime: tick {first} ({sim_time(runner, first)} UTC) is committed once "
                 f"it has passed, in about {clock(due - time.time())}")

    def check(self, runner: Runner) -> None:
        if runner.sim.config.pace is None or self.done:
            return
        if runner.stats.commits:
            self.done = True
            self.say(f"first tick committed at {dt.datetime.now(dt.UTC):%H:%M:%S} UTC")


class LiveProgress:
    """A rich progress display on stderr, redrawn a few times a second; the last frame stays."""

    def __init__(self, total: int | None, stream: IO[str] | None = None) -> None:
        console = Console(file=stream or sys.stderr)
        self.progress = Progress(
            TextColumn("tick"), MofNCompleteColumn(), BarColumn(), TaskProgressColumn(),
            TextColumn("elapsed"), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
            TextColumn("{task.fields[rate]} events/s  {task.fields[events]} events  "
                       "{task.fields[when]}"),
            console=console, refresh_per_second=5)
        self.total = total
        self.rate = _Rate()
        self.first = _FirstCommit(console.print)
        self.task = self.progress.add_task("run", total=total, rate="0", events="0", when="")
        self.progress.start()

    def start(self, runner: Runner) -> None:
        self.first.start(runner)

    def update(self, runner: Runner) -> None:
        self.first.check(runner)
        now = time.monotonic()
        self.progress.update(self.task, completed=runner.next_tick,
                             rate=f"{self.rate.add(now, runner.stats.events):,.0f}",
                             events=f"{runner.stats.events:,}",
                             when=sim_time(runner, runner.next_tick))

    def finish(self, runner: Runner) -> None:
        self.update(runner)
        self.progress.refresh()
        self.progress.stop()


class PlainProgress:
    """One line every `interval` seconds (and a last one): for logs and pipes."""

    def __init__(self, total: int | None, interval: float,
                 stream: IO[str] | None = None) -> None:
        self.total = total
        self.interval = interval
        self.stream = stream
        self.started = time.monotonic()
        self.last = self.started
        self.rate = _Rate()
        self.first = _FirstCommit(self._say)

    def _say(self, text: str) -> None:
        click.echo(text, err=self.stream is None, file=self.stream)

    def start(self, runner: Runner) -> None:
        self.first.start(runner)

    def line(self, runner: Runner, now: float) -> str:
        tick, elapsed = runner.next_tick, now - self.started
        rate = self.rate.add(now, runner.stats.events)
        parts = [f"tick {tick:,}" + (f"/{self.total:,}" if self.total else "")]
        if self.total:
            parts.append(f"{100 * tick / self.total:.1f} %")
        parts.append(f"elapsed {clock(elapsed)}")
        if self.total and runner.stats.ticks_done and tick < self.total:
            per_tick = elapsed / runner.stats.ticks_done
            parts.append(f"eta {clock(per_tick * (self.total - tick))}")
        parts += [f"{rate:,.0f} events/s", f"{runner.stats.events:,} events",
                  sim_time(runner, tick)]
        return "  ".join(parts)

    def update(self, runner: Runner) -> None:
        self.first.check(runner)
        now = time.monotonic()
        self.rate.add(now, runner.stats.events)
        if now - self.last >= self.interval:
            self.last = now
            self._say(self.line(runner, now))

    def finish(self, runner: Runner) -> None:
        self._say(self.line(runner, time.monotonic()))
