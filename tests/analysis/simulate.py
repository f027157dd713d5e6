"""A simulated run counted the way the analysis predicts it: moves per transition, and events per
topic with the spread of each user's count (for sound noise bounds)."""

from __future__ import annotations

import math

import attrs
import numpy as np

from connector.engine.plan import EnginePlan
from connector.engine.settings import SimulationSettings
from connector.engine.shard import ShardEngine, step_shards


@attrs.frozen
class Simulated:
    moves: dict[str, int]
    events: dict[str, int]
    sigma: dict[str, float]  # standard deviation of each topic's total (users are independent)
    sigma_all: float  # the same for all topics together


def simulate(plan: EnginePlan, users: int, start_ms: int, ticks: int, seed: int = 3
             ) -> Simulated:
    """Step `ticks` ticks of one shard (user id = row) without building events: the moves say
    what was emitted, one event per emit of each move (test_events_are_moves_times_emits)."""
    settings = SimulationSettings(users, 1, seed, plan.tick_ms, start_ms)
    engines = [ShardEngine(plan, settings, 0)]
    spec = plan.model.spec
    topics = [t.name for t in spec.topics]
    emits = {t.name: [sum(e.topic == name for e in t.emits) for name in topics]
             for t in spec.transitions}
    per_user = np.zeros((len(topics), max(users, 1) * 2))
    moves = dict.fromkeys(emits, 0)
    for _ in range(ticks):
        for batch in step_shards(engines, build_events=False):
            for m in batch.moves:
                moves[m.transition] += len(m)
                if not any(emits[m.transition]) or not len(m):
                    continue
                top = int(m.user_ids.max()) + 1
                if top > per_user.shape[1]:
                    per_user = np.pad(per_user, ((0, 0), (0, 2 * top - per_user.shape[1])))
                counts = np.bincount(m.user_ids, minlength=per_user.shape[1])
                for j, k in enumerate(emits[m.transition]):
                    if k:
                        per_user[j] += k * counts
    population = engines[0].population.size  # initial users and arrivals
    events, sigma = {}, {}
    for j, name in enumerate(topics):
        counts = per_user[j][:max(population, 1)]
        events[name] = int(counts.sum())
        sigma[name] = math.sqrt(len(counts) * float(counts.var()))
    everything = per_user[:, :max(population, 1)].sum(axis=0)
    return Simulated(moves, events, sigma,
                     math.sqrt(len(everything) * float(everything.var())))
