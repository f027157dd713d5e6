"""Random streams keyed by (seed, shard, purpose, tick, site).

Every draw the engine makes comes from a stream that is a pure function of those keys, so a
shard's output never depends on which task runs it, on restarts, or on other shards.
"""

from __future__ import annotations

import numpy as np

# Purposes: one namespace of streams each, so adding a feature never shifts another's draws.
STEP = 0  # the one uniform draw per user per tick that picks a transition
SITE = 1  # random calls inside expressions (vars, conditions, updates, fields)
ARRIVALS = 2  # how many users arrive in a shard-tick
CREATE = 3  # initial attribute values of created users
JITTER = 4  # event-time offsets inside a tick


def stream(seed: int, shard: int, purpose: int, tick: int, site: int = 0) -> np.random.Generator:
    """The generator for one (shard, purpose, tick, site); `tick` may be -1 (initial population)."""
    key = np.random.SeedSequence(entropy=seed & ((1 << 128) - 1),
                                 spawn_key=(shard, purpose, tick + 1, site))
    # SFC64: a high-quality generator and numpy's fastest for bulk draws.
    return np.random.Generator(np.random.SFC64(key))


def uniform_u32(gen: np.random.Generator, n: int) -> np.ndarray:
    """n uniform uint32 values, two per 64-bit output (the cheapest uniform numpy offers)."""
    raw = gen.bit_generator.random_raw((n + 1) // 2)
    return np.asarray(raw, dtype=np.uint64).view(np.uint32)[:n]
