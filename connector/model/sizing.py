"""How much memory a run's users need, and whether it fits the memory this process may use.

One estimate, used by `doge validate`, by `doge run` and by every task (Runner.resume, for the
task's share of the shards): bytes per user (its state, attributes and sessions, the columns a
tick builds for the users that move, the copy a snapshot makes) times the users the process
will hold, arrivals over a finite run included. What cannot fit is refused before any work,
with the number and the limit in the message; README "Limits" shows the figures.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

from connector.core.types import ValueType
from connector.model.spec import ModelSpec

# Per attribute type: the column's bytes per user. A string is a pointer plus a Python str of
# a few dozen characters (strings may grow to MAX_STRING_CHARS; the estimate cannot know).
ATTRIBUTE_BYTES = {ValueType.LONG: 8, ValueType.DOUBLE: 8, ValueType.BOOLEAN: 1,
                   ValueType.STRING: 8 + 80}
STATE_BYTES = 2
SESSION_BYTES = 8  # open session and sessions opened, int32 each
# Columns grow by half when they fill up, and a snapshot copies the live rows.
GROWTH = 1.5
SNAPSHOT_COPY = 1.0
# Per user per tick: the mover sampling's index and draw columns, whoever moves.
STEP_BYTES = 24
# Per moving user: rows, draws, chosen transitions, one column per emitted field, encoding.
MOVER_BYTES = 40
FIELD_BYTES = 16
# The share of the memory left to users; the rest is for Python, numpy, librdkafka, buffers.
USABLE = 0.8


def bytes_per_user(spec: ModelSpec, tick_ms: int) -> int:
    """Estimated peak bytes one user costs while a run steps and snapshots."""
    resident = STATE_BYTES + sum(ATTRIBUTE_BYTES.get(a.type, 8) for a in spec.attributes)
    if any(t.session for t in spec.transitions):
        resident += SESSION_BYTES
    width = {t.name: len(t.schema.get("fields", ())) for t in spec.topics}
    fields = max((sum(width.get(e.topic, 0) for e in t.emits) for t in spec.transitions),
                 default=0)
    moving = (MOVER_BYTES + FIELD_BYTES * fields) * _moving_share(spec, tick_ms)
    return int(resident * (GROWTH + SNAPSHOT_COPY) + STEP_BYTES + moving)


def _moving_share(spec: ModelSpec, tick_ms: int) -> float:
    """The largest share of a state's users that may move in one tick (profiles at peak)."""
    return min(1.0, max(spec.chance_totals(tick_ms).values(), default=0.0))


def available_memory() -> int:
    """Bytes this process may still use: the least of the free memory, the cgroup's limit and
    the address-space limit (RLIMIT_AS)."""
    limits = [_meminfo_available(), _cgroup_available()]
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        limits.append(max(0, soft - _address_space_used()))
    known = [x for x in limits if x is not None]
    return min(known) if known else 1 << 62


def population_problem(spec: ModelSpec, users: int, *, tick_ms: int, ticks: int | None,
                       share: float = 1.0) -> str | None:
    """Why `share` of `users` (plus arrivals over `ticks`) cannot fit in memory, or None."""
    arriving = spec.population.arrivals_per_ms * tick_ms * (ticks or 0)
    held = (users + arriving) * share
    per_user = bytes_per_user(spec, tick_ms)
    budget = available_memory() * USABLE
    if held * per_user <= budget:
        return None
    fits = int(budget / per_user / share) if share > 0 else 0
    what = f"{held:,.0f} users" + (" (arrivals included)" if arriving else "")
    return (f"{what} need about {_gib(held * per_user)} (about {per_user} bytes per user for "
            f"this model), more than the {_gib(budget)} of memory available here; at most "
            f"{fits:,} users fit (split the connector over more workers, or use fewer users)")


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_available() -> int | None:
    root = Path("/sys/fs/cgroup")
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int((root / "memory.current").read_text()))
    except (OSError, ValueError):
        return None


def _address_space_used() -> int:
    try:
        return int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
