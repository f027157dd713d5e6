"""A stable fingerprint of what a run's output is a function of: model, settings, seed."""

from __future__ import annotations

import hashlib
import json

import attrs

from connector.engine.settings import SimulationSettings
from connector.model.validate import ValidatedModel

# Bumped whenever the same model, settings and seed would give other bytes (how random numbers
# are drawn, what a tick does), so a run is never resumed by an engine that continues it
# differently. 2: movers sampled in proportion to the movers, BLAKE2b-seeded streams.
# 3: timestamp-micros/-nanos fields hold their schema's units (they held milliseconds).
ENGINE_OUTPUT_VERSION = 3


def run_fingerprint(model: ValidatedModel, settings: SimulationSettings) -> str:
    # Where files live does not change the output; their content does.
    spec = attrs.asdict(model.spec, recurse=True,
                        filter=lambda a, _: a.name not in ("file", "schema_file"))
    payload = json.dumps({"model": spec, "settings": attrs.asdict(settings),
                          "engine": ENGINE_OUTPUT_VERSION}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]
