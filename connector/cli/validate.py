"""`doge validate FILE`: every problem of a model or connector config, at once."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from connector.cli.functions import load_functions, plugin_option
from connector.cli.main import cli, friendly_errors
from connector.engine.plan import build_plan
from connector.errors import Problem, UserError
from connector.model.sizing import population_problem
from connector.model.source import load_file
from connector.model.validate import collect_problems, sort_problems
from connector.runtime.config import parse_connector
from connector.runtime.simulation import DEFAULT_USERS


@cli.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
@plugin_option
@friendly_errors
def validate_command(file: str, plugins: tuple[str, ...]) -> None:
    """Check a model (YAML/JSON) or a connector config; exit 2 if there is any error."""
    functions = load_functions(plugins)
    doc = load_file(file)
    problems: list[Problem] = []
    base = Path(file).resolve().parent
    if isinstance(doc.data, dict) and "config" in doc.data:
        try:
            config = parse_connector(doc.data, doc.file, base, doc)
        except UserError as exc:
            problems.extend(exc.problems)
            config = None
        if config is not None:
            model, found = collect_problems(config.model_document, config.model_dir, functions)
            problems.extend(found)
            if model is not None:
                try:
                    build_plan(model, config.tick_ms)
                except UserError as exc:
                    problems.extend(exc.problems)
                users = config.users if config.users is not None else (
                    model.spec.population.users or DEFAULT_USERS)
                too_big = population_problem(model.spec, users,
                                             tick_ms=config.tick_ms, ticks=config.ticks)
                if too_big is not None:
                    problems.append(Problem(too_big, file=doc.file, path="config.users"))
    else:
        model, found = collect_problems(doc, base, functions)
        problems.extend(found)
    for p in sort_problems(problems):
        click.echo(p.render(), err=True)
    errors = sum(p.severity == "error" for p in problems)
    if errors:
        click.echo(f"{file}: {errors} error(s)", err=True)
        sys.exit(2)
    click.echo(f"{file}: ok" + (f" ({len(problems)} warning(s))" if problems else ""))
