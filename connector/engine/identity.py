"""A stable fingerprint of what a run's output is a function of: model, settings, seed."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import attrs

from connector.core.types import ValueType
from connector.engine.settings import SimulationSettings
from connector.model.expr.pools import identity as pool_identity
from connector.model.expr.portable import calls_portable_math
from connector.model.expr.valuefns import pools_of
from connector.model.spec import OMIT_IF_DEFAULT
from connector.model.validate import ValidatedModel, all_expressions

# Bumped whenever the same model, settings and seed would give other bytes (how random numbers
# are drawn, what a tick does), so a run is never resumed by an engine that continues it
# differently. 2: movers sampled in proportion to the movers, BLAKE2b-seeded streams.
ENGINE_OUTPUT_VERSION = 2
# timestamp-micros/-nanos fields once held milliseconds; since they hold their own units, a run of
# a model with such fields is a new run (other models' fingerprints, and output, are unchanged).
_SCALED_TIMES = "timestamps-in-schema-units"
# lognormal(), '**' and round(x, n) once used numpy's exp/pow, whose AVX-512 kernels round some
# values differently from other CPUs; since they use the C library's (model/expr/portable.py), a
# run of a model calling them is a new run (other models' fingerprints, and output, unchanged).
_PORTABLE_MATH = "c-library-exp-pow"


def run_fingerprint(model: ValidatedModel, settings: SimulationSettings) -> str:
    spec = attrs.asdict(model.spec, recurse=True, filter=_kept, value_serializer=_spelled)
    payload: dict[str, object] = {"model": spec, "settings": attrs.asdict(settings),
                                  "engine": ENGINE_OUTPUT_VERSION}
    pools = {p for e in all_expressions(model) for p in pools_of(e.tree)}
    if pools:  # fake() values: the library version and the pools' contents (builds them)
        payload["values"] = pool_identity(pools)
    if any(f.units_per_ms != 1 for s in model.schemas.values() for f in s.fields):
        payload["fix"] = _SCALED_TIMES
    if any(calls_portable_math(e.node) for e in all_expressions(model)):
        payload["math"] = _PORTABLE_MATH
    encoded = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()[:32]


def _kept(attribute: attrs.Attribute[Any], value: Any) -> bool:
    """Where files live does not change the output; optional features left at their default
    are left out, so adding one does not change the fingerprint of models that do not use it."""
    if attribute.name in ("file", "schema_file"):
        return False
    return not (attribute.metadata.get(OMIT_IF_DEFAULT) and value == attribute.default)


def _spelled(instance: object, field: object, value: Any) -> Any:
    """Types as the model file spells them (`long`), as fingerprints always named them."""
    return value.spelling if isinstance(value, ValueType) else value
