"""A stable fingerprint of what a run's output is a function of: model, settings, seed."""

from __future__ import annotations

import hashlib
import json

import attrs

from connector.engine.settings import SimulationSettings
from connector.model.validate import ValidatedModel


def run_fingerprint(model: ValidatedModel, settings: SimulationSettings) -> str:
    # Where files live does not change the output; their content does.
    spec = attrs.asdict(model.spec, recurse=True,
                        filter=lambda a, _: a.name not in ("file", "schema_file"))
    payload = json.dumps({"model": spec, "settings": attrs.asdict(settings)}, sort_keys=True,
                         default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]
