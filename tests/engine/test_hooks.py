"""Hooks: Python code for a transition's movers only, after its condition, able to veto."""

from __future__ import annotations

import numpy as np
import pytest

from connector.engine.hooks import Movers
from connector.engine.plan import with_hooks
from connector.engine.shard import ShardEngine, step_shards
from tests.engine.conftest import EngineFactory
from tests.engine.test_determinism import digest
from tests.helpers import banking_model

MODEL = {"states": ["a", "b"], "attributes": {"n": {"type": "long"}}, "transitions": [
    {"name": "ab", "from": "a", "to": "b", "chance": 30, "condition": "user_id % 3 != 0",
     "update": ["n += 1"], "emit": ["events"]},
    {"name": "ba", "from": "b", "to": "a", "chance": 50, "emit": ["events"]}]}


def _hooked(engines: list[ShardEngine], **hooks: object) -> list[ShardEngine]:
    plan = with_hooks(engines[0].plan, hooks)  # type: ignore[arg-type]
    return [ShardEngine(plan, e.settings, e.shard) for e in engines]


def test_a_hook_that_lets_every_mover_through_changes_nothing(engines: EngineFactory) -> None:
    """A hook letting every mover through leaves the banking output byte-identical."""
    plain = engines(banking_model(), users=4000, shards=3, seed=9)
    names = [t.name for t in plain[0].plan.transitions]
    hooked = _hooked(engines(banking_model(), users=4000, shards=3, seed=9),
                     **{n: (lambda m: None) for n in names})
    expected = digest((x for _ in range(50) for x in step_shards(plain)), plain[0])
    assert digest((x for _ in range(50) for x in step_shards(hooked)), hooked[0]) == expected


def test_hook_sees_only_movers_after_the_condition_once_per_tick(engines: EngineFactory) -> None:
    """A hook is called once per tick with exactly the movers that pass the condition."""
    calls: list[Movers] = []

    def record(movers: Movers) -> None:
        calls.append(movers)

    shards = _hooked(engines(MODEL, users=3000, shards=3), ab=record)
    for tick in range(5):
        before = len(calls)
        batches = step_shards(shards)
        emitted = np.sort(np.concatenate([e.user_ids for b in batches for e in b.events
                                          if e.transition == "ab"]))
        assert len(calls) == before + 1
        seen = calls[-1]
        assert seen.transition == "ab" and seen.tick == tick
        assert seen.time_ms == shards[0].settings.tick_time_ms(tick)
        assert not np.any(seen.user_ids % 3 == 0)
        assert np.array_equal(np.sort(seen.user_ids), emitted)


def test_a_veto_keeps_the_user_in_place_without_updates_or_events(
        engines: EngineFactory) -> None:
    """Vetoed users keep their state and attributes and emit nothing."""
    def odd_only(movers: Movers) -> np.ndarray:
        return np.asarray(movers.user_ids % 2 == 1, dtype=bool)

    shard = _hooked(engines(MODEL, users=2000), ab=odd_only)[0]
    for _ in range(3):
        batch = shard.step()
        for e in batch.events:
            if e.transition == "ab":
                assert np.all(e.user_ids % 2 == 1)
    even = np.arange(0, 2000, 2)
    pop = shard.population
    assert np.all(pop.state[even] == 0) and np.all(pop.attributes["n"][even] == 0)
    assert np.any(pop.attributes["n"][1::2] == 1)


def test_hook_errors_are_clear(engines: EngineFactory) -> None:
    """A hook for an unknown transition, or a mask of the wrong length, is refused."""
    base = engines(MODEL, users=100)
    with pytest.raises(ValueError, match="unknown transitions: nope"):
        with_hooks(base[0].plan, {"nope": lambda m: None})
    shard = _hooked(base, ab=lambda m: np.ones(1, dtype=bool))[0]
    with pytest.raises(ValueError, match="returned 1 values for"):
        for _ in range(5):
            shard.step()
