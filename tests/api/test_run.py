"""run(): a model into stdout, a directory (resumable) or Kafka, as `doge run` would."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from connector.api import Kafka, UserError, run, simulate
from connector.runtime.kafka_stores import offset_store
from tests.api.examples import banking
from tests.runtime.reading import read_all

SETTINGS = {"users": 500, "seed": 3, "shards": 2, "start": "2024-01-01T00:00:00Z"}


def test_stdout_lines(capsys: pytest.CaptureFixture[str]) -> None:
    """"-" prints each record as a {topic, key, timestamp, value} JSON line."""
    done = run(banking(), "-", ticks=30, **SETTINGS)  # type: ignore[arg-type]
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(lines) == done.events > 0 and done.destination == "stdout"
    assert Counter(str(line["topic"]) for line in lines) == done.per_topic


def test_a_second_run_resumes_and_extends(tmp_path: Path) -> None:
    """run() again with more ticks resumes, giving the files of one uninterrupted run."""
    first = run(banking(), tmp_path / "a", format="jsonl", ticks=40, **SETTINGS)  # type: ignore[arg-type]
    second = run(banking(), tmp_path / "a", format="jsonl", ticks=90, **SETTINGS)  # type: ignore[arg-type]
    whole = run(banking(), tmp_path / "b", format="jsonl", ticks=90, **SETTINGS)  # type: ignore[arg-type]
    assert (first.next_tick, second.next_tick) == (40, 90)
    assert first.events + second.events == whole.events
    for topic in ("clickstream", "trx", "balance", "loan"):
        assert (tmp_path / "a" / f"{topic}.jsonl").read_bytes() == \
            (tmp_path / "b" / f"{topic}.jsonl").read_bytes()
    with pytest.raises(UserError, match="different model, seed or settings"):
        run(banking(), tmp_path / "a", format="jsonl", ticks=95, **{**SETTINGS, "seed": 4})  # type: ignore[arg-type]
    with pytest.raises(UserError, match="format"):
        run(banking(), tmp_path / "c", format="csv", ticks=1)


@pytest.mark.integration
def test_kafka_destination_commits_what_simulate_computes(
        kafka_bootstrap: str, registry_url: str, topic_factory: Callable[..., str]) -> None:
    """run(model, Kafka(worker)) in-process commits exactly simulate()'s rows, read_committed,
    and records its task generation in the offsets topic as a worker does (so a worker's later
    generations fence it)."""
    prefix = f"api-{uuid.uuid4().hex[:8]}."
    worker = {"bootstrap.servers": kafka_bootstrap, "schema.registry.url": registry_url,
              "offset.storage.topic": topic_factory(1, {"cleanup.policy": "compact"}),
              "snapshot.storage.topic": topic_factory(1, {"cleanup.policy": "compact"}),
              "group.id": f"g-{uuid.uuid4().hex[:8]}"}
    name = f"bank-{uuid.uuid4().hex[:6]}"
    done = run(banking(), Kafka(worker), ticks=60, name=name,
               config={"topic.prefix": prefix}, **SETTINGS)  # type: ignore[arg-type]
    expected = simulate(banking(), ticks=60, **SETTINGS)  # type: ignore[arg-type]
    assert done.next_tick == 60 and done.destination.startswith("kafka ")
    for topic, table in expected.items():
        assert len(read_all(kafka_bootstrap, [prefix + topic])) == table.num_rows == \
            done.per_topic.get(topic, 0)
    assert offset_store(Kafka(worker).config()).generations(name) == {1}


@pytest.mark.integration
def test_postgres_destination(pg_database: str) -> None:
    """run(model, "postgresql://...") writes one table per topic with simulate()'s rows."""
    done = run(banking(), pg_database, ticks=60, **SETTINGS)  # type: ignore[arg-type]
    expected = simulate(banking(), ticks=60, **SETTINGS)  # type: ignore[arg-type]
    assert done.next_tick == 60 and "***" in done.destination
    with psycopg.connect(pg_database) as conn:
        for topic, table in expected.items():
            row = conn.execute(f"SELECT count(*) FROM {topic}").fetchone()
            assert row is not None and row[0] == table.num_rows > 0, topic
