"""`doge analyze CONNECTOR | MODEL | QUICKSTART`: what a model will produce, before running it."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import textwrap
from typing import Any

import click

from connector.analysis import Analyser, Analysis, AnalysisSettings, solve_users
from connector.analysis.chain import Verdict
from connector.cli.functions import load_functions, plugin_option
from connector.cli.inputs import load_target, overrides_from, run_options
from connector.cli.main import cli, friendly_errors
from connector.errors import Problem, UserError
from connector.runtime.config import ConnectorConfig, resolve_start_ms
from connector.runtime.simulation import Simulation, prepare

WEEK_MS = 7 * 86_400_000


def settings_for(sim: Simulation, config: ConnectorConfig, users: int | None = None
                 ) -> AnalysisSettings:
    """The connector's population, tick and start; its ticks as the horizon (a week if none)."""
    start = resolve_start_ms(config)
    ticks = config.ticks if config.ticks else max(1, WEEK_MS // config.tick_ms)
    population = sim.settings(start).users if users is None else users
    return AnalysisSettings(population, config.tick_ms, start, ticks)


@cli.command("analyze")
@click.argument("target", metavar="CONNECTOR|MODEL|QUICKSTART")
@run_options
@click.option("--target-events-per-second", "target_rate", type=float, metavar="R",
              help="Solve for the users giving R events/s on average over the horizon.")
@click.option("--topic", help="With --target-events-per-second: count this topic only.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@plugin_option
@friendly_errors
def analyze_command(target: str, target_rate: float | None, topic: str | None, as_json: bool,
                    plugins: tuple[str, ...], **kwargs: Any) -> None:
    """Expected events/s and bytes/s per topic, users per state, transitions per user per day
    and the per-tick transition matrix, computed from the model (no simulation).

    Figures are for the connector's users, tick and start time, over its ticks (a week if it
    runs forever); --users --tick --start --ticks change them.
    """
    overrides = overrides_from(kwargs)
    config = load_target(target, overrides)
    sim = prepare(config, load_functions(plugins))
    analyser = Analyser(sim.model, config.tick_ms, sim.plan)
    settings = settings_for(sim, config)
    if topic is not None and topic not in analyser.topic_names:
        raise UserError([Problem(f"unknown topic {topic!r}; topics: "
                                 f"{', '.join(analyser.topic_names)}")])
    if target_rate is not None:
        if not math.isfinite(target_rate) or target_rate <= 0:
            raise UserError([Problem("--target-events-per-second: expected a positive number, "
                                     f"got {target_rate!r}")])
        users = solve_users(analyser, settings, target_rate, topic)
        settings = settings_for(sim, config, users)
    analysis = analyser.analyze(settings)
    if as_json:
        data = analysis.to_json()
        if target_rate is not None:
            data["target"] = {"events_per_second": target_rate, "topic": topic,
                              "users": settings.users}
        click.echo(json.dumps(data, indent=1, allow_nan=False))
        return
    if target_rate is not None:
        click.echo(f"users for {target_rate:,.6g} events/s"
                   f"{' to ' + topic if topic else ''}: {settings.users:,}\n")
    click.echo(render(analysis))


def render(a: Analysis) -> str:
    s = a.settings
    days = s.ticks * s.tick_ms / 86_400_000
    out = [f"model {a.model}" + (f" ({_shown(a.file)})" if a.file else ""),
           f"expected values for users={s.users:,}, tick {_duration(s.tick_ms)}, "
           f"{s.ticks:,} ticks ({days:.3g} day{'' if days == 1 else 's'}) from "
           f"{_iso(s.start_ms)}; computed from the model, not simulated", ""]
    out += [*_transitions(a), "", *_matrix(a), "", *_states(a), "", *_topics(a)]
    notes = [t for t in a.transitions if t.condition.verdict is not Verdict.NONE]
    if notes:
        out += ["", "conditions:"]
        for t in notes:
            out += textwrap.wrap(f"{t.name}: {t.condition.condition!r} "
                                 f"({t.condition.verdict.value}): {t.condition.reason}",
                                 width=100, initial_indent="  ", subsequent_indent="    ")
    out += ["", *textwrap.wrap("bytes: " + _size_note(), width=100)]
    return "\n".join(out)


def _shown(path: str) -> str:
    """A path relative to the working directory when it is inside it."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _transitions(a: Analysis) -> list[str]:
    width = max(len(t.name) for t in a.transitions)
    rows = ["transitions (chance per tick: week average / peak hour; per active user per day; "
            "over the horizon):"]
    for t in a.transitions:
        mark = "<=" if t.condition.verdict in (Verdict.UPPER_BOUND, Verdict.UNBOUNDED) else "  "
        move = f"{'/'.join(t.sources)} -> {t.target}"
        emits = ", ".join(t.emits) or "silent"
        rows.append(f"  {t.name:<{width}}  {move:<28} {mark}{_pct(t.chance_avg):>9} /"
                    f"{_pct(t.chance_peak):>9}  {t.per_user_day:>10.4g}/day "
                    f"{t.moves:>14,.0f}  -> {emits}")
    return rows


def _matrix(a: Analysis) -> list[str]:
    names = [s.name for s in a.states]
    corner = "from \\ to"
    width = max(len(n) for n in [*names, corner])
    col = max(10, *(len(n) for n in names))
    head = f"  {corner:<{width}}  " + "  ".join(f"{n:>{col}}" for n in names)
    out = ["per-tick transition matrix, week average (<=: at most, a condition may stop the move):",
           head]
    for i, row in enumerate(a.matrix_avg):
        cells = [("<=" if a.matrix_bound[i][j] else "") + _pct(v) if v else "."
                 for j, v in enumerate(row)]
        out.append(f"  {names[i]:<{width}}  " + "  ".join(f"{c:>{col}}" for c in cells))
    if not math.isclose(max(map(max, a.matrix_peak)), max(map(max, a.matrix_avg))) or \
            any(not all(math.isclose(x, y, abs_tol=1e-12) for x, y in zip(r, q, strict=True))
                for r, q in zip(a.matrix_peak, a.matrix_avg, strict=True)):
        out.append("at the peak hour of each profile:")
        for i, row in enumerate(a.matrix_peak):
            cells = [_pct(v) if v else "." for v in row]
            out.append(f"  {names[i]:<{width}}  " + "  ".join(f"{c:>{col}}" for c in cells))
    return out


def _states(a: Analysis) -> list[str]:
    width = max(len(s.name) for s in a.states)
    out = ["users per state (long-run share of active users; mean visit; expected at the end):"]
    for s in a.states:
        tag = " (final)" if s.final else " (initial)" if s.initial else ""
        dwell = "forever" if s.dwell_ms is None else _duration(s.dwell_ms)
        out.append(f"  {s.name:<{width}}  {s.share * 100:>8.3f} %  {dwell:>12}  "
                   f"{s.users_end:>14,.1f}{tag}")
    churn = sum(s.users_end for s in a.states if s.final)
    out.append(f"  users: {a.settings.users:,} at the start, {a.arrivals:,.1f} arrivals, "
               f"{churn:,.1f} in final states at the end")
    return out


def _topics(a: Analysis) -> list[str]:
    width = max([len(t.name) for t in a.topics] + [5])
    out = ["topics over the horizon:",
           f"  {'topic':<{width}}  {'events':>14} {'events/s':>11} {'peak/s':>11} "
           f"{'per user/day':>12} {'~bytes':>7} {'bytes/s':>11} {'peak B/s':>11}  status"]
    for t in a.topics:
        out.append(f"  {t.name:<{width}}  {t.events:>14,.0f} {t.events_per_s:>11,.4g} "
                   f"{t.peak_events_per_s:>11,.4g} {t.per_user_day:>12.4g} "
                   f"{t.record_bytes:>7.1f} {t.bytes_per_s:>11,.4g} {t.peak_bytes_per_s:>11,.4g}"
                   f"  {t.status}" + (f" (guessed: {', '.join(t.guessed_fields)})"
                                      if t.guessed_fields else ""))
    out.append(f"  {'all':<{width}}  {a.events:>14,.0f} {a.events_per_s:>11,.4g} "
               f"{a.peak_events_per_s:>11,.4g} {'':>12} {'':>7} {a.bytes_per_s:>11,.4g}")
    out.append("  (peak: the busiest quarter hour of the horizon)")
    return out


def _size_note() -> str:
    return ("an estimate of each value record on the wire: Avro binary size per field from its "
            "schema type and expression (constants, ids, times, names and literal choices "
            "exact; random numbers at their mean; other longs 3 bytes, strings 8 characters), "
            "plus the 5-byte Confluent header; keys not included.")


def _pct(p: float) -> str:
    return f"{p * 100:.3g}%"


def _duration(ms: float) -> str:
    seconds = ms / 1000
    if seconds < 1:
        return f"{ms:g}ms"
    if seconds < 120:
        return f"{seconds:.3g}s"
    if seconds < 7200:
        return f"{seconds / 60:.3g}m"
    if seconds < 172_800:
        return f"{seconds / 3600:.3g}h"
    return f"{seconds / 86400:.3g}d"


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
