"""The simulation parameters the engine needs from a connector config."""

from __future__ import annotations

import attrs


@attrs.frozen
class SimulationSettings:
    """Everything besides the model that the committed output is a function of."""

    users: int
    shards: int
    seed: int
    tick_ms: int
    start_ms: int

    def tick_time_ms(self, tick: int) -> int:
        """Start of tick `tick` in epoch milliseconds."""
        return self.start_ms + tick * self.tick_ms

    def initial_users(self, shard: int) -> int:
        """How many of users 0..N-1 belong to `shard` (user u lives in shard u % shards)."""
        return len(range(shard, self.users, self.shards))
