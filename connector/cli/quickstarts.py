"""Built-in quickstarts: the example connectors and models shipped in the package.

`connector/examples/` links to the repository's `config/` and `schemas/` (the only copies), and
the wheel carries their files, so `pip install` alone is enough for `doge run banking`.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import click

from connector.cli.main import cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CONNECTORS = EXAMPLES / "config"


def names() -> list[str]:
    """Each example model (`models/NAME.yaml`) with its connector (`NAME.json`)."""
    return sorted(p.stem for p in CONNECTORS.glob("*.json")
                  if (CONNECTORS / "models" / f"{p.stem}.yaml").is_file())


def path_of(name: str) -> Path | None:
    """The connector file of quickstart `name`, or None."""
    path = CONNECTORS / f"{name}.json"
    return path if name in names() and path.is_file() else None


def describe(name: str, width: int = 100) -> str:
    """The first sentence of the model's header comment, shortened to `width` characters."""
    model = CONNECTORS / "models" / f"{name}.yaml"
    try:
        lines = model.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        if "yaml-language-server" not in line:
            header.append(line.lstrip("#").strip())
    sentence = " ".join(header).split(". ")[0].rstrip(".")
    return textwrap.shorten(sentence, width=width, placeholder=" ...")


@cli.command("quickstarts")
def quickstarts_command() -> None:
    """List the built-in example models (run one with `doge run NAME`)."""
    listed = names()
    width = max((len(n) for n in listed), default=0)
    click.echo("Built-in quickstarts: `doge run NAME`, `doge preview NAME`, `doge analyze NAME`, "
               "`doge graph NAME`.")
    for name in listed:
        click.echo(f"  {name:<{width}}  {describe(name)}")
    click.echo(f"Their files (copy one to start a model of your own): {CONNECTORS}")
