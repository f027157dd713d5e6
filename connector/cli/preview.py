"""`doge preview CONNECTOR.json`: the first events of a few users, as a table, nothing written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from connector.cli.main import cli, friendly_errors, load_functions, plugin_option
from connector.core.columns import to_python
from connector.runtime.config import load_connector, resolve_start_ms
from connector.runtime.simulation import prepare


@cli.command("preview")
@click.argument("connector_file", type=click.Path(dir_okay=False))
@click.option("--users", "user_count", default=5, show_default=True,
              help="Show events of users 0..N-1.")
@click.option("--limit", default=30, show_default=True, help="At most this many rows.")
@click.option("--max-ticks", default=100_000, show_default=True,
              help="Stop simulating after this many ticks.")
@plugin_option
@friendly_errors
def preview_command(connector_file: str, user_count: int, limit: int, max_ticks: int,
                    plugins: tuple[str, ...]) -> None:
    """Simulate in memory and print the first events of the first users."""
    config = load_connector(connector_file)
    sim = prepare(config, load_functions(plugins))
    settings = sim.settings(resolve_start_ms(config))
    shards = [sim.shard(settings, s) for s in range(min(config.shards, max(user_count, 1)))]
    rows: list[tuple[Any, ...]] = []
    ticks = config.ticks if config.ticks is not None else max_ticks
    for _ in range(min(ticks, max_ticks)):
        for shard in shards:
            for e in shard.step().events:
                plain = {k: to_python(v) for k, v in e.fields.items()
                         if k not in ("user_id", "timestamp")}
                for i in range(len(e)):
                    if e.user_ids[i] < user_count:
                        value = {k: v[i] for k, v in plain.items()}
                        rows.append((int(e.timestamps[i]), int(e.user_ids[i]), e.transition,
                                     e.topic, value))
        if len(rows) >= limit:
            break
    rows.sort(key=lambda r: (r[0], r[1]))
    header = ("time", "user", "transition", "topic", "fields")
    table = [header] + [(_iso(t), str(u), tr, tp, " ".join(f"{k}={v}" for k, v in f.items()))
                        for t, u, tr, tp, f in rows[:limit]]
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    for row in table:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True))
                   + "  " + row[4])
    if not rows:
        click.echo(f"no events from users 0..{user_count - 1} in {ticks} ticks")


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
