"""What `simulate` and `run` accept: a Model, a model file or a connector file, plus settings.

Settings given as keywords are connector config keys (`users`, `seed`, `start.time`...), so a
Model runs with exactly the connector semantics; they override a connector file's own values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from connector.api.model import Model
from connector.errors import Problem, UserError
from connector.model import expr as ex
from connector.model.source import load_file
from connector.runtime.config import ConnectorConfig, parse_connector
from connector.runtime.plugins import load_plugins
from connector.runtime.simulation import Simulation, prepare
from connector.runtime.targets import (
    as_config_text,
    connector_with,
    is_connector_document,
    model_run_keys,
    setting_keys,
)

Target = Model | str | os.PathLike[str]


@attrs.frozen
class Settings:
    """The keywords a caller gave (None: not given), plus any raw connector config keys."""

    users: int | None = None
    seed: int | None = None
    ticks: int | None = None
    start: str | int | None = None
    tick_ms: int | None = None
    shards: int | None = None
    pace: str | float | None = None
    name: str | None = None
    config: Mapping[str, Any] = attrs.field(factory=dict)

    def keys(self) -> dict[str, str]:
        """As connector config keys, with Connect's string values."""
        out = {str(k): as_config_text(v) for k, v in self.config.items()}
        out.update(setting_keys(attrs.asdict(self, recurse=False)))
        return out


def connector_for(target: Target, settings: Settings) -> ConnectorConfig:
    """The connector config that runs `target` with `settings`."""
    if isinstance(target, Model):
        return _model_connector(target, settings)
    if not isinstance(target, str | os.PathLike):
        raise UserError([Problem(f"expected a Model, a model file or a connector file, got "
                                 f"{type(target).__name__}")])
    path = Path(target)
    doc = load_file(path)
    if not is_connector_document(doc):
        return _model_connector(Model.load(path), settings)
    return connector_with(doc, path, settings.keys(), settings.name)


def _model_connector(model: Model, settings: Settings) -> ConnectorConfig:
    """A connector for a Model, as `doge run MODEL` makes one: one day of ticks as fast as
    possible unless told otherwise."""
    document = model._document()
    keys = model_run_keys(settings.keys(), settings.tick_ms)
    data = {"name": settings.name or model.name, "config": {"model": document.data, **keys}}
    config = parse_connector(data, None, model.base_dir)
    # The model keeps its own document: problems found later still name the builder's lines.
    return attrs.evolve(config, model_document=document, model_dir=model.base_dir)


def simulation(target: Target, settings: Settings,
               functions: Sequence[ex.FunctionSpec] = ()) -> Simulation:
    """The validated simulation of `target` (UserError listing every problem otherwise)."""
    return prepare(connector_for(target, settings), _functions(functions))


def _functions(given: Sequence[ex.FunctionSpec]) -> tuple[ex.FunctionSpec, ...]:
    """The caller's plugin functions plus installed ones (entry points), as `doge run` has."""
    installed = [f for f in load_plugins([]) if f.name not in {g.name for g in given}]
    return (*given, *installed)
