"""`doge worker` (standalone) and `doge distributed` (a member of a cluster of workers)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import structlog

from connector.cli.main import cli, friendly_errors
from connector.errors import Problem, UserError
from connector.logging import configure
from connector.model.source import load_file
from connector.rest.server import RestServer, start_rest
from connector.runtime.worker import Worker
from connector.runtime.worker_config import load_worker_config

log = structlog.get_logger(__name__)


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
    configure(config.log_level(), json=not sys.stderr.isatty())
    worker = Worker(config)
    server = None
    try:
        herder = worker.start()
        server = None if no_rest else _serve_rest(worker)
        for file in connector_files:
            doc = load_file(file)
            herder.add_connector(doc.data, file, str(Path(file).resolve().parent))
    except BaseException:
        _close(server, worker)
        raise
    sys.exit(_run(worker, server, exit_when_finished))


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
    configure(config.log_level(), json=not sys.stderr.isatty())
    worker = Worker(config, distributed=True)
    try:
        worker.start()
        server = _serve_rest(worker)
    except BaseException:
        _close(None, worker)
        raise
    sys.exit(_run(worker, server, exit_when_finished=False))


def _serve_rest(worker: Worker) -> RestServer:
    """Kafka Connect's REST API over the worker's herder, on rest.host.name:rest.port."""
    config = worker.config
    host, port = config.get("rest.host.name"), config.integer("rest.port")
    try:
        server = start_rest(worker.herder, host=host, port=port,
                            basic_auth=config.optional("rest.basic.auth.user.info"))
    except OSError as exc:
        raise UserError([Problem(f"cannot serve the REST API on {host}:{port}: "
                                 f"{exc.strerror or exc}; set rest.port (0 picks a free "
                                 "port) or rest.host.name", file=config.file,
                                 path="rest.port")]) from None
    worker.herder.worker_id = f"{host}:{server.port}"
    log.info("REST API listening", url=server.url)
    return server


def _run(worker: Worker, server: RestServer | None, exit_when_finished: bool) -> int:
    try:
        return worker.run(exit_when_finished=exit_when_finished)
    finally:
        _close(server, worker)


def _close(server: RestServer | None, worker: Worker) -> None:
    """REST first (no request may reach a worker that is shutting down), then the worker."""
    if server is not None:
        server.close()
    worker.shutdown()
