"""Bounds of the run settings a connector config gives, as plain validators.

Each validator takes the parsed value and raises ValueError with a one-line message (the caller
names the key and file), so a config that could only fail later, inside the engine, the encoder
or a clock conversion, is refused before any work. The bounds are documented in README "Limits".
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from functools import partial

# The longest string value an expression may build (`s = s + s` every tick would not end).
MAX_STRING_CHARS = 65_536
# A hard ceiling on users and shards whatever the memory (see sizing.py for the memory one).
MAX_USERS = 10**12
MAX_SHARDS = 4096
MAX_ARRIVALS_PER_TICK = 10**9
MAX_SEED = 2**64 - 1
MAX_TICK_MS = 366 * 86_400_000  # a tick of at most a (leap) year
MAX_PACE = 1e9  # a speed-up beyond this is `max`
# Event times must be calendar dates Python, numpy and Avro readers all handle: years 1..9999,
# with a day of margin for time zone offsets.
MIN_TIME_MS = int(dt.datetime(1, 1, 2, tzinfo=dt.UTC).timestamp() * 1000)
MAX_TIME_MS = int(dt.datetime(9999, 12, 30, tzinfo=dt.UTC).timestamp() * 1000)


def check_users(users: int) -> None:
    if not 0 <= users <= MAX_USERS:
        raise ValueError(f"expected from 0 to {MAX_USERS:.0e} users, got {users}")


def check_shards(shards: int) -> None:
    if not 1 <= shards <= MAX_SHARDS:
        raise ValueError(f"expected from 1 to {MAX_SHARDS} shards, got {shards}")


def check_tasks_max(tasks: int) -> None:
    """Each task is a process; more tasks than the most shards there can be would idle."""
    if not 1 <= tasks <= MAX_SHARDS:
        raise ValueError(f"expected from 1 to {MAX_SHARDS} tasks, got {tasks}")


def check_seed(seed: int) -> None:
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"expected a seed from 0 to 2**64-1 ({MAX_SEED}), got {seed}")


def check_tick_ms(tick_ms: int) -> None:
    if not 1 <= tick_ms <= MAX_TICK_MS:
        raise ValueError(f"expected a tick of 1 to {MAX_TICK_MS} ms (366 days), got {tick_ms}")


def check_pace(factor: float) -> None:
    """A speed-up factor (`realtime` is 1)."""
    if not (math.isfinite(factor) and 0 < factor <= MAX_PACE):
        raise ValueError(f"expected max, realtime or a speed-up factor above 0 and at most "
                         f"{MAX_PACE:.0e}, got {factor}")


def check_start_ms(start_ms: int) -> None:
    """Tick 0's time."""
    if not MIN_TIME_MS <= start_ms <= MAX_TIME_MS:
        raise ValueError(f"expected a start time from year 1 to 9999 (epoch milliseconds "
                         f"{MIN_TIME_MS} to {MAX_TIME_MS}), got {start_ms}")


def check_end(start_ms: int, tick_ms: int, ticks: int) -> None:
    """The last tick's time stays in the calendar (a finite run; a run forever stops there)."""
    end = start_ms + ticks * tick_ms
    if end > MAX_TIME_MS:
        last = max(0, (MAX_TIME_MS - start_ms) // tick_ms)
        raise ValueError(f"{ticks} ticks of {tick_ms} ms from the start time run past the year "
                         f"9999; at most {last} ticks fit")


# At run time, a run without `ticks` whose simulated time reached MAX_TIME_MS.
END_OF_CALENDAR = ("the simulated time reached the year 9999, the end of the calendar event "
                   "times can hold; the run stops here")


def check_settings(*, tick_ms: int, pace: float | None, start_ms: int | None,
                   ticks: int | None) -> list[tuple[str, str]]:
    """(config key, message) for the settings the config tables cannot check key by key (the
    whole-number keys have their check_* as the table's validator): the pace factor, the start
    time and where the last tick ends. None means not given (for `start_ms`: `now`, resolved
    at the first start)."""
    checks: list[tuple[str, Callable[[], None]]] = []
    if pace is not None:
        checks.append(("pace", partial(check_pace, pace)))
    if start_ms is not None:
        checks.append(("start.time", partial(check_start_ms, start_ms)))
        if ticks is not None and MIN_TIME_MS <= start_ms <= MAX_TIME_MS:
            checks.append(("ticks", partial(check_end, start_ms, tick_ms, ticks)))
    out: list[tuple[str, str]] = []
    for key, check in checks:
        try:
            check()
        except ValueError as exc:
            out.append((key, str(exc)))
    return out
