"""Kafka Connect's `PUT /connector-plugins/{type}/config/validate` answer for our config keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connector.errors import UserError, hide_root
from connector.model.expr import FunctionSpec
from connector.runtime.config import CONNECTOR_CONFIG, parse_connector
from connector.runtime.simulation import check_destination, prepare

GROUP = "Simulation"


def validate_response(config: dict[str, Any], base_dir: Path,
                      functions: tuple[FunctionSpec, ...] = (), *, confined: bool = False
                      ) -> dict[str, Any]:
    """Every known key with its value and errors; model problems are reported on `model`."""
    errors: dict[str, list[str]] = {}
    name = str(config.get("name", "validate"))
    data = {"name": name, "config": {k: v for k, v in config.items() if k != "name"}}
    try:
        check_destination(prepare(parse_connector(data, None, base_dir, confined=confined),
                                  functions), {})
    except UserError as exc:
        if confined:  # the client named its files relative to models.dir
            exc = hide_root(exc, str(base_dir))
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
