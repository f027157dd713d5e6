"""The seed article's demo as DOGE ships it: clickstream and trx to Kafka (Avro), balance and loan
to PostgreSQL, all from one script whose only change is the import."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import psycopg
import pytest

from bench.doge_seed import (
    balance_value,
    clickstream_value,
    collecting_sinks,
    key_function,
    loan_value,
    trx_value,
)
from connector.doge import DbSinkFactory, KafkaAvroSinkFactory
from tests.doge.support import KEY_SCHEMA, run_seed, value_schema
from tests.runtime.reading import read_all

pytestmark = pytest.mark.integration


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
                                    clickstream_value, value_schema("clickstream")),
        "trx": kafka.create(topics["trx"], key_function, KEY_SCHEMA, trx_value,
                            value_schema("trx")),
        "balance": db.create("balance", balance_value),
        "loan": db.create("loan", loan_value),
    }
    run_seed(sinks, users=3000, ticks=200, seed=41)
    expected = collecting_sinks()
    run_seed(expected, users=3000, ticks=200, seed=41)
    for name, topic in topics.items():
        assert len(read_all(kafka_bootstrap, [topic])) == len(expected[name].rows) > 0
    with psycopg.connect(pg_database) as conn:
        for table in ("balance", "loan"):
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            assert row is not None and row[0] == len(expected[table].rows) > 0
