"""`doge run CONNECTOR | MODEL | QUICKSTART`: the simulation into a local directory (or stdout),
resumable, with progress and Unix exit codes (0 done, 2 bad input, 130 Ctrl-C, 143 SIGTERM;
after a signal the run stops once the tick in hand is committed)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import click

from connector.cli.functions import load_functions, plugin_option
from connector.cli.inputs import load_target, overrides_from, run_options
from connector.cli.main import cli, friendly_errors
from connector.cli.progress import LiveProgress, PlainProgress, Reporter
from connector.cli.summary import finished, summary
from connector.destinations.base import Destination
from connector.destinations.local import CODECS, FORMATS, LocalDirectory
from connector.destinations.postgres import PostgresDestination, postgres_destination
from connector.destinations.stdout import StdoutLines
from connector.errors import Problem, UserError
from connector.runtime.config import DestinationKind
from connector.runtime.runner import Runner
from connector.runtime.simulation import Simulation, prepare


@cli.command("run")
@click.argument("target", metavar="CONNECTOR|MODEL|QUICKSTART")
@click.option("-o", "--output", help="Output directory (default out/<connector name>); - for "
              "JSON lines on stdout.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="avro", show_default=True,
              help="Avro object container files, JSON lines or Parquet, one per topic.")
@click.option("--codec", type=click.Choice(CODECS), default="null", show_default=True,
              help="Compression of Avro blocks or Parquet pages (zstd: smallest).")
@click.option("--to", "to", metavar="URL", help="Write to PostgreSQL instead: a libpq URL "
              "postgresql://user:password@host:port/db, or postgres: for the PG* variables.")
@click.option("--upsert", multiple=True, metavar="TOPIC[:FIELD+...]", help="With --to: keep one "
              "row per user (and fields) with the latest values in this topic's table; "
              "repeatable.")
@run_options
@click.option("--reset", is_flag=True, help="Start over: delete what an earlier run of this "
              "connector left in the output directory first.")
@click.option("-q", "--quiet", is_flag=True, help="No progress and no summary.")
@click.option("--progress-interval", type=click.FloatRange(min=0.1), default=10.0,
              show_default=True, help="Seconds between progress lines when stderr is not a "
                                      "terminal.")
@plugin_option
@friendly_errors
def run_command(target: str, output: str | None, fmt: str, codec: str, to: str | None,
                upsert: tuple[str, ...], reset: bool, quiet: bool, progress_interval: float,
                plugins: tuple[str, ...], **kwargs: Any) -> None:
    """Run a connector, a model file or a built-in quickstart (`doge quickstarts`) on the
    embedded local destination (no Kafka needed), or into PostgreSQL with --to.

    Each tick is committed atomically with an offsets file; run the same command again after an
    interruption and it resumes exactly where it stopped. A model given directly simulates one
    day as fast as possible unless --ticks / --pace say otherwise.
    """
    overrides = overrides_from(kwargs)
    config = load_target(target, overrides)
    sim = prepare(config, load_functions(plugins))
    destination, where = _destination(sim, output, fmt, codec, to, upsert)
    if reset:
        if not isinstance(destination, LocalDirectory):
            destination.close()
            raise UserError("--reset starts over in a local output directory (-o DIR) only")
        destination.reset()
    quiet = quiet or output == "-"
    total = overrides.ticks if overrides.ticks is not None else config.ticks
    reporter = None if quiet else _reporter(total, progress_interval)
    runner = Runner(sim, destination, list(range(config.shards)),
                    on_progress=reporter.update if reporter else None)
    signals = _StopOnSignal(runner)
    try:
        start_tick = _resume(runner, where)
        if total is not None and start_tick >= total:
            if not quiet:
                click.echo(finished(runner, start_tick, where), err=True)
            return
        if start_tick and not quiet:
            click.echo(f"resuming connector '{config.name}' at tick {start_tick:,}", err=True)
        if reporter:
            reporter.start(runner)
        runner.run(overrides.ticks)
    finally:
        destination.close()
        signals.restore()
    if reporter:
        reporter.finish(runner)
    if not quiet:
        click.echo(summary(runner, where, stopped=signals.received is not None), err=True)
    if signals.received is not None:
        sys.exit(128 + signals.received)


def _resume(runner: Runner, where: str | None) -> int:
    """Resume from what the output holds; if a local directory cannot be continued, say how to
    start over."""
    try:
        return runner.resume()
    except UserError as exc:
        if where is None or not isinstance(runner.destination, LocalDirectory):
            raise
        hint = Problem(f"to start over in {where}, run the same command with --reset",
                       severity="warning")
        raise UserError([*exc.problems, hint]) from None


def _postgres(to: str | None, upsert: tuple[str, ...], output: str | None,
              sim: Simulation) -> PostgresDestination:
    """`--to postgresql://...` (or the connector's `destination=postgresql`): every shard into
    one PostgreSQL database."""
    if to is None and sim.config.destination is not DestinationKind.POSTGRESQL:
        raise UserError("--upsert needs --to postgresql://... (or a connector with "
                        "destination=postgresql)")
    if output is not None:
        raise UserError("--to and --output are two destinations; choose one")
    config = sim.config
    return postgres_destination(config.name, config.raw, {}, sim.model,
                                list(range(config.shards)), to, upsert)


def _destination(sim: Simulation, output: str | None, fmt: str, codec: str, to: str | None,
                 upsert: tuple[str, ...]) -> tuple[Destination, str | None]:
    """Where the events go, and how to name it to the user (None: stdout)."""
    schemas = dict(sim.model.schemas)
    if to is not None or upsert or (output is None and
                                     sim.config.destination is DestinationKind.POSTGRESQL):
        postgres = _postgres(to, upsert, output, sim)
        return postgres, postgres.target.display
    if output == "-":
        return StdoutLines(schemas), None
    directory = output or _default_output(sim.config.name)
    return LocalDirectory(Path(directory), schemas, fmt, codec), directory


def _default_output(name: str) -> str:
    if Path(name).name != name or name in (".", ".."):
        raise UserError([Problem(f"the connector name {name!r} cannot name an output directory; "
                                 "give one with -o DIR (or --name)")])
    return f"out/{name}"


def _reporter(total: int | None, interval: float) -> Reporter:
    if sys.stderr.isatty():
        return LiveProgress(total)
    return PlainProgress(total, interval)


class _StopOnSignal:
    """SIGINT and SIGTERM stop the run after its current commit; a second one exits at once
    (what is not committed is dropped on the next start, so nothing is half-written)."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.received: int | None = None
        self.previous = {s: signal.signal(s, self._handle) for s in (signal.SIGINT,
                                                                    signal.SIGTERM)}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            os._exit(128 + signum)
        self.received = signum
        self.runner.stop()

    def restore(self) -> None:
        for s, handler in self.previous.items():
            signal.signal(s, handler)
