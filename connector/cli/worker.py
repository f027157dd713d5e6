"""`doge worker` (standalone) and `doge distributed` (a member of a cluster of workers)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import structlog

from connector.cli.main import cli, friendly_errors
from connector.errors import Problem, UserError
from connector.logging import configure
from connector.model.source import load_file
from connector.rest.server import RestServer, start_rest
from connector.runtime.properties import SUFFIX as PROPERTIES
from connector.runtime.properties import connector_document, read_properties
from connector.runtime.worker import Worker
from connector.runtime.worker_config import WorkerConfig, load_worker_config

log = structlog.get_logger(__name__)
env_prefix_option = click.option(
    "--env-prefix", metavar="PREFIX", default=None,
    help="Environment variables with this prefix override worker keys, as Confluent's images "
         "map CONNECT_*: DOGE_BOOTSTRAP_SERVERS -> bootstrap.servers (`__` is `_`, `___` is "
         "`-`). The Docker image uses DOGE_.")


@cli.command("worker")
@click.argument("worker_file", type=click.Path(dir_okay=False))
@click.argument("connector_files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--exit-when-finished", is_flag=True,
              help="Exit once every connector finished its ticks (or failed).")
@click.option("--no-rest", is_flag=True, help="Do not serve the REST API.")
@env_prefix_option
@friendly_errors
def worker_command(worker_file: str, connector_files: tuple[str, ...],
                   exit_when_finished: bool, no_rest: bool, env_prefix: str | None) -> None:
    """Standalone worker: run connectors from files into Kafka, exactly once per tick.

    Avro values registered in the Schema Registry; tasks run in processes of their own; Ctrl-C
    or SIGTERM stops them after their current transaction. Consumers must read with
    isolation.level=read_committed. The REST API (Kafka Connect's) listens on `listeners`.
    Connector files are JSON or YAML (`{"name", "config"}`) or connect-standalone's
    .properties files.
    """
    config = _load(worker_file, env_prefix)
    worker = Worker(config)
    server = None
    try:
        server = None if no_rest else _serve_rest(worker)
        herder = worker.start()
        if server is not None:
            server.attach(herder)
        for file in connector_files:
            herder.add_connector(_connector_file(file), file, str(Path(file).resolve().parent))
    except BaseException:
        _close(server, worker)
        raise
    sys.exit(_run(worker, server, exit_when_finished))


@cli.command("distributed")
@click.argument("worker_file", type=click.Path(dir_okay=False))
@env_prefix_option
@friendly_errors
def distributed_command(worker_file: str, env_prefix: str | None) -> None:
    """Distributed worker: joins the workers sharing `group.id` and runs its share of tasks.

    Connectors are managed through the REST API of any worker (Kafka Connect's API); configs,
    offsets and status live in compacted Kafka topics, and Kafka's group protocol decides which
    worker runs which task.
    """
    config = _load(worker_file, env_prefix)
    worker = Worker(config, distributed=True)
    server = None
    try:
        server = _serve_rest(worker)
        server.attach(worker.start())
    except BaseException:
        _close(server, worker)
        raise
    sys.exit(_run(worker, server, exit_when_finished=False))


def _load(worker_file: str, env_prefix: str | None) -> WorkerConfig:
    """The worker config (environment on top with --env-prefix), logging set up from it, and
    one warning line for each Connect key that is ignored here."""
    config = load_worker_config(worker_file, env_prefix)
    configure(config.optional("log.level") or "INFO", json=not sys.stderr.isatty())
    for warning in config.warnings:
        log.warning(warning.render().removeprefix("warning: "))
    return config


def _connector_file(file: str) -> Any:
    """A connector document from JSON/YAML, or from connect-standalone's .properties."""
    if file.endswith(PROPERTIES):
        return connector_document(read_properties(Path(file)), file)
    return load_file(file).data


def _serve_rest(worker: Worker) -> RestServer:
    """Kafka Connect's REST API on `listeners` (else rest.host.name:rest.port), started before
    the worker joins (KIP-1017: /health answers 503 meanwhile); the worker's id is its
    advertised address."""
    config = worker.config
    listener = config.listener()
    host, port = listener.host, listener.port
    where = "listeners" if "listeners" in config.values else "rest.port"
    try:
        server = start_rest(None, host=host, port=port,
                            basic_auth=config.optional("rest.basic.auth.user.info"),
                            ops=worker.ops)
    except OSError as exc:
        raise UserError([Problem(f"cannot serve the REST API on {host}:{port}: "
                                 f"{exc.strerror or exc}; set listeners (port 0 picks a free "
                                 "port)", file=config.file, path=where)]) from None
    worker.worker_id = worker.ops.metrics.worker_id = config.advertised(server.port)
    log.info("REST API listening", url=server.url, worker_id=worker.worker_id)
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
