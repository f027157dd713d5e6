"""The seed article's demo as DOGE ships it: clickstream and trx to Kafka (Avro), balance and loan
to PostgreSQL, all from one script whose only change is the import."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bench.doge_seed import (
    balance_value,
    build,
    clickstream_value,
    collecting_sinks,
    key_function,
    loan_value,
    trx_value,
)
from connector.doge import DbSinkFactory, KafkaAvroSinkFactory
from tests.runtime.harness import read_all

pytestmark = pytest.mark.integration
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
KEY_SCHEMA = '{"type": "record", "name": "Key", "fields": [{"name": "key", "type": "string"}]}'


def _run(sinks: dict[str, Any]) -> None:
    random.seed(41)
    datagen = build(sinks["clickstream"], sinks["trx"], sinks["balance"], sinks["loan"],
                    subjects=3000, ticks=200)
    datagen.seed = 43
    datagen.start()


def test_kafka_and_database_sinks_in_one_script(
        kafka_bootstrap: str, registry_url: str, topic_factory: Callable[..., str],
        pg_database: str) -> None:
    """Each destination holds as many records as the in-memory run with the same seeds."""
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE balance (timestamp bigint, user_id text, balance bigint)")
        conn.execute("CREATE TABLE loan (timestamp bigint, user_id text, loan bigint)")
    kafka = KafkaAvroSinkFactory([kafka_bootstrap], registry_url, f"demo-{uuid.uuid4().hex}")
    db = DbSinkFactory(pg_database)
    topics = {"clickstream": topic_factory(2), "trx": topic_factory(2)}
    sinks = {
        "clickstream": kafka.create(topics["clickstream"], key_function, KEY_SCHEMA,
                                    clickstream_value,
                                    (SCHEMAS / "clickstream.avsc").read_text()),
        "trx": kafka.create(topics["trx"], key_function, KEY_SCHEMA, trx_value,
                            (SCHEMAS / "trx.avsc").read_text()),
        "balance": db.create("balance", balance_value),
        "loan": db.create("loan", loan_value),
    }
    _run(sinks)
    expected = collecting_sinks()
    _run(expected)
    for name, topic in topics.items():
        assert len(read_all(kafka_bootstrap, [topic])) == len(expected[name].rows) > 0
    with psycopg.connect(pg_database) as conn:
        for table in ("balance", "loan"):
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            assert row is not None and row[0] == len(expected[table].rows) > 0
