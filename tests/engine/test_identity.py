"""A run's fingerprint names everything its bytes depend on, the engine's own version included."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.engine import identity
from connector.engine.settings import SimulationSettings
from connector.model.validate import load_model

MODEL = Path(__file__).resolve().parents[2] / "config/models/banking.yaml"
SETTINGS = SimulationSettings(1000, 4, 7, 60_000, 1_704_067_200_000)


def test_same_model_and_settings_give_the_same_fingerprint() -> None:
    """Loading the model twice does not change the fingerprint (resuming works)."""
    assert identity.run_fingerprint(load_model(MODEL), SETTINGS) == \
        identity.run_fingerprint(load_model(MODEL), SETTINGS)


def test_another_engine_output_version_changes_the_fingerprint(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A run committed by an engine that draws differently is never resumed by this one."""
    model = load_model(MODEL)
    before = identity.run_fingerprint(model, SETTINGS)
    monkeypatch.setattr(identity, "ENGINE_OUTPUT_VERSION", identity.ENGINE_OUTPUT_VERSION - 1)
    assert identity.run_fingerprint(model, SETTINGS) != before
