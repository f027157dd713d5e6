"""The config tables: unknown keys with a suggestion, whole numbers, and the README's tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.errors import UserError
from connector.runtime.config import CONNECTOR_CONFIG, parse_connector
from connector.runtime.validation import validate_response
from connector.runtime.worker_config import WORKER_CONFIG, load_worker_config, worker_config_from
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
    ("models.dir", "/nonexistent\x00dir", "expected a directory path, got "
     "'/nonexistent\\x00dir'"),
])
def test_worker_models_keys_are_checked(key: str, value: str, message: str) -> None:
    """A NUL in models.dir or a boolean spelled otherwise: the worker config's clear error."""
    with pytest.raises(UserError) as info:
        worker_config_from({"bootstrap.servers": "x", key: value}, "w.properties")
    assert [(p.path, p.message) for p in info.value.problems] == [(key, message)]


def test_worker_models_dir_must_exist_when_the_worker_starts(tmp_path: Path) -> None:
    """A models.dir that does not exist here is refused when the worker needs it (not when a
    config meant for a container is checked)."""
    config = worker_config_from({"bootstrap.servers": "x", "models.dir": "/app/config"}, "w")
    with pytest.raises(UserError) as info:
        config.models_dir()
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("models.dir", "expected an existing directory, got '/app/config'")]
    assert worker_config_from({"bootstrap.servers": "x", "models.dir": str(tmp_path)},
                              "w").models_dir() == tmp_path.resolve()


@pytest.mark.parametrize(("key", "value", "message"), [
    ("rest.port", "70000", "expected a port from 0 to 65535, got 70000"),
    ("rest.host.name", "h\x00st", "expected a host name or address, got 'h\\x00st'"),
    ("rest.host.name", "é" * 70, "expected a host name or address, got '" + "é" * 37 + "...'"),
    ("listeners", "http://h\x00st:8083", "expected a host name or address, got 'h\\x00st'"),
    ("listeners", "http://[::1:8083", "expected http://host:port, got 'http://[::1:8083'"),
])
def test_worker_rest_listener_is_checked_when_loaded(key: str, value: str, message: str) -> None:
    """A port past 65535, a host bind() cannot encode (OverflowError, TypeError at REST start)
    or an unclosed IPv6 bracket in listeners (ValueError): the worker config's clear error."""
    with pytest.raises(UserError) as info:
        worker_config_from({"bootstrap.servers": "x", key: value}, "w.properties")
    assert [(p.path, p.message) for p in info.value.problems] == [(key, message)]


@pytest.mark.parametrize("level", ["TRACE", "\ud800", ""])
def test_worker_log_level_is_one_of_the_documented_ones(level: str) -> None:
    """A log.level logging does not know (it raised ValueError at worker start) is refused."""
    with pytest.raises(UserError) as info:
        worker_config_from({"bootstrap.servers": "x", "log.level": level}, "w.properties")
    [problem] = info.value.problems
    assert (problem.path, problem.message) == (
        "log.level", f"expected one of DEBUG, INFO, WARNING, ERROR, got {level!r}")


def test_worker_log_level_in_any_case_is_the_logging_name() -> None:
    """`warning` or ` Debug ` are read as logging's WARNING and DEBUG."""
    for given, level in (("warning", "WARNING"), (" Debug ", "DEBUG"), (None, "INFO")):
        values = {"bootstrap.servers": "x"} | ({"log.level": given} if given else {})
        assert worker_config_from(values, None).log_level() == level


@pytest.mark.parametrize(("text", "message"), [
    ('{"bootstrap.servers": "x", "rest.basic.auth.user.info": "\\ud800:p"}',
     "not valid YAML/JSON: found invalid Unicode character escape code"),
    ('{"a":' * 3000 + "1" + "}" * 3000, "nested more than 64 levels deep"),
    ("[1]", "expected a JSON object of settings"),
])
def test_worker_json_config_is_read_by_the_hostile_input_reader(
        tmp_path: Path, text: str, message: str) -> None:
    """A JSON worker config with a lone surrogate (UnicodeEncodeError at REST start) or deep
    nesting gets the model reader's clear error naming the file."""
    path = tmp_path / "worker.json"
    path.write_text(text)
    with pytest.raises(UserError, match=message) as info:
        load_worker_config(path)
    assert str(path) in str(info.value)


def test_validators_of_the_table_bound_the_numbers() -> None:
    """The connector table's validators carry the bounds: a shards value past 4096 names it."""
    assert CONNECTOR_CONFIG["shards"].whole_number("4097") == (
        "expected from 1 to 4096 shards, got 4097")
    assert CONNECTOR_CONFIG["users"].whole_number("1e9") == (
        "expected a whole number (digits 0-9), got '1e9'; write it in digits: 1000000000")


@pytest.mark.parametrize("given", [{"heartbeat.interval.ms": "10000"},
                                   {"session.timeout.ms": "2000"},
                                   {"session.timeout.ms": "6000", "heartbeat.interval.ms": "7000"}])
def test_worker_heartbeat_not_below_the_session_timeout_is_refused(given: dict[str, str]) -> None:
    """A worker that would heartbeat less often than its group session lasts (dropped from the
    group between two heartbeats, its tasks moving back and forth) is refused at load, naming
    the file and heartbeat.interval.ms, either key given alone against the other's default."""
    with pytest.raises(UserError) as info:
        worker_config_from({"bootstrap.servers": "x", **given}, "w.properties")
    [problem] = info.value.problems
    assert (problem.file, problem.path) == ("w.properties", "heartbeat.interval.ms")
    assert problem.message.startswith("expected less than session.timeout.ms (")


def test_worker_heartbeat_below_the_session_timeout_is_taken() -> None:
    """A heartbeat a third of the session (Kafka's own ratio) loads."""
    config = worker_config_from({"bootstrap.servers": "x", "session.timeout.ms": "6000",
                                 "heartbeat.interval.ms": "2000"}, None)
    assert config.integer("heartbeat.interval.ms") == 2000


@pytest.mark.parametrize("user_info", ["adminsecret-no-colon", ":secret-without-user"])
def test_worker_basic_auth_without_user_and_password_is_refused_at_load(user_info: str) -> None:
    """rest.basic.auth.user.info that is not user:password is refused when the worker config is
    loaded (not only once the REST API starts), naming the file and key, never the value."""
    with pytest.raises(UserError) as info:
        worker_config_from({"bootstrap.servers": "x", "rest.basic.auth.user.info": user_info},
                           "w.properties")
    [problem] = info.value.problems
    assert (problem.file, problem.path) == ("w.properties", "rest.basic.auth.user.info")
    assert "secret" not in str(info.value)
