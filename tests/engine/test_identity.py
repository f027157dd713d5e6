"""A run's fingerprint names everything its bytes depend on, the engine's own version included."""

from __future__ import annotations

from pathlib import Path

import faker
import pytest

from connector.engine import identity
from connector.engine.settings import SimulationSettings
from connector.model.expr import pools
from connector.model.validate import load_model
from tests.helpers import model_file

MODEL = Path(__file__).resolve().parents[2] / "config/models/banking.yaml"
SETTINGS = SimulationSettings(1000, 4, 7, 60_000, 1_704_067_200_000)
_ORIGINAL_POOL = pools.pool


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


def test_a_model_without_fake_has_no_pool_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model without fake() keeps the fingerprint it had (no pools in it), so runs made
    before the value functions existed still resume."""
    def no_pools(pools: object) -> dict[str, object]:
        raise AssertionError("pools looked up for a model without fake()")

    monkeypatch.setattr(identity, "pool_identity", no_pools)
    identity.run_fingerprint(load_model(MODEL), SETTINGS)


def _fake_model(tmp_path: Path, kind: str = "email") -> Path:
    body = {"states": ["idle"], "initial": "idle",
            "attributes": {"who": {"type": "string", "initial": f"fake('{kind}')"}},
            "transitions": [{"name": "t", "from": "idle", "to": "idle", "chance": 1,
                             "emit": ["events"]}]}
    return model_file(tmp_path, body)


def test_another_faker_version_or_pool_changes_the_fingerprint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """fake() values depend on Faker's version and the pools: a run made with other ones is
    refused rather than continued with other values."""
    model = load_model(_fake_model(tmp_path))
    before = identity.run_fingerprint(model, SETTINGS)
    assert before == identity.run_fingerprint(load_model(_fake_model(tmp_path)), SETTINGS)
    assert before != identity.run_fingerprint(load_model(_fake_model(tmp_path, "city")),
                                              SETTINGS)
    monkeypatch.setattr(faker, "VERSION", "0.0.1")
    assert identity.run_fingerprint(model, SETTINGS) != before
    monkeypatch.undo()
    first = pools.pool("first_ascii", "en_US")
    changed = first.copy()
    changed[0] = first[0] + "x"
    monkeypatch.setattr(pools, "pool", lambda name, locale: changed if name == "first_ascii"
                        else _ORIGINAL_POOL(name, locale))
    assert identity.run_fingerprint(model, SETTINGS) != before


def test_only_models_calling_exp_or_pow_are_new_runs_after_the_portable_math(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """lognormal() (iot) changed bytes on AVX-512 hosts when it moved to the C library's exp: its
    runs get a new fingerprint, a model without exp or pow (banking) keeps its own."""
    iot = load_model(MODEL.parent / "iot.yaml")
    banking = load_model(MODEL)
    before = (identity.run_fingerprint(iot, SETTINGS), identity.run_fingerprint(banking, SETTINGS))
    monkeypatch.setattr(identity, "_PORTABLE_MATH", "another")
    assert identity.run_fingerprint(iot, SETTINGS) != before[0]
    assert identity.run_fingerprint(banking, SETTINGS) == before[1]
