"""A local run's starting point, shared by the CLI and the Python API: a connector file with
settings laid over it, or a model run as one day of ticks."""

from __future__ import annotations

from pathlib import Path

from connector.model.source import load_file
from connector.runtime.targets import (
    connector_with,
    is_connector_document,
    model_run_keys,
    setting_keys,
)

BANKING = Path(__file__).parents[2] / "connector" / "examples" / "config" / "banking.json"
MODEL = BANKING.parent / "models" / "banking.yaml"


def test_settings_override_a_connector_files_values_and_name() -> None:
    """Given keys replace the file's own, the rest of the file stays, and a name renames it."""
    doc = load_file(BANKING, (".json",))
    assert is_connector_document(doc)
    config = connector_with(doc, BANKING, {"users": "77", "seed": "5"}, "renamed")
    assert (config.name, config.users, config.seed, config.ticks) == ("renamed", 77, 5, 1440)
    assert connector_with(doc, BANKING, {}, None).name == "banking"


def test_a_model_runs_one_day() -> None:
    """A model given directly: one simulated day at its tick length, unless the caller said
    otherwise."""
    assert not is_connector_document(load_file(MODEL))
    assert model_run_keys({}, None) == {"ticks": "1440"}
    assert model_run_keys({"tick.ms": "1000"}, 1000)["ticks"] == "86400"
    assert model_run_keys({"ticks": "3", "users": "5"}, 60_000.0) == {"ticks": "3", "users": "5"}


def test_settings_by_keyword_become_connector_keys() -> None:
    """Keywords map to their config keys as Connect's text; None is not given; a whole float
    is a whole number and any other float stays as text for the config to refuse."""
    assert setting_keys({"users": 1e6, "start": "now", "tick_ms": 1000, "seed": None,
                         "pace": 2.5, "name": "ignored"}) == {
        "users": "1000000", "start.time": "now", "tick.ms": "1000", "pace": "2.5"}
