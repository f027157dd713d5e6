"""`doge graph CONNECTOR | MODEL | QUICKSTART`: the state machine as Mermaid, DOT, SVG or PNG
(the last two through Graphviz's `dot`, when installed)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from connector.analysis import Analyser
from connector.analysis.graph import to_dot, to_mermaid
from connector.cli.analyze import settings_for
from connector.cli.functions import load_functions, plugin_option
from connector.cli.inputs import load_target, overrides_from, run_options
from connector.cli.main import cli, friendly_errors
from connector.errors import Problem, UserError
from connector.runtime.simulation import prepare

RENDER_TIMEOUT_S = 60


@cli.command("graph")
@click.argument("target", metavar="CONNECTOR|MODEL|QUICKSTART")
@click.option("--format", "fmt", type=click.Choice(("mermaid", "dot", "svg", "png")),
              default="mermaid", show_default=True,
              help="Mermaid (for Markdown), Graphviz DOT, or SVG/PNG drawn by Graphviz.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file (default: stdout; SVG and PNG need a file or a pipe).")
@run_options
@plugin_option
@friendly_errors
def graph_command(target: str, fmt: str, output: str | None, plugins: tuple[str, ...],
                  **kwargs: Any) -> None:
    """Draw the model: states (initial and final marked), transitions labelled with name,
    chance per tick or `every`, condition and topics, thicker where more users move."""
    config = load_target(target, overrides_from(kwargs))
    sim = prepare(config, load_functions(plugins))
    analysis = Analyser(sim.model, config.tick_ms, sim.plan).analyze(settings_for(sim, config))
    if fmt in ("mermaid", "dot"):
        text = to_mermaid(analysis) if fmt == "mermaid" else to_dot(analysis)
        _write(output, text.encode())
        return
    _write(output, render(to_dot(analysis), fmt))


def render(dot_text: str, fmt: str) -> bytes:
    """SVG or PNG bytes drawn by Graphviz's `dot`; a clear error when it is not installed."""
    dot = shutil.which("dot")
    if dot is None:
        raise UserError([Problem(
            f"--format {fmt} needs Graphviz's `dot`, which is not installed (Debian/Ubuntu: "
            "apt-get install graphviz; macOS: brew install graphviz). Without it, use "
            "--format dot or --format mermaid")])
    try:
        done = subprocess.run([dot, f"-T{fmt}"], input=dot_text.encode(), capture_output=True,
                              timeout=RENDER_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise UserError([Problem(f"Graphviz took over {RENDER_TIMEOUT_S}s to draw the graph; "
                                 "try --format dot")]) from None
    if done.returncode != 0:
        raise UserError([Problem("Graphviz could not draw the graph: "
                                 + done.stderr.decode(errors="replace").strip()[:500])])
    return done.stdout


def _write(output: str | None, data: bytes) -> None:
    if output is None:
        stream = sys.stdout.buffer
        stream.write(data)
        stream.flush()
        return
    try:
        Path(output).write_bytes(data)
    except OSError as exc:
        raise UserError([Problem(f"cannot write: {exc.strerror or exc}", file=output)]) from None
