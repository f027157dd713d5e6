"""PostgreSQL destination: one table per topic, binary COPY, offsets in the same transaction.

`postgres_destination` is the one factory both `doge run --to postgresql://...` and a worker task
use: it takes the connector's and the worker's settings as they are and the model they run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from connector.destinations.postgres.destination import PostgresDestination
from connector.destinations.postgres.settings import POSTGRES_KEYS, postgres_settings
from connector.model.validate import ValidatedModel


def postgres_destination(connector: str, connector_config: Mapping[str, str],
                         worker_config: Mapping[str, str], model: ValidatedModel,
                         shards: list[int], url: str | None = None,
                         upsert: Iterable[str] = ()) -> PostgresDestination:
    """The destination of `shards` of connector `connector`.

    `connector_config` are its raw settings (`postgres.*` keys), `worker_config` the worker's
    (`postgres.url` as a fallback), `url` and `upsert` the CLI's `--to` and `--upsert` (which take
    precedence / add to the config's).
    """
    settings = postgres_settings(connector_config, worker_config, model.schemas, url, upsert)
    final = {t.name for t in model.spec.transitions if t.target in model.spec.final}
    return PostgresDestination(settings, connector, model.schemas, shards, final)


__all__ = ["POSTGRES_KEYS", "PostgresDestination", "postgres_destination"]
