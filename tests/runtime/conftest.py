"""Fixtures for runtime tests against the real broker and registry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runtime.harness import KafkaRun


@pytest.fixture
def kafka_run(tmp_path: Path, kafka_bootstrap: str, registry_url: str) -> Iterator[KafkaRun]:
    """A worker config and connector with topics unique to this test; kills leftover workers."""
    run = KafkaRun(tmp_path, kafka_bootstrap, registry_url)
    yield run
    run.kill_all()
