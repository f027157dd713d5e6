"""The config tables: unknown keys with a suggestion, whole numbers, and the README's tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.errors import UserError
from connector.runtime.config import CONNECTOR_CONFIG, parse_connector
from connector.runtime.validation import validate_response
from connector.runtime.worker_config import WORKER_CONFIG, worker_config_from
from scripts.config_tables import with_tables
from tests.helpers import ROOT, banking_model


def test_readme_tables_are_generated_from_the_config_tables() -> None:
    """The README's config tables are what the tables in the code say (scripts/config_tables.py
    rewrites them)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert with_tables(readme) == readme, "run .venv/bin/python scripts/config_tables.py"


def test_unknown_connector_keys_suggest_and_list_the_known_ones_once(tmp_path: Path) -> None:
    """Each unknown key is one problem with its closest known key; the known list comes once."""
    data = {"name": "c", "config": {"connector.class": "DogeSource", "model": banking_model(),
                                    "tick.msec": "1000", "tasks.maks": "2", "zzz": "1"}}
    with pytest.raises(UserError) as info:
        parse_connector(data, "c.json", tmp_path)
    messages = {p.path: p.message for p in info.value.problems}
    assert messages["config.tick.msec"].startswith("unknown key 'tick.msec' (did you mean "
                                                   "'tick.ms'?)")
    assert messages["config.tasks.maks"].startswith("unknown key 'tasks.maks' (did you mean "
                                                    "'tasks.max'?)")
    assert messages["config.zzz"].startswith("unknown key 'zzz'; known keys: ")
    assert str(info.value).count("known keys:") == 1


def test_unknown_worker_key_suggests_the_close_one() -> None:
    """A worker typo names the key it probably meant; passthrough prefixes are accepted."""
    with pytest.raises(UserError) as info:
        worker_config_from({"bootstrap.servers": "k:9092", "grup.id": "g",
                            "producer.linger.ms": "5", "sasl.mechanism": "PLAIN"}, "w.properties")
    [problem] = info.value.problems
    assert problem.path == "grup.id"
    assert problem.message.startswith("unknown key 'grup.id' (did you mean 'group.id'?)")


def test_worker_whole_numbers_are_checked() -> None:
    """Every whole-number worker key is checked, with its minimum."""
    with pytest.raises(UserError) as info:
        worker_config_from({"bootstrap.servers": "k", "rest.port": "http",
                            "cluster.slots": "0"}, None)
    assert {p.path: p.message for p in info.value.problems} == {
        "rest.port": "expected a whole number (digits 0-9), got 'http'",
        "cluster.slots": "expected a whole number >= 1, got 0"}


def test_every_key_has_a_doc_and_a_unique_name() -> None:
    """The tables document every key, once."""
    for table in (CONNECTOR_CONFIG, WORKER_CONFIG):
        assert len(set(table.names)) == len(table.names)
        assert all(k.doc for k in table.keys)


def test_validate_hides_password_values_and_masks_them_in_errors(tmp_path: Path) -> None:
    """config/validate shows a PASSWORD key (postgres.url) as [hidden], and a malformed URL's
    error names it without its password."""
    secret = "S3cret-" + tmp_path.name
    good = f"postgresql://doge:{secret}@127.0.0.1:5432/doge"
    config = {"connector.class": "DogeSource", "model": banking_model(),
              "destination": "postgresql"}
    for url, errors in ((good, 0), (good + "?no_such_option=1", 1)):
        answer = validate_response({**config, "postgres.url": url}, tmp_path)
        assert answer["error_count"] == errors
        [shown] = [c["value"] for c in answer["configs"] if c["value"]["name"] == "postgres.url"]
        assert shown["value"] == "[hidden]"
        assert secret not in json.dumps(answer)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("models.allow.any.path", "yes", "expected true or false, got 'yes'"),
    ("models.dir", "/nonexistent\x00dir", "expected an existing directory, got "
     "'/nonexistent\\x00dir'"),
])
def test_worker_models_keys_are_checked(key: str, value: str, message: str) -> None:
    """A NUL in models.dir or a boolean spelled otherwise: the worker config's clear error."""
    with pytest.raises(UserError) as info:
        worker_config_from({"bootstrap.servers": "x", key: value}, "w.properties")
    assert [(p.path, p.message) for p in info.value.problems] == [(key, message)]


def test_validators_of_the_table_bound_the_numbers() -> None:
    """The connector table's validators carry the bounds: a shards value past 4096 names it."""
    assert CONNECTOR_CONFIG["shards"].whole_number("4097") == (
        "expected from 1 to 4096 shards, got 4097")
    assert CONNECTOR_CONFIG["users"].whole_number("1e9") == (
        "expected a whole number (digits 0-9), got '1e9'; write it in digits: 1000000000")
