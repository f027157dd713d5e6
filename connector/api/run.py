"""`run`: a model or connector into a destination, committed and resumable, like `doge run`.

Destinations: a directory (Avro or JSON-lines files, the default `out/<name>`), `"-"` (JSON lines
on stdout), a PostgreSQL URL (`postgresql://...`, as `doge run --to`) or `Kafka(worker config)`.
Every shard runs in the calling process; run the same call again after an interruption and it
resumes where the last commit left off.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from connector.api.kafka import Kafka, in_process_destination
from connector.api.target import Settings, Target, simulation
from connector.api.values import user_errors
from connector.destinations.base import Destination
from connector.destinations.local import FORMATS, LocalDirectory
from connector.destinations.postgres import postgres_destination
from connector.destinations.postgres.conninfo import ENV_ONLY, SCHEMES
from connector.destinations.stdout import StdoutLines
from connector.errors import Problem, UserError
from connector.model import expr as ex
from connector.runtime.runner import Runner
from connector.runtime.simulation import Simulation
from connector.runtime.worker_config import WorkerConfig

Output = str | os.PathLike[str] | Kafka


@attrs.frozen
class RunResult:
    """What a run did: the next tick to produce (= ticks done in all), events by topic and by
    transition, and where they went."""

    next_tick: int
    events: int
    per_topic: dict[str, int]
    per_transition: dict[str, int]
    destination: str


@user_errors
def run(target: Target, destination: Output | None = None, *, format: str = "avro",
        users: int | None = None, ticks: int | None = None, seed: int | None = None,
        start: str | int | None = None, tick_ms: int | None = None, shards: int | None = None,
        pace: str | float | None = None, name: str | None = None,
        config: Mapping[str, Any] | None = None,
        functions: Sequence[ex.FunctionSpec] = ()) -> RunResult:
    """Run `target` (a Model, a model file or a connector file) into `destination` until its
    ticks are done, committing each tick with its offsets (Kafka: in one transaction).

    `destination`: a directory (default `out/<name>`; `format` "avro" or "jsonl"), "-" for
    JSON lines on stdout, a PostgreSQL URL (one table per topic; `postgres.*` connector keys in
    `config`, e.g. {"postgres.upsert.topics": "balance"}), or `Kafka(worker)`. Keywords
    override the connector's settings (see `simulate_batches`); `config` adds other connector
    keys (e.g. {"topic.prefix": "bank."}).
    A model runs one day of ticks as fast as possible unless `ticks` / `pace` say otherwise."""
    keys = dict(config or {})
    if isinstance(destination, Kafka):
        keys["tasks.max"] = "1"  # every shard in this process: one task
    settings = Settings(users=users, seed=seed, ticks=ticks, start=start, tick_ms=tick_ms,
                        shards=shards, pace=pace, name=name, config=keys)
    worker = destination.config() if isinstance(destination, Kafka) else None
    sim = simulation(target, settings, (*functions, *(worker.functions() if worker else ())))
    out, where = _destination(sim, destination, format, worker)
    runner = Runner(sim, out, list(range(sim.config.shards)))
    try:
        runner.resume()
        stats = runner.run()
    finally:
        out.close()
    return RunResult(runner.next_tick, stats.events, dict(Counter(stats.per_topic)),
                     dict(Counter(stats.per_transition)), where)


def _destination(sim: Simulation, destination: Output | None, fmt: str,
                 worker: WorkerConfig | None) -> tuple[Destination, str]:
    schemas = dict(sim.model.schemas)
    if worker is not None:
        return in_process_destination(worker, sim), f"kafka {worker.get('bootstrap.servers')}"
    if destination is not None and not isinstance(destination, str | os.PathLike):
        raise UserError([Problem(f"destination: expected a directory, '-', a PostgreSQL URL or "
                                 f"Kafka(...), got {type(destination).__name__}")])
    if destination is not None and os.fspath(destination) == "-":
        return StdoutLines(schemas), "stdout"
    if isinstance(destination, str) and destination.strip().startswith((*SCHEMES, *ENV_ONLY)):
        config = sim.config
        out = postgres_destination(config.name, config.raw, {}, sim.model,
                                   list(range(config.shards)), destination)
        return out, out.target.display
    if fmt not in FORMATS:
        raise UserError([Problem(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")])
    directory = Path(destination) if destination is not None else Path("out") / sim.config.name
    return LocalDirectory(directory, schemas, fmt), str(directory)
