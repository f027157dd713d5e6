"""The `doge` command group and what every sub-command shares; each sub-command lives in its own
module, and `connector.cli.app` puts them together."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
import structlog

from connector import __version__
from connector.errors import InfrastructureError, UserError
from connector.logging import json_mode, scrub
from connector.runtime.plugins import load_plugins

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


plugin_option = click.option(
    "--plugin", "plugins", multiple=True, metavar="MODULE:ATTRIBUTE",
    help="Load expression functions (a FunctionSpec or a list of them); repeatable. Installed "
         "entry points (group doge_connect.functions) are loaded too.")


def load_functions(plugins: tuple[str, ...]) -> tuple[Any, ...]:
    return load_plugins(plugins, "--plugin")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="doge")
def cli() -> None:
    """doge-connect: simulate users walking a state machine and emit their events."""

