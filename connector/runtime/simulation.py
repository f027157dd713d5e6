"""From a connector config to what runs: the validated model, its plan and the settings."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from connector.destinations.postgres.settings import postgres_settings
from connector.engine.plan import EnginePlan, build_plan
from connector.engine.settings import SimulationSettings
from connector.engine.shard import ShardEngine
from connector.errors import UserError
from connector.model import expr as ex
from connector.model.validate import ValidatedModel, validate_document
from connector.runtime.config import ConnectorConfig, DestinationKind

DEFAULT_USERS = 1000


@attrs.frozen
class Simulation:
    config: ConnectorConfig
    model: ValidatedModel
    plan: EnginePlan

    def settings(self, start_ms: int) -> SimulationSettings:
        c = self.config
        users = c.users if c.users is not None else (self.model.spec.population.users
                                                     or DEFAULT_USERS)
        return SimulationSettings(users=users, shards=c.shards, seed=c.seed, tick_ms=c.tick_ms,
                                  start_ms=start_ms)

    def shard(self, settings: SimulationSettings, shard: int) -> ShardEngine:
        return ShardEngine(self.plan, settings, shard)


def prepare(config: ConnectorConfig, functions: tuple[ex.FunctionSpec, ...] = ()) -> Simulation:
    """Validate the connector's model; raises UserError with every problem."""
    model = validate_document(config.model_document, config.model_dir, functions)
    return Simulation(config, model, build_plan(model, config.tick_ms))


def check_destination(sim: Simulation, worker_values: Mapping[str, str]) -> None:
    """Refuse what the connector's destination cannot take (e.g. a `postgres.upsert.topics`
    topic the model lacks, a malformed `postgres.url`) before it is stored, not in its tasks."""
    if sim.config.destination is not DestinationKind.POSTGRESQL:
        return
    try:
        postgres_settings(sim.config.raw, worker_values, sim.model.schemas)
    except UserError as exc:  # its messages name the key; the answer files them under this one
        raise UserError([attrs.evolve(p, file=p.file or sim.config.file,
                                      path=p.path or "config.destination")
                         for p in exc.problems]) from None
