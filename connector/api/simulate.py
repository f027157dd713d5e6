"""`simulate` and `simulate_batches`: a model's events in memory, as Arrow tables per topic.

The shards are stepped together tick by tick exactly as `doge run` steps them, so the rows of a
topic are those `doge run --format jsonl` writes to that topic's file, in the same order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import attrs
import pyarrow as pa

from connector.api.arrow import to_table
from connector.api.target import Settings, Target, simulation
from connector.api.values import user_errors
from connector.core.batch import EventColumns
from connector.engine.shard import step_shards
from connector.errors import Problem, UserError
from connector.model import expr as ex
from connector.runtime.config import resolve_start_ms
from connector.runtime.simulation import Simulation


@attrs.frozen
class Batch:
    """The events of ticks `first_tick .. first_tick + ticks - 1`: one table per topic (every
    topic of the model, empty ones included)."""

    first_tick: int
    ticks: int
    tables: dict[str, pa.Table]


@user_errors
def simulate_batches(target: Target, *, users: int | None = None, ticks: int | None = None,
                     seed: int | None = None, start: str | int | None = None,
                     tick_ms: int | None = None, shards: int | None = None,
                     batch_ticks: int = 1, name: str | None = None,
                     functions: Sequence[ex.FunctionSpec] = ()) -> Iterator[Batch]:
    """Simulate `target` (a Model, a model file or a connector file) and yield its events every
    `batch_ticks` ticks, holding no more than one batch in memory.

    Settings default to the connector's (a model: its `population.users` else 1000 users, seed
    1, one-minute ticks, one day of ticks, shards 8, `start` now); `start` is ISO-8601 or epoch
    milliseconds. `functions` are plugin functions (FunctionSpec) the model may call, besides
    installed ones."""
    if isinstance(batch_ticks, bool) or not isinstance(batch_ticks, int) or batch_ticks < 1:
        raise UserError([Problem(f"batch_ticks: expected a whole number >= 1, got "
                                 f"{batch_ticks!r}")])
    sim = simulation(target, Settings(users=users, seed=seed, ticks=ticks, start=start,
                                      tick_ms=tick_ms, shards=shards, name=name), functions)
    if sim.config.ticks is None:
        raise UserError([Problem("the connector runs forever (no `ticks`); give ticks=N",
                                 file=sim.config.file, path="config.ticks")])
    return _batches(sim, sim.config.ticks, batch_ticks)


def _batches(sim: Simulation, ticks: int, batch_ticks: int) -> Iterator[Batch]:
    """The run's events, `batch_ticks` ticks at a time (ticks=0: one empty batch)."""
    settings = sim.settings(resolve_start_ms(sim.config))
    engines = [sim.shard(settings, s) for s in range(sim.config.shards)]
    schemas = sim.model.schemas
    for first in range(0, max(ticks, 1), batch_ticks):
        count = min(batch_ticks, ticks - first)
        staged: dict[str, list[tuple[int, EventColumns]]] = {topic: [] for topic in schemas}
        for _ in range(count):
            for batch in step_shards(engines):
                for events in batch.events:
                    staged[events.topic].append((batch.tick, events))
        yield Batch(first, count, {t: to_table(schemas[t], staged[t]) for t in schemas})


@user_errors
def simulate(target: Target, *, users: int | None = None, ticks: int | None = None,
             seed: int | None = None, start: str | int | None = None,
             tick_ms: int | None = None, shards: int | None = None, name: str | None = None,
             functions: Sequence[ex.FunctionSpec] = ()) -> dict[str, pa.Table]:
    """All events of a run of `target` as one Arrow table per topic (`table.to_pandas()` gives
    a DataFrame). The same settings as `simulate_batches`; the rows equal those `doge run`
    writes with the same settings. For long runs use `simulate_batches`."""
    tables: dict[str, list[pa.Table]] = {}
    for batch in simulate_batches(target, users=users, ticks=ticks, seed=seed, start=start,
                                  tick_ms=tick_ms, shards=shards, batch_ticks=64, name=name,
                                  functions=functions):
        for topic, table in batch.tables.items():
            tables.setdefault(topic, []).append(table)
    return {topic: pa.concat_tables(parts) for topic, parts in tables.items()}
