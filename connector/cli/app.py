"""The `doge` console script (sub-commands are imported as they run: connector.cli.main)."""

from __future__ import annotations

import faulthandler
import signal

from connector.cli.main import cli


def main() -> None:
    """Console-script entry point."""
    # `kill -USR1 <pid>` prints every thread's stack to stderr: for diagnosing a stuck worker.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    cli()


__all__ = ["cli", "main"]
