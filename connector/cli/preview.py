"""`doge preview CONNECTOR | MODEL | QUICKSTART`: the first moves of a few users as a table, each
with the state before -> after and its events; nothing is written. `--all` adds the moves that
emit nothing (a login after a login is a silent logout in between)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import attrs
import click
import numpy as np

from connector.cli.functions import load_functions, plugin_option
from connector.cli.inputs import load_target, overrides_from, run_options
from connector.cli.main import cli, friendly_errors
from connector.core.batch import TickBatch
from connector.core.columns import take, to_python
from connector.engine.shard import ShardEngine, step_shards
from connector.runtime.config import resolve_start_ms
from connector.runtime.simulation import prepare

HIDDEN = ("user_id", "timestamp")  # already in the time and user columns


@attrs.frozen
class Row:
    time_ms: int
    user: int
    transition: str
    before: str
    after: str
    topic: str
    fields: str


@cli.command("preview")
@click.argument("target", metavar="CONNECTOR|MODEL|QUICKSTART")
@run_options
@click.option("--show", default=5, show_default=True, type=click.IntRange(1, 10_000),
              help="Show users 0..N-1.")
@click.option("--all", "all_moves", is_flag=True, help="Also moves that emit no event.")
@click.option("--limit", default=30, show_default=True, type=click.IntRange(1, 1_000_000),
              help="At most this many rows.")
@click.option("--max-ticks", default=100_000, show_default=True,
              type=click.IntRange(1, 10_000_000), help="Stop simulating after this many ticks.")
@plugin_option
@friendly_errors
def preview_command(target: str, show: int, all_moves: bool, limit: int, max_ticks: int,
                    plugins: tuple[str, ...], **kwargs: Any) -> None:
    """Simulate in memory and print the first moves of the first users."""
    overrides = overrides_from(kwargs)
    config = load_target(target, overrides)
    sim = prepare(config, load_functions(plugins))
    settings = sim.settings(resolve_start_ms(config))
    show = min(show, settings.users)
    engines = [sim.shard(settings, s) for s in range(min(config.shards, max(show, 1)))]
    ticks = overrides.ticks if overrides.ticks is not None else config.ticks
    rows: list[Row] = []
    for _ in range(min(ticks if ticks is not None else max_ticks, max_ticks)):
        before = _states(engines, show)
        for batch in step_shards(engines):
            rows += _rows(batch, engines, before, show, all_moves)
        if len(rows) >= limit:
            break
    rows.sort(key=lambda r: (r.time_ms, r.user))
    table = [("time", "user", "transition", "state", "topic", "fields")] + [
        (_iso(r.time_ms), str(r.user), r.transition, f"{r.before} -> {r.after}", r.topic,
         r.fields) for r in rows[:limit]]
    widths = [max(len(r[i]) for r in table) for i in range(5)]
    for row in table:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row[:5], widths, strict=True))
                   + "  " + row[5])
    if not rows:
        click.echo(f"no {'moves' if all_moves else 'events'} of users 0..{show - 1} in the "
                   "ticks simulated" + ("" if all_moves else " (--all shows silent moves)"))


def _states(engines: list[ShardEngine], show: int) -> dict[int, str]:
    """The state of each shown user now (user u is row u // shards of shard u % shards)."""
    shards = engines[0].settings.shards if engines else 1
    out = {}
    for user in range(show):
        engine = engines[user % shards]
        out[user] = engine.plan.state_names[int(engine.population.state[user // shards])]
    return out


def _rows(batch: TickBatch, engines: list[ShardEngine], before: dict[int, str], show: int,
          all_moves: bool) -> list[Row]:
    time_ms = engines[0].settings.tick_time_ms(batch.tick)
    shards = engines[0].settings.shards
    events: dict[tuple[int, str], list[tuple[str, str]]] = {}
    for e in batch.events:
        shown = np.flatnonzero(e.user_ids < show)
        if not shown.size:
            continue
        plain = {k: to_python(take(v, shown)) for k, v in e.fields.items() if k not in HIDDEN}
        for j, i in enumerate(shown.tolist()):
            fields = " ".join(f"{k}={_plain(v[j])}" for k, v in plain.items())
            events.setdefault((int(e.user_ids[i]), e.transition), []).append((e.topic, fields))
    rows = []
    for m in batch.moves:
        for user in m.user_ids[m.user_ids < show].tolist():
            engine = engines[user % shards]
            after = engine.plan.state_names[int(engine.population.state[user // shards])]
            emitted = events.get((user, m.transition))
            if emitted:
                rows += [Row(time_ms, user, m.transition, before[user], after, topic, fields)
                         for topic, fields in emitted]
            elif all_moves:
                rows.append(Row(time_ms, user, m.transition, before[user], after, "-",
                                "(silent: emits nothing)"))
    return rows


def _plain(value: Any) -> str:
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float):
        return f"{value:.2f}" if value == 0 or abs(value) >= 0.01 else f"{value:.3g}"
    if isinstance(value, dict | list):  # a nested record, array or map: as JSON
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return str(value)


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
