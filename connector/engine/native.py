"""The engine's optional C path for per-shard random draws (`connector/engine/_draws.c`).

A task steps its shards together, but every shard draws from its own streams (so its output
is the same whichever task steps it): a handful of numpy calls per shard and tick on arrays of
a few hundred rows, whose cost is per call. The C module makes those draws for a shard (or for
all the shards of a draw) in one call, calling numpy's own distribution functions on the same
bit generators in the same order, so the numbers are the same. It is used only where it is
built, not switched off (DOGE_ENGINE_NATIVE=0) and where its callers (movers.py, rows.py) have
checked at first use that it draws what the numpy path draws; otherwise the numpy path runs.
"""

from __future__ import annotations

import functools
import importlib
import os
from types import ModuleType

import structlog

log = structlog.get_logger(__name__)

SWITCH = "DOGE_ENGINE_NATIVE"  # "0": draw through numpy only (an operator's way back)


@functools.cache
def draws_module() -> ModuleType | None:
    """The compiled module, or None (not built, or switched off)."""
    if os.environ.get(SWITCH, "1") == "0":
        return None
    try:
        return importlib.import_module("connector.engine._draws")
    except ImportError:
        return None


def disagrees(what: str) -> None:
    """Note that the C path drew other numbers than numpy for `what` (it is not used then)."""
    log.warning("engine.native_draws_disagree", draws=what,
                hint="the numpy path is used; the build's numpy differs from the one loaded?")
