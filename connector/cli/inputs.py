"""What `doge run | preview | analyze | graph` accept: a connector file, a model file or the name
of a built-in quickstart, with the run's settings overridable from the command line.

A model given directly becomes a connector named after it (or `--name`), simulating one day
(`--ticks` to change) as fast as possible unless `--pace` says otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import attrs
import click

from connector.cli import quickstarts
from connector.errors import Problem, UserError
from connector.model.durations import FORMS, parse_duration_ms
from connector.model.source import load_file
from connector.runtime.config import ConnectorConfig, parse_connector, parse_start_time
from connector.runtime.targets import (
    DAY_MS,
    connector_with,
    is_connector_document,
    model_run_keys,
    setting_keys,
)

F = TypeVar("F", bound=Callable[..., Any])
MAX_USERS = 100_000_000  # a bound for one local process (a shard's columns stay in memory)


class DurationType(click.ParamType[int]):
    """A tick length: 1m, 500ms, PT1M or milliseconds; whole milliseconds >= 1."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> int:
        if isinstance(value, int):
            return value
        try:
            ms = parse_duration_ms(value)
        except ValueError:
            self.fail(f"expected a duration such as {FORMS}; got {value!r}", param, ctx)
        if ms < 1 or ms != int(ms) or ms > 365 * DAY_MS:
            self.fail(f"expected whole milliseconds from 1 ms to 365 days; got {value!r}", param,
                      ctx)
        return int(ms)


class StartType(click.ParamType[str]):
    """ISO-8601, epoch milliseconds or `now`; kept as text (the connector resolves it)."""

    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> str:
        text = str(value).strip()
        if text != "now":
            try:
                ms = parse_start_time(text)
            except (ValueError, OverflowError) as exc:
                self.fail(str(exc), param, ctx)
            if not 0 <= ms < 253_402_300_800_000:  # before year 10000
                self.fail(f"expected a time between 1970 and 9999; got {value!r}", param, ctx)
        return text


class PaceType(click.ParamType[str]):
    """max, realtime or a positive speed-up factor."""

    name = "pace"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> str:
        text = str(value).strip()
        if text in ("max", "realtime"):
            return text
        try:
            factor = float(text)
        except ValueError:
            factor = -1.0
        if not math.isfinite(factor) or factor <= 0:
            self.fail(f"expected max, realtime or a positive speed-up factor; got {value!r}",
                      param, ctx)
        return text


@attrs.frozen
class Overrides:
    users: int | None = None
    seed: int | None = None
    start: str | None = None
    tick_ms: int | None = None
    ticks: int | None = None
    pace: str | None = None
    name: str | None = None

    def keys(self) -> dict[str, str]:
        """As connector config keys (string values, as Kafka Connect holds them)."""
        return setting_keys(attrs.asdict(self))


def run_options(func: F) -> F:
    """--users --seed --start --tick --ticks --pace --name, collected into `overrides`."""
    options = [
        click.option("--users", type=click.IntRange(0, MAX_USERS),
                     help="Initial population (default: the connector's, else the model's "
                          "population.users, else 1000)."),
        click.option("--seed", type=click.IntRange(0, 2**63 - 1), help="Seed of every random "
                     "stream."),
        click.option("--start", type=StartType(), help="Simulated time of tick 0: ISO-8601 "
                     "(2024-03-01T00:00:00Z), epoch millis or now."),
        click.option("--tick", "tick_ms", type=DurationType(),
                     help="Simulated time per tick: 1m, 10s, PT1M, or milliseconds."),
        click.option("--ticks", type=click.IntRange(min=0), help="How many ticks (a model given "
                     "directly: default one day's worth)."),
        click.option("--pace", type=PaceType(), help="max, realtime, or a speed-up factor."),
        click.option("--name", help="Connector name (default: the connector's, or the model "
                     "file's name); also names the output directory."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def overrides_from(kwargs: dict[str, Any]) -> Overrides:
    """Pop run_options' values out of a command's keyword arguments."""
    return Overrides(**{f.name: kwargs.pop(f.name) for f in attrs.fields(Overrides)})


def load_target(target: str, overrides: Overrides) -> ConnectorConfig:
    """A connector config for a connector file, a model file or a quickstart name."""
    path = _resolve(target)
    doc = load_file(path)
    if is_connector_document(doc):
        return connector_with(doc, path, overrides.keys(), overrides.name or None)
    keys = model_run_keys(overrides.keys(), overrides.tick_ms)
    name = overrides.name or _model_name(doc.data) or path.stem
    data = {"name": name, "config": {"model": str(path.resolve()), **keys}}
    return parse_connector(data, str(path), path.resolve().parent)


def _resolve(target: str) -> Path:
    path = Path(target)
    if path.is_file():
        return path
    quick = quickstarts.path_of(target) if target.isidentifier() else None
    if quick is not None:
        return quick
    if path.exists():
        raise UserError([Problem("not a regular file (expected a connector .json or a model "
                                 ".yaml/.json)", file=target)])
    raise UserError([Problem("file not found, nor a built-in quickstart of that name "
                             f"(quickstarts: {', '.join(quickstarts.names())})", file=target)])


def _model_name(data: Any) -> str | None:
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name.strip() else None
