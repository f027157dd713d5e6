"""`doge worker` (standalone) and `doge distributed` (a member of a cluster of workers)."""

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
@click.option("--no-rest", is_flag=True, help="Do not serve the REST API.")
@friendly_errors
def worker_command(worker_file: str, connector_files: tuple[str, ...],
                   exit_when_finished: bool, no_rest: bool) -> None:
    """Standalone worker: run connectors from files into Kafka, exactly once per tick.

    Avro values registered in the Schema Registry; tasks run in processes of their own; Ctrl-C
    or SIGTERM stops them after their current transaction. Consumers must read with
    isolation.level=read_committed. The REST API (Kafka Connect's) listens on rest.port.
    """
    config = load_worker_config(worker_file)
    configure(config.optional("log.level") or "INFO", json=not sys.stderr.isatty())
    worker = Worker(config)
    worker.start(rest=not no_rest)
    try:
        for file in connector_files:
            doc = load_file(file)
            worker.add_connector(doc.data, file, str(Path(file).resolve().parent))
    except BaseException:
        worker.shutdown()
        raise
    sys.exit(worker.run(exit_when_finished=exit_when_finished))


@cli.command("distributed")
@click.argument("worker_file", type=click.Path(dir_okay=False))
@friendly_errors
def distributed_command(worker_file: str) -> None:
    """Distributed worker: joins the workers sharing `group.id` and runs its share of tasks.

    Connectors are managed through the REST API of any worker (Kafka Connect's API); configs,
    offsets and status live in compacted Kafka topics, and Kafka's group protocol decides which
    worker runs which task.
    """
    config = load_worker_config(worker_file)
    configure(config.optional("log.level") or "INFO", json=not sys.stderr.isatty())
    worker = Worker(config, distributed=True)
    worker.start()
    sys.exit(worker.run())
