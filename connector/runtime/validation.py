"""Kafka Connect's `PUT /connector-plugins/{type}/config/validate` answer for our config keys."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from connector.errors import UserError, hide_root
from connector.model.expr import FunctionSpec
from connector.runtime.config import CONNECTOR_CONFIG
from connector.runtime.providers import Providers, parse_resolved, scrubbed
from connector.runtime.simulation import Simulation, check_destination, prepare

GROUP = "Simulation"


def connector_data(name: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """A config given over REST as a connector document (its own `name` key taken out)."""
    return {"name": name, "config": {k: v for k, v in config.items() if k != "name"}}


def checked_simulation(data: dict[str, Any], file: str | None, base_dir: Path,
                       functions: tuple[FunctionSpec, ...], worker_values: Mapping[str, str],
                       providers: Providers, *, confined: bool) -> Simulation:
    """A connector document with its `${...}` references resolved, parsed, its model validated
    and its destination's keys checked, or a UserError (resolved secrets masked); `confined`:
    the client named its files relative to `base_dir` (models.dir), so problems show them so."""
    try:
        sim = prepare(parse_resolved(data, file, base_dir, providers, confined=confined),
                      functions)
        try:
            # The worker's own values hold `${...}` as written (tasks resolve them themselves).
            check_destination(sim, providers.resolve(worker_values, None))
        except UserError as exc:
            raise scrubbed(exc) from None
    except UserError as exc:
        if confined:
            raise hide_root(exc, str(base_dir)) from None
        raise
    return sim


def validate_response(config: dict[str, Any], base_dir: Path,
                      functions: tuple[FunctionSpec, ...] = (),
                      providers: Providers | None = None, *, confined: bool = False
                      ) -> dict[str, Any]:
    """Every known key with its value and errors; model problems are reported on `model`.
    `${...}` references are resolved for the checks; the answer shows them as written."""
    errors: dict[str, list[str]] = {}
    data = connector_data(str(config.get("name", "validate")), config)
    try:
        checked_simulation(data, None, base_dir, functions, {}, providers or Providers(),
                           confined=confined)
    except UserError as exc:
        for p in exc.errors:
            path = p.path or ""
            field = path.removeprefix("config.") if path.startswith("config.") else "model"
            errors.setdefault(field, []).append(p.render())
    configs: list[dict[str, Any]] = []
    names = CONNECTOR_CONFIG.names
    for order, key in enumerate(CONNECTOR_CONFIG.keys, start=1):
        value = config.get(key.name, key.default)
        value = value if isinstance(value, str | None) else str(value)
        configs.append({
            "definition": {"name": key.name, "type": key.type.value, "required": key.required,
                           "default_value": key.default, "importance": key.importance.value,
                           "documentation": key.doc, "group": GROUP, "width": "MEDIUM",
                           "display_name": key.name, "dependents": [], "order": order},
            "value": {"name": key.name, "value": key.shown(value), "recommended_values": [],
                      "errors": errors.pop(key.name, []), "visible": True}})
    for unknown, messages in errors.items():  # unknown keys: Connect lists them with their errors
        if unknown not in names:
            configs.append({"definition": {"name": unknown, "type": "STRING", "required": False,
                                           "default_value": None, "importance": "LOW",
                                           "documentation": "", "group": GROUP,
                                           "width": "NONE", "display_name": unknown,
                                           "dependents": [], "order": 0},
                            "value": {"name": unknown, "value": str(config.get(unknown)),
                                      "recommended_values": [], "errors": messages,
                                      "visible": True}})
    count = sum(len(c["value"]["errors"]) for c in configs)
    return {"name": "io.dogeconnect.DogeSourceConnector", "error_count": count,
            "groups": [GROUP], "configs": configs}
