"""Session fixtures for the real local Kafka broker and Schema Registry (scripts/infra.sh).

Infra only: other fixtures live in the conftest.py of each test folder. Tests that use these are
marked ``@pytest.mark.integration``. When DOGE_TEST_BOOTSTRAP and DOGE_TEST_REGISTRY are set
(scripts/test.sh sets them) they are used as they are; otherwise the first fixture that needs them
runs ``scripts/infra.sh up`` and, at the end of the session, ``down`` if it started it.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "scripts" / "infra.sh"
ENV_FILE = ROOT / ".cache" / "infra" / "env"
BOOTSTRAP_VAR, REGISTRY_VAR = "DOGE_TEST_BOOTSTRAP", "DOGE_TEST_REGISTRY"


def _read_env_file() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in ENV_FILE.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            values[key.strip()] = value.strip()
    return values


def _infra(command: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(INFRA), command], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="session")
def infra_endpoints() -> Iterator[dict[str, str]]:
    """Bootstrap servers and registry URL of the running infra, started here when needed."""
    preset = {k: os.environ[k] for k in (BOOTSTRAP_VAR, REGISTRY_VAR) if os.environ.get(k)}
    if len(preset) == 2:
        yield preset
        return
    started = _infra("status", 30).returncode != 0
    up = _infra("up", 900)  # idempotent: reuses running servers and (re)writes the env file
    if up.returncode != 0:
        pytest.fail(f"scripts/infra.sh up failed (exit {up.returncode}):\n{up.stderr[-4000:]}")
    endpoints = _read_env_file()
    mp = pytest.MonkeyPatch()  # so that subprocesses of the tests see the endpoints too
    for key in (BOOTSTRAP_VAR, REGISTRY_VAR):
        mp.setenv(key, endpoints[key])
    try:
        yield {k: endpoints[k] for k in (BOOTSTRAP_VAR, REGISTRY_VAR)}
    finally:
        mp.undo()
        if started:
            _infra("down", 120)


@pytest.fixture(scope="session")
def kafka_bootstrap(infra_endpoints: dict[str, str]) -> str:
    """``bootstrap.servers`` of the real local Kafka broker."""
    return infra_endpoints[BOOTSTRAP_VAR]


@pytest.fixture(scope="session")
def registry_url(infra_endpoints: dict[str, str]) -> str:
    """Base URL of the real Confluent-compatible Schema Registry API."""
    return infra_endpoints[REGISTRY_VAR]


@pytest.fixture
def topic_factory(request: pytest.FixtureRequest, kafka_bootstrap: str) -> Callable[..., str]:
    """Create topics named after the current test, a new one per call: ``topic_factory(3)``."""

    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", request.node.name)[:150].strip("-.")

    def make(partitions: int = 1, config: dict[str, str] | None = None) -> str:
        name = f"{stem}-{uuid.uuid4().hex[:10]}"
        admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
        # replication_factor=-1: the broker's default.replication.factor. No time-based
        # retention: tests write event times years back, and the broker's retention check
        # (every 5 minutes) deleted the first ticks of a DOGE script mid-test (CI, stop 27).
        topic = NewTopic(name, partitions, replication_factor=-1,
                         config={"retention.ms": "-1", **(config or {})})
        futures = admin.create_topics([topic], operation_timeout=30, request_timeout=30)
        futures[name].result(timeout=30)
        return name

    return make


# -- PostgreSQL (scripts/postgres.sh) ------------------------------------------------------------
POSTGRES_VAR = "DOGE_TEST_POSTGRES"
POSTGRES = ROOT / "scripts" / "postgres.sh"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of the test role on the real local PostgreSQL server, started here when needed.

    DOGE_TEST_POSTGRES (set by scripts/test.sh from .cache/infra/env) is used as it is; otherwise
    ``scripts/postgres.sh start`` runs, and ``stop`` at the end if this session started it.
    """
    if os.environ.get(POSTGRES_VAR):
        yield os.environ[POSTGRES_VAR]
        return

    def script(command: str, timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(POSTGRES), command], capture_output=True, text=True,
                              timeout=timeout, check=False)

    started = script("running", 30).returncode != 0
    up = script("start", 600)
    if up.returncode != 0:
        pytest.fail(f"scripts/postgres.sh start failed (exit {up.returncode}):\n"
                    f"{up.stderr[-4000:]}")
    url = script("url", 30).stdout.strip()
    try:
        yield url
    finally:
        if started:
            script("stop", 120)


@pytest.fixture
def pg_database(request: pytest.FixtureRequest, postgres_url: str) -> Iterator[str]:
    """A new empty database owned by the test role, dropped afterwards: its URL."""
    yield from _database(postgres_url, request.node.name)


@pytest.fixture
def pg_database_factory(request: pytest.FixtureRequest,
                        postgres_url: str) -> Iterator[Callable[[], str]]:
    """Make more new databases (``pg_database_factory()`` -> URL), all dropped afterwards."""
    made: list[Iterator[str]] = []

    def make() -> str:
        gen = _database(postgres_url, request.node.name)
        made.append(gen)
        return next(gen)

    yield make
    for gen in made:
        next(gen, None)


def _database(server_url: str, test_name: str) -> Iterator[str]:
    name = f"t_{re.sub(r'[^a-z0-9]+', '_', test_name.lower())[:40]}_{uuid.uuid4().hex[:8]}"
    _admin(server_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        _admin(server_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))


def _admin(server_url: str, statement: sql.Composed) -> None:
    """CREATE/DROP DATABASE, retried while another session briefly holds the template."""
    for attempt in range(20):
        try:
            with psycopg.connect(server_url, autocommit=True) as conn:
                conn.execute(statement)
            return
        except psycopg.errors.ObjectInUse:
            if attempt == 19:
                raise
            time.sleep(0.25)
