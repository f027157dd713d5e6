"""Shared test helpers: the repository's paths and model files written from Python data."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
MODELS = ROOT / "config" / "models"


def banking_model() -> dict[str, Any]:
    """The banking example as data, with an absolute schemas path so it works from tmp dirs."""
    data: dict[str, Any] = yaml.safe_load((MODELS / "banking.yaml").read_text())
    data["schemas"] = str(SCHEMAS)
    return copy.deepcopy(data)


def write_model(tmp: Path, data: dict[str, Any], name: str = "model.yaml") -> Path:
    path = tmp / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def write_connector(tmp: Path, model: Path | dict[str, Any] | str, **config: Any) -> Path:
    """A connector JSON file for `model` with string values, as Kafka Connect would hold them."""
    body: dict[str, Any] = {"connector.class": "io.dogeconnect.DogeSourceConnector",
                            "model": str(model) if isinstance(model, Path) else model,
                            "start.time": "2024-01-01T00:00:00Z", "pace": "max"}
    body.update({k.replace("_", "."): str(v) for k, v in config.items()})
    path = tmp / "connector.json"
    path.write_text(json.dumps({"name": "test", "config": body}, indent=2))
    return path


def model_file(tmp: Path, body: dict[str, Any], schemas: dict[str, dict[str, Any]] | None = None
               ) -> Path:
    """Write a small model with inline Avro schemas for its topics (default: one `events`)."""
    data = dict(body)
    topics = schemas if schemas is not None else {"events": EVENT_SCHEMA}
    data.setdefault("topics", {name: {"schema": s} for name, s in topics.items()})
    return write_model(tmp, data)


EVENT_SCHEMA: dict[str, Any] = {
    "type": "record", "name": "Event", "namespace": "test",
    "fields": [{"name": "user_id", "type": "long"},
               {"name": "event", "type": "string"},
               {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"}}],
}
