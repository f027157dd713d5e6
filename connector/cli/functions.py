"""The `--plugin` option of the commands that load a model: expression functions from modules
(and from installed entry points)."""

from __future__ import annotations

from typing import Any

import click

from connector.runtime.plugins import load_plugins

plugin_option = click.option(
    "--plugin", "plugins", multiple=True, metavar="MODULE:ATTRIBUTE",
    help="Load expression functions (a FunctionSpec or a list of them); repeatable. Installed "
         "entry points (group doge_connect.functions) are loaded too.")


def load_functions(plugins: tuple[str, ...]) -> tuple[Any, ...]:
    return load_plugins(plugins, "--plugin")
