"""The `doge` console script: every sub-command registered on the group, then run."""

from __future__ import annotations

import faulthandler
import signal

from connector.cli import analyze, graph, preview, quickstarts, run, validate, worker
from connector.cli.main import cli

# Each registers itself on `cli` when imported.
COMMANDS = (analyze, graph, preview, quickstarts, run, validate, worker)


def main() -> None:
    """Console-script entry point."""
    # `kill -USR1 <pid>` prints every thread's stack to stderr: for diagnosing a stuck worker.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    cli()


__all__ = ["cli", "main"]
