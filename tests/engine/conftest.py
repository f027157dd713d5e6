"""Fixtures building engines from small inline models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connector.engine.plan import build_plan
from connector.engine.settings import SimulationSettings
from connector.engine.shard import ShardEngine
from connector.model.validate import load_model
from tests.helpers import model_file

EngineFactory = Callable[..., list[ShardEngine]]


@pytest.fixture
def engines(tmp_path: Path) -> EngineFactory:
    """Build one ShardEngine per shard for a model given as data."""
    def make(model: dict[str, Any], users: int = 1000, shards: int = 1, seed: int = 7,
             tick_ms: int = 60_000, start_ms: int = 1_704_067_200_000,
             schemas: dict[str, dict[str, Any]] | None = None) -> list[ShardEngine]:
        validated = load_model(model_file(tmp_path, model, schemas))
        plan = build_plan(validated, tick_ms)
        settings = SimulationSettings(users, shards, seed, tick_ms, start_ms)
        return [ShardEngine(plan, settings, s) for s in range(shards)]
    return make
