"""`doge worker WORKER.properties [CONNECTOR.json ...]`: the standalone worker."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from connector.cli.main import cli, friendly_errors
from connector.logging import configure
from connector.model.source import load_file
from connector.runtime.worker import Worker
from connector.runtime.worker_config import load_worker_config


@cli.command("worker")
@click.argument("worker_file", type=click.Path(dir_okay=False))
@click.argument("connector_files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--exit-when-finished", is_flag=True,
              help="Exit once every connector finished its ticks (or failed).")
@friendly_errors
def worker_command(worker_file: str, connector_files: tuple[str, ...],
                   exit_when_finished: bool) -> None:
    """Run connectors into Kafka: Avro + Schema Registry, exactly once per tick.

    Tasks run in processes of their own; Ctrl-C or SIGTERM stops them after their current
    transaction. Consumers must read with isolation.level=read_committed.
    """
    config = load_worker_config(worker_file)
    configure(config.optional("log.level") or "INFO", json=not sys.stderr.isatty())
    worker = Worker(config)
    worker.start()
    for file in connector_files:
        doc = load_file(file)
        worker.add_connector(doc.data, file, str(Path(file).resolve().parent))
    sys.exit(worker.run(exit_when_finished=exit_when_finished))
