"""The `doge` command group and what every sub-command shares; each sub-command lives in its own
module, imported only when that command runs.

Importing every command (the engine, the analysis, Kafka's and PostgreSQL's clients, the
registry's HTTP stack, Faker) cost ~1.2 s before `doge --help` printed a line
(`python -X importtime`); a command now loads what it uses, and the group's help lists the
commands from `COMMANDS` without importing any.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import click
import structlog

from connector import __version__
from connector.errors import InfrastructureError, UserError
from connector.logging import json_mode, scrub

F = TypeVar("F", bound=Callable[..., Any])
log = structlog.get_logger("connector.cli")


def friendly_errors(func: F) -> F:
    """Turn user mistakes into a one-paragraph message and exit 2, with no traceback."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserError as exc:
            for problem in exc.problems:
                _say(problem.render(), problem.severity)
            sys.exit(exc.exit_code)
        except InfrastructureError as exc:
            _say(f"error: {exc}", "error")
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


def _say(text: str, severity: str) -> None:
    """An error line: a JSON log line when the log is JSON (every line of it must parse)."""
    if json_mode():
        getattr(log, "warning" if severity == "warning" else "error")(scrub(text))
    else:
        click.echo(scrub(text), err=True)


@attrs.frozen
class CommandEntry:
    """A sub-command: the module that registers it on `cli` when imported, its help line."""

    module: str
    summary: str


COMMANDS: dict[str, CommandEntry] = {
    "analyze": CommandEntry(
        "connector.cli.analyze", "Expected events/s and bytes/s per topic, users per state, "
        "transitions per user per day and the per-tick transition matrix (no simulation)."),
    "distributed": CommandEntry(
        "connector.cli.worker", "Distributed worker: joins the workers sharing `group.id` and "
        "runs its share of tasks."),
    "graph": CommandEntry(
        "connector.cli.graph", "Draw the model: states, transitions, chances, conditions and "
        "topics."),
    "preview": CommandEntry(
        "connector.cli.preview", "Simulate in memory and print the first moves of the first "
        "users."),
    "quickstarts": CommandEntry(
        "connector.cli.quickstarts", "List the built-in example models (run one with `doge run "
        "NAME`)."),
    "run": CommandEntry(
        "connector.cli.run", "Run a connector, a model file or a built-in quickstart on the "
        "embedded local destination (no Kafka needed), or into PostgreSQL with --to."),
    "validate": CommandEntry(
        "connector.cli.validate", "Check a model (YAML/JSON) or a connector config; exit 2 if "
        "there is any error."),
    "worker": CommandEntry(
        "connector.cli.worker", "Standalone worker: run connectors from files into Kafka, "
        "exactly once per tick."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported when one is looked up (click's documented pattern
    for lazily loaded sub-commands), and whose help lists them from `COMMANDS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if cmd_name not in self.commands and entry is not None:
            importlib.import_module(entry.module)  # registers the command on this group
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names), default=0)
        rows = [(name, self._listed(name).get_short_help_str(limit)) for name in names]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def _listed(self, name: str) -> click.Command:
        """What the help lists for `name`: a bare Command carrying the table's summary (through
        click's own shortening), loaded or not; a command added elsewhere as it is."""
        entry = COMMANDS.get(name)
        return self.commands[name] if entry is None else click.Command(name, help=entry.summary)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="doge")
def cli() -> None:
    """doge-connect: simulate users walking a state machine and emit their events."""

