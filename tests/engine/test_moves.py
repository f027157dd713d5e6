"""The moves a tick batch carries: every transition taken, silent ones and failed conditions."""

from __future__ import annotations

import numpy as np

from tests.engine.conftest import EngineFactory


def test_moves_count_silent_transitions_and_skip_failed_conditions(engines: EngineFactory) -> None:
    """A silent transition is counted as a move; a drawn transition whose condition fails is not."""
    model = {"states": ["a", "b"],
             "attributes": {"even": {"type": "boolean", "initial": "user_id % 2 == 0"}},
             "transitions": [
                 {"name": "quiet", "from": "a", "to": "b", "chance": 100},
                 {"name": "back", "from": "b", "to": "a", "chance": 100, "condition": "even",
                  "emit": ["events"]}]}
    shards = engines(model, users=10, shards=2)
    first = [e.step() for e in shards]
    assert sorted(u for b in first for m in b.moves if m.transition == "quiet"
                  for u in m.user_ids.tolist()) == list(range(10))
    assert all(not b.events for b in first)
    second = [e.step() for e in shards]
    back = np.concatenate([m.user_ids for b in second for m in b.moves])
    assert sorted(back.tolist()) == [0, 2, 4, 6, 8]
    assert all(m.transition == "back" for b in second for m in b.moves)
    assert sum(len(e) for b in second for e in b.events) == 5


def test_replay_counts_the_same_moves(engines: EngineFactory) -> None:
    """A silent replay (build_events=False) builds no events but records the very same moves."""
    model = {"states": ["a"], "transitions": [
        {"name": "x", "from": "a", "to": "a", "chance": 50, "emit": ["events"]}]}
    loud, quiet = engines(model, users=100)[0], engines(model, users=100)[0]
    for _ in range(3):
        a, b = loud.step(), quiet.step(build_events=False)
        assert not b.events and a.events
        assert [(m.transition, m.user_ids.tolist()) for m in a.moves] == \
            [(m.transition, m.user_ids.tolist()) for m in b.moves]
