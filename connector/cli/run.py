"""`doge run CONNECTOR.json`: the simulation into a local directory (or stdout), resumable."""

from __future__ import annotations

import datetime as dt
import signal
import sys
import time
from pathlib import Path
from types import FrameType

import click

from connector.cli.main import cli, friendly_errors, load_functions, plugin_option
from connector.destinations.base import Destination
from connector.destinations.local import FORMATS, LocalDirectory
from connector.destinations.postgres import PostgresDestination, postgres_destination
from connector.destinations.stdout import StdoutLines
from connector.errors import UserError
from connector.runtime.config import load_connector
from connector.runtime.runner import Runner
from connector.runtime.simulation import Simulation, prepare


@cli.command("run")
@click.argument("connector_file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", help="Output directory (default out/<connector name>); - for "
              "JSON lines on stdout.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="avro", show_default=True,
              help="Avro object container files or JSON lines, one file per topic.")
@click.option("--to", "to", metavar="URL", help="Write to PostgreSQL instead: a libpq URL "
              "postgresql://user:password@host:port/db, or postgres: for the PG* variables.")
@click.option("--upsert", multiple=True, metavar="TOPIC[:FIELD+...]", help="With --to: keep one "
              "row per user (and fields) with the latest values in this topic's table; "
              "repeatable.")
@click.option("--ticks", type=click.IntRange(min=0), help="Override the connector's `ticks`.")
@click.option("-q", "--quiet", is_flag=True, help="No progress line.")
@plugin_option
@friendly_errors
def run_command(connector_file: str, output: str | None, fmt: str, to: str | None,
                upsert: tuple[str, ...], ticks: int | None, quiet: bool,
                plugins: tuple[str, ...]) -> None:
    """Run a connector on the embedded local destination (no Kafka needed).

    Each tick is committed atomically with an offsets file; run the same command again after an
    interruption and it resumes exactly where it stopped.
    """
    config = load_connector(connector_file)
    sim = prepare(config, load_functions(plugins))
    schemas = {t: sim.model.schemas[t] for t in sim.model.schemas}
    destination: Destination
    if to is not None or upsert:
        destination = _postgres(to, upsert, output, sim)
        output = destination.target.display
    elif output == "-":
        destination = StdoutLines(schemas)
        quiet = True
    else:
        destination = LocalDirectory(Path(output or f"out/{config.name}"), schemas, fmt)
    progress = None if quiet or not sys.stderr.isatty() else _Progress(ticks or config.ticks)
    runner = Runner(sim, destination, list(range(config.shards)),
                    on_progress=progress.update if progress else None)

    def stop(signum: int, frame: FrameType | None) -> None:
        runner.stop()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        start_tick = runner.resume()
        if start_tick and not quiet:
            click.echo(f"resuming connector '{config.name}' at tick {start_tick}", err=True)
        runner.run(ticks)
    finally:
        destination.close()
    if progress:
        progress.finish()
    if output != "-" or not quiet:
        _summary(runner, output or f"out/{config.name}")


def _postgres(to: str | None, upsert: tuple[str, ...], output: str | None,
              sim: Simulation) -> PostgresDestination:
    """`--to postgresql://...`: every shard into one PostgreSQL database."""
    if to is None:
        raise UserError("--upsert needs --to postgresql://...")
    if output is not None:
        raise UserError("--to and --output are two destinations; choose one")
    config = sim.config
    return postgres_destination(config.name, config.raw, {}, sim.model,
                                list(range(config.shards)), to, upsert)


class _Progress:
    """A single refreshed stderr line: ticks done, simulated time, events/s."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.last = 0.0

    def update(self, runner: Runner) -> None:
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        stats = runner.stats
        elapsed = max(now - stats.started, 1e-9)
        sim_time = _iso(runner.start_ms + runner.next_tick * runner.sim.config.tick_ms)
        done = f"{runner.next_tick}/{self.total}" if self.total else str(runner.next_tick)
        bar = ""
        if self.total:
            filled = int(30 * runner.next_tick / self.total)
            bar = "[" + "#" * filled + "." * (30 - filled) + "] "
        click.echo(f"\r{bar}tick {done}  {sim_time}  {stats.events / elapsed:,.0f} events/s  ",
                   err=True, nl=False)

    def finish(self) -> None:
        click.echo("", err=True)


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M")


def _summary(runner: Runner, output: str) -> None:
    stats = runner.stats
    elapsed = max(time.monotonic() - stats.started, 1e-9)
    reached = _iso(runner.start_ms + runner.next_tick * runner.sim.config.tick_ms)
    lines = [f"{'stopped' if runner.stopping else 'done'}: connector '{runner.sim.config.name}' "
             f"at tick {runner.next_tick} ({reached}), "
             f"{stats.events:,} events in {elapsed:.1f}s ({stats.events / elapsed:,.0f}/s), "
             f"{stats.commits} commits"]
    if output != "-":
        lines.append(f"output: {output}")
    lines.append("events per topic:")
    lines += [f"  {topic:<24} {count:>12,}" for topic, count in sorted(stats.per_topic.items())]
    lines.append("events per transition:")
    lines += [f"  {name:<24} {count:>12,}" for name, count in sorted(stats.per_transition.items())]
    if runner.stopping:
        lines.append("run the same command again to resume")
    click.echo("\n".join(lines), err=True)
