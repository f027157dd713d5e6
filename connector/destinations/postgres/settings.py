"""The PostgreSQL destination's settings: connector keys `postgres.*`, worker keys, CLI options.

    postgres.url            libpq URL; else the worker's `postgres.url`; else the PG* variables
    postgres.schema         schema of the tables and of doge_offsets (default public)
    postgres.table.prefix   prepended to each topic's table name (default none)
    postgres.upsert.topics  comma-separated TOPIC or TOPIC:FIELD[+FIELD...]: these topics keep one
                            row per key (the user, plus the named fields) with the latest values;
                            every other topic is appended to (one row per event)

`doge run --to URL --upsert TOPIC[:FIELDS]` sets the same (the CLI's upsert topics are added to
the config's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from connector.destinations.postgres.columns import USER_COLUMN, check_identifier
from connector.destinations.postgres.conninfo import ENV_ONLY, PgTarget
from connector.errors import UserError
from connector.model.avro import LoadedSchema

URL_KEY: Final = "postgres.url"
SCHEMA_KEY: Final = "postgres.schema"
PREFIX_KEY: Final = "postgres.table.prefix"
UPSERT_KEY: Final = "postgres.upsert.topics"
URL_DOC: Final = ("PostgreSQL destination: libpq URL (postgresql://user:password@host:port/db); "
                  "default: the worker's postgres.url, else the PG* environment variables.")


@attrs.frozen
class PostgresKey:
    """A connector key of this destination, for the connector config's table of known keys."""

    name: str
    default: str | None
    doc: str
    secret: bool = False  # may hold a password: masked wherever configs are shown


POSTGRES_KEYS: Final = (
    PostgresKey(URL_KEY, None, URL_DOC, secret=True),
    PostgresKey(SCHEMA_KEY, "public", "PostgreSQL destination: schema of the topic tables and "
                "doge_offsets."),
    PostgresKey(PREFIX_KEY, "", "PostgreSQL destination: prefix of every topic's table name."),
    PostgresKey(UPSERT_KEY, "", "PostgreSQL destination: comma-separated TOPIC or "
                "TOPIC:FIELD+FIELD kept as one row per key (the user, plus those fields) with the "
                "latest values; other topics are appended."),
)


@attrs.frozen
class UpsertSpec:
    """A topic kept as one row per key: the user id plus `fields` (in this order)."""

    topic: str
    fields: tuple[str, ...] = ()

    @property
    def key_columns(self) -> tuple[str, ...]:
        return (USER_COLUMN, *self.fields)


@attrs.frozen
class PostgresSettings:
    target: PgTarget
    schema: str
    table_prefix: str
    upsert: tuple[UpsertSpec, ...]

    def table(self, topic: str) -> str:
        return f"{self.table_prefix}{topic}"

    def upsert_of(self, topic: str) -> UpsertSpec | None:
        return next((u for u in self.upsert if u.topic == topic), None)


def postgres_settings(connector: Mapping[str, str], worker: Mapping[str, str],
                      schemas: Mapping[str, LoadedSchema], url: str | None = None,
                      upsert: Iterable[str] = ()) -> PostgresSettings:
    """Settings from a connector config, a worker config and CLI overrides (`url`, `upsert`)."""
    if url is not None:
        target = PgTarget.parse(url, "--to")
    elif connector.get(URL_KEY):
        target = PgTarget.parse(connector[URL_KEY], f"config.{URL_KEY}")
    elif worker.get(URL_KEY):
        target = PgTarget.parse(worker[URL_KEY], f"worker {URL_KEY}")
    else:
        target = PgTarget.parse(ENV_ONLY[0])
    schema = connector.get(SCHEMA_KEY) or "public"
    prefix = connector.get(PREFIX_KEY, "")
    check_identifier(schema, f"config.{SCHEMA_KEY}")
    specs = parse_upsert(_split(connector.get(UPSERT_KEY, "")), schemas, f"config.{UPSERT_KEY}")
    specs += parse_upsert(upsert, schemas, "--upsert")
    topics = [s.topic for s in specs]
    for topic in set(topics):
        if topics.count(topic) > 1:
            raise UserError(f"upsert topic {topic!r} is named twice ({UPSERT_KEY} and --upsert "
                            "together); name it once")
    for topic in schemas:
        check_identifier(f"{prefix}{topic}", f"table of topic {topic!r}")
    return PostgresSettings(target, schema, prefix, specs)


def parse_upsert(items: Iterable[str], schemas: Mapping[str, LoadedSchema],
                 where: str) -> tuple[UpsertSpec, ...]:
    """`TOPIC` or `TOPIC:FIELD+FIELD` items, checked against the model's topics and fields."""
    specs = []
    for item in items:
        topic, _, fields_text = item.strip().partition(":")
        if topic not in schemas:
            raise UserError(f"{where}: unknown topic {topic!r}; the model's topics are "
                            f"{', '.join(sorted(schemas))}")
        fields = tuple(f.strip() for f in fields_text.split("+")) if fields_text else ()
        known = {str(f["name"]): f for f in schemas[topic].parsed["fields"]}
        for field in fields:
            if field not in known:
                raise UserError(f"{where}: topic {topic!r} has no field {field!r}; its fields "
                                f"are {', '.join(known)}")
            if isinstance(known[field]["type"], list):
                raise UserError(f"{where}: field {field!r} of topic {topic!r} may be null and "
                                "cannot be part of a key")
        if len(set(fields)) != len(fields):
            raise UserError(f"{where}: topic {topic!r} names a key field twice")
        specs.append(UpsertSpec(topic, fields))
    return tuple(specs)


def _split(text: str) -> list[str]:
    return [item for item in (t.strip() for t in text.split(",")) if item]
