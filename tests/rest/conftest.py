"""Fixtures of the REST tests: by default our server over the in-memory herder, on port 0.

Override `rest_target` (see tests/rest/support.py) to run the contract tests elsewhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connector.rest import start_rest
from tests.rest.memory_herder import MemoryHerder
from tests.rest.support import PLUGIN, RestClient, RestTarget


def memory_config() -> dict[str, Any]:
    return {"connector.class": PLUGIN, "tasks.max": "2", "shards": "4", "model": "banking.yaml",
            "ticks": 100}


def memory_invalid_config() -> dict[str, Any]:
    return {**memory_config(), "bogus.key": "1"}


@pytest.fixture
def memory_herder() -> MemoryHerder:
    return MemoryHerder()


@pytest.fixture
def rest_target(memory_herder: MemoryHerder) -> Iterator[RestTarget]:
    with start_rest(memory_herder, port=0) as server:
        yield RestTarget(server.url, memory_config, memory_invalid_config,
                         commit=lambda name: memory_herder.commit(name, 10),
                         fail_task=memory_herder.fail)


@pytest.fixture
def rest(rest_target: RestTarget) -> Iterator[RestClient]:
    with httpx.Client(base_url=rest_target.base_url, auth=rest_target.auth,
                      timeout=60) as http:
        yield RestClient(rest_target, http)


@pytest.fixture
def name() -> str:
    """A connector name of its own for each test (targets may be shared between tests)."""
    return f"rest-{uuid.uuid4().hex[:10]}"
