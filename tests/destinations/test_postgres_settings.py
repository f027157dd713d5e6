"""PostgreSQL destination settings: URLs shown masked, upsert topics checked, config keys known."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fastavro
import pytest

from connector.destinations.postgres.conninfo import PgTarget
from connector.destinations.postgres.settings import UpsertSpec, postgres_settings
from connector.errors import UserError
from connector.model.avro import LoadedSchema, record_type
from connector.runtime.config import load_connector
from tests.helpers import ROOT

SCHEMA: dict[str, Any] = {
    "type": "record", "name": "Page", "fields": [
        {"name": "user_id", "type": "string"}, {"name": "page", "type": "string"},
        {"name": "referrer", "type": ["null", "string"]}]}


def _schemas() -> dict[str, LoadedSchema]:
    parsed = fastavro.parse_schema(SCHEMA, named_schemas={})
    assert isinstance(parsed, dict)
    schema = LoadedSchema("page_views", "Page", Path("page_views.avsc"), json.dumps(SCHEMA),
                          parsed, record_type(parsed))
    return {"page_views": schema, "other": schema}


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://doge:s3cr%40t@db.example:6543/app", "postgresql://doge:***@db.example:6543/app"),
    ("postgres://doge@127.0.0.1/app", "postgresql://doge@127.0.0.1:5432/app"),
    ("postgresql://doge:pw@[::1]:5432/app?sslmode=require", "postgresql://doge:***@[::1]:5432/app"),
])
def test_url_is_displayed_with_the_password_masked(url: str, shown: str) -> None:
    """Every message shows the target as postgresql://user:***@host:port/db."""
    target = PgTarget.parse(url)
    assert target.display == shown
    assert "s3cr" not in repr(target)


def test_scrub_removes_every_form_of_the_password() -> None:
    """The password is masked in any text, raw and percent-encoded alike."""
    target = PgTarget.parse("postgresql://doge:p%40ss%3Aword@h/db")
    text = target.scrub("failed for p@ss:word (given as p%40ss%3Aword)")
    assert "p@ss" not in text and "p%40ss" not in text and "***" in text


def test_environment_only_target_masks_pgpassword(monkeypatch: pytest.MonkeyPatch) -> None:
    """`postgres:` takes PG* variables; PGPASSWORD is masked like a URL password."""
    for key, value in {"PGHOST": "dbhost", "PGPORT": "6000", "PGUSER": "me",
                       "PGDATABASE": "mine", "PGPASSWORD": "hunter2"}.items():
        monkeypatch.setenv(key, value)
    target = PgTarget.parse("postgres:")
    assert target.conninfo == ""
    assert target.display == "postgresql://me:***@dbhost:6000/mine"
    assert target.scrub("hunter2 leaked") == "*** leaked"


def test_other_schemes_are_refused() -> None:
    """Only PostgreSQL URLs are accepted, with an example of one."""
    with pytest.raises(UserError, match="expected a PostgreSQL URL"):
        PgTarget.parse("mysql://a:b@c/d")


def test_upsert_topics_from_config_and_cli() -> None:
    """postgres.upsert.topics and --upsert add up; keys are the user plus the named fields."""
    settings = postgres_settings({"postgres.upsert.topics": "page_views:page",
                                  "postgres.table.prefix": "sim_"}, {}, _schemas(),
                                 "postgresql://u@h/d", ["other"])
    assert settings.upsert == (UpsertSpec("page_views", ("page",)), UpsertSpec("other"))
    assert settings.upsert[0].key_columns == ("doge_user", "page")
    assert settings.table("page_views") == "sim_page_views"


@pytest.mark.parametrize(("items", "message"), [
    (["nope"], "unknown topic 'nope'"),
    (["page_views:missing"], "has no field 'missing'"),
    (["page_views:referrer"], "may be null and cannot be part of a key"),
    (["page_views:page+page"], "names a key field twice"),
])
def test_bad_upsert_topics_are_refused(items: list[str], message: str) -> None:
    """An --upsert naming an unknown topic or an unusable key field is a clear error."""
    with pytest.raises(UserError, match=message):
        postgres_settings({}, {}, _schemas(), "postgresql://u@h/d", items)


def test_url_precedence_cli_then_connector_then_worker() -> None:
    """--to wins over postgres.url, which wins over the worker's postgres.url."""
    schemas = _schemas()
    worker = {"postgres.url": "postgresql://w@worker/db"}
    assert "worker" in postgres_settings({}, worker, schemas).target.display
    connector = {"postgres.url": "postgresql://c@conn/db"}
    assert "conn" in postgres_settings(connector, worker, schemas).target.display
    assert "cli" in postgres_settings(connector, worker, schemas,
                                      "postgresql://x@cli/db").target.display


def test_example_connector_config_loads() -> None:
    """config/banking-postgres.json is a valid connector config (postgres.* keys are known)."""
    config = load_connector(ROOT / "config" / "banking-postgres.json")
    assert config.raw["postgres.schema"] == "public"
    assert config.users == 10
