"""Shards stepped together (one pass per transition over all of them) give each shard the same
bytes as stepping it alone: the output never depends on how shards are grouped into tasks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from connector.core.batch import TickBatch
from connector.engine.plan import EnginePlan, build_plan
from connector.engine.settings import SimulationSettings
from connector.engine.shard import ShardEngine, step_shards
from connector.model import expr as ex
from connector.model.validate import load_model
from tests.engine.test_determinism import digest
from tests.helpers import model_file

ROOT = Path(__file__).resolve().parents[2]
SHARDS = 5


def _engines(plan: EnginePlan, users: int = 6000) -> list[ShardEngine]:
    settings = SimulationSettings(users, SHARDS, 21, plan.tick_ms, 1_704_067_200_000)
    return [ShardEngine(plan, settings, s) for s in range(SHARDS)]


def _digests_grouped(plan: EnginePlan, groups: list[list[int]], ticks: int) -> dict[int, str]:
    engines = _engines(plan)
    batches: dict[int, list[TickBatch]] = {s: [] for s in range(SHARDS)}
    for _ in range(ticks):
        for group in groups:
            (batch,) = step_shards([engines[s] for s in group])
            for shard in group:
                batches[shard].append(batch.of_shard(shard))
    return {s: digest(b, engines[s]) for s, b in batches.items()}


@pytest.mark.parametrize("model", ["banking", "music", "iot"])
def test_any_grouping_of_shards_gives_each_shard_the_same_bytes(model: str) -> None:
    """All shards together, in two uneven groups, and one by one: identical per-shard output
    (covers random draws in vars/updates/fields, conditions, sessions, jitter, arrivals)."""
    plan = build_plan(load_model(ROOT / f"config/models/{model}.yaml"), 60_000)
    alone = _digests_grouped(plan, [[s] for s in range(SHARDS)], 120)
    assert _digests_grouped(plan, [list(range(SHARDS))], 120) == alone
    assert _digests_grouped(plan, [[4, 1], [0, 2, 3]], 120) == alone


def _running_total(values: np.ndarray) -> np.ndarray:
    """A plugin that is not row-wise: each row's result depends on the rows before it."""
    return np.cumsum(values)


def test_plugin_calls_see_one_shard_at_a_time(tmp_path: Path) -> None:
    """A plugin gets whole columns, so its transition is applied shard by shard: the output of
    a column-dependent plugin is still the same whatever the grouping."""
    body = {
        "states": ["idle"], "initial": "idle",
        "attributes": {"n": {"type": "long", "initial": 1}},
        "transitions": [{"name": "tick", "from": "idle", "to": "idle", "chance": 5,
                         "update": ["n = running_total(n)"], "emit": ["out"]}],
    }
    schemas = {"out": {"type": "record", "name": "Out", "fields": [
        {"name": "user_id", "type": "long"}, {"name": "n", "type": "long"}]}}
    spec = ex.FunctionSpec("running_total", [ex.ExprType.LONG], ex.ExprType.LONG, _running_total)
    plan = build_plan(load_model(model_file(tmp_path, body, schemas), (spec,)), 60_000)
    assert not plan.transitions[0].row_wise
    alone = _digests_grouped(plan, [[s] for s in range(SHARDS)], 30)
    assert _digests_grouped(plan, [list(range(SHARDS))], 30) == alone


def test_shards_at_different_ticks_are_not_stepped_together() -> None:
    """Stepping shards at different ticks together would mix ticks: refused, nothing stepped."""
    plan = build_plan(load_model(ROOT / "config/models/banking.yaml"), 60_000)
    engines = _engines(plan, users=500)
    step_shards(engines[:1])
    with pytest.raises(ValueError, match="same tick"):
        step_shards(engines[:2])
    assert [e.tick for e in engines[:2]] == [1, 0]
