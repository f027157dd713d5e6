"""Python code for the users that drew a transition (the DOGE-compatible API's callbacks).

A hook is called once per transition per tick with that transition's movers of all the shards
stepped together, after the transition's condition and before its updates, and never for users
that stay: its cost is O(movers). It returns which movers take the transition (DOGE's callback
returning False vetoes the move: the user stays and nothing is emitted).

Hooks are Python objects, not part of the model: a plan with hooks is not described by its model
alone, so its output is reproducible only by the same code in the same process. Connectors never
carry hooks; only in-process runs (`connector.doge`) attach them, with `plan.with_hooks`.
"""

from __future__ import annotations

from typing import Protocol

import attrs
import numpy as np
import numpy.typing as npt


@attrs.frozen
class Movers:
    """The users taking one transition in one tick (their shards' rows concatenated)."""

    transition: str
    tick: int
    time_ms: int  # event time of the tick, epoch milliseconds
    user_ids: npt.NDArray[np.int64]


class MoverHook(Protocol):
    def __call__(self, movers: Movers) -> npt.NDArray[np.bool_] | None:
        """A mask over `movers.user_ids`: True takes the transition; None: all of them do."""


def run_hook(hook: MoverHook, movers: Movers) -> npt.NDArray[np.bool_] | None:
    """Call `hook`; its mask as booleans (None when every mover takes the transition)."""
    allowed = hook(movers)
    if allowed is None:
        return None
    mask = np.asarray(allowed, dtype=bool)
    if mask.shape != movers.user_ids.shape:
        raise ValueError(f"the hook of transition '{movers.transition}' returned {mask.shape[0]} "
                         f"values for {movers.user_ids.shape[0]} movers")
    return None if mask.all() else mask


__all__ = ["MoverHook", "Movers", "run_hook"]
