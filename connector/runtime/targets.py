"""What a local run starts from, shared by `doge run TARGET` (CLI) and `run(target)` (Python API):
a connector file with the caller's settings laid over its config, or a model given directly,
which runs as a connector simulating one day as fast as possible unless told otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from connector.model.source import Document
from connector.runtime.config import ConnectorConfig, parse_connector

DAY_MS = 86_400_000
DEFAULT_TICK_MS = 60_000
# A run setting's keyword (`doge run --tick`, `run(tick_ms=...)`) -> its connector config key.
SETTING_KEYS = {"users": "users", "seed": "seed", "ticks": "ticks", "start": "start.time",
                "tick_ms": "tick.ms", "shards": "shards", "pace": "pace"}


def setting_keys(values: Mapping[str, Any]) -> dict[str, str]:
    """The run settings among `values` (by keyword; None: not given) as connector config keys,
    with Connect's string values."""
    return {key: as_config_text(values[name]) for name, key in SETTING_KEYS.items()
            if values.get(name) is not None}


def as_config_text(value: Any) -> str:
    """A setting as Connect's text: 1e6 users is a whole number; a float that is not one stays
    as text (and the config refuses it where a whole number is needed)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def is_connector_document(doc: Document) -> bool:
    """A connector file ({"name", "config"}) rather than a model."""
    return isinstance(doc.data, dict) and "config" in doc.data


def connector_with(doc: Document, path: Path, keys: Mapping[str, str],
                   name: str | None) -> ConnectorConfig:
    """A connector file's config with `keys` overriding its own values (and `name` its name)."""
    assert isinstance(doc.data, dict)
    data = dict(doc.data)
    config = data["config"]
    if isinstance(config, dict):
        data["config"] = {**config, **keys}
    if name is not None:
        data["name"] = name
    return parse_connector(data, doc.file, path.resolve().parent, doc)


def model_run_keys(keys: Mapping[str, str], tick_ms: float | None) -> dict[str, str]:
    """A model run's connector keys: `keys`, else one simulated day of ticks."""
    out = dict(keys)
    # int(): the Python API may be given a whole float (60000.0).
    out.setdefault("ticks", str(max(1, DAY_MS // max(int(tick_ms or DEFAULT_TICK_MS), 1))))
    return out
