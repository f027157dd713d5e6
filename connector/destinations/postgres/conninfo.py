"""Where to connect: a libpq URL (or PG* variables), shown everywhere with its password masked.

Any error text from libpq or the server passes through `PgTarget.scrub` before it reaches a log or
an exception, and the URL itself is only ever shown as `display`.
"""

from __future__ import annotations

import contextlib
import os
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Final, NoReturn

import attrs
import psycopg
from psycopg import conninfo as pg_conninfo

from connector.errors import InfrastructureError, UserError

SCHEMES: Final = ("postgresql://", "postgres://")
ENV_ONLY: Final = ("postgres:", "postgresql:")  # every setting from the PG* variables
MASK: Final = "***"
CONNECT_TIMEOUT_S: Final = 10


@attrs.frozen
class PgTarget:
    """A PostgreSQL server and database to connect to."""

    conninfo: str = attrs.field(repr=False)  # as given; may hold a password
    display: str  # the same with the password masked, for messages
    secrets: tuple[str, ...] = attrs.field(repr=False, default=())

    @classmethod
    def parse(cls, url: str, where: str = "--to") -> PgTarget:
        """A target from `postgresql://user:password@host:port/dbname?...`, or from the PG*
        environment variables alone (`postgres:` or `postgresql://`)."""
        text = url.strip()
        if text in ENV_ONLY:
            text = ""
        elif not text.startswith(SCHEMES):
            raise UserError(f"{where}: expected a PostgreSQL URL such as "
                            "postgresql://user:password@host:5432/dbname (or postgres: to take "
                            "every setting from the PG* environment variables)")
        secrets = (*_raw_passwords(text), os.environ.get("PGPASSWORD") or "")
        try:
            params = pg_conninfo.conninfo_to_dict(text)
        except psycopg.Error as exc:
            # libpq's message may quote the URL: masked like the URL itself.
            reason = _mask(" ".join(str(exc).split()), secrets)
            raise UserError(f"{where}: malformed PostgreSQL URL {_mask(text, secrets)} ({reason});"
                            " expected postgresql://user:password@host:5432/dbname") from None
        secrets += (str(params.get("password") or ""),)
        return cls(text, _display(params), tuple(s for s in secrets if s))

    def scrub(self, text: str) -> str:
        """`text` with every form of the password replaced by the mask."""
        return _mask(text, self.secrets)

    def connect(self, **kwargs: object) -> psycopg.Connection[tuple[object, ...]]:
        """A connection (autocommit off); UserError naming the target on any failure."""
        with self.errors("cannot connect", UserError):
            return psycopg.connect(self.conninfo, connect_timeout=CONNECT_TIMEOUT_S,
                                   application_name="doge-connect", **kwargs)  # type: ignore[arg-type]

    @contextlib.contextmanager
    def errors(self, action: str, kind: type[Exception] = InfrastructureError) -> Iterator[None]:
        """Turn psycopg errors into one clear `kind` error: action, target, server's message."""
        try:
            yield
        except psycopg.Error as exc:
            self.fail(action, exc, kind)

    def fail(self, action: str, exc: BaseException, kind: type[Exception] = UserError
             ) -> NoReturn:
        message = " ".join(_message(exc).split()) or type(exc).__name__
        raise kind(f"PostgreSQL {self.display}: {action}: {self.scrub(message)}") from None


def _message(exc: BaseException) -> str:
    """The server's message with its detail and hint, without the echoed statement."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if not primary:
        return str(exc)
    extra = [getattr(diag, "message_detail", None), getattr(diag, "message_hint", None)]
    return " ".join([primary, *(e for e in extra if e)])


def _display(params: Mapping[str, object]) -> str:
    """postgresql://user:***@host:port/dbname, filled in from PG* variables where not given."""
    env = os.environ
    user = str(params.get("user") or env.get("PGUSER") or "")
    host = str(params.get("host") or env.get("PGHOST") or "localhost")
    port = str(params.get("port") or env.get("PGPORT") or "5432")
    dbname = str(params.get("dbname") or env.get("PGDATABASE") or user)
    has_password = bool(params.get("password") or env.get("PGPASSWORD"))
    auth = f"{user}:{MASK}@" if has_password else (f"{user}@" if user else "")
    host_part = f"[{host}]" if ":" in host and "," not in host else host
    return f"postgresql://{auth}{host_part}:{port}/{dbname}"


def _raw_passwords(url: str) -> tuple[str, ...]:
    """The password as written in the URL (percent-encoded or not) and as decoded."""
    found: list[str] = []
    rest = url.split("://", 1)[1] if "://" in url else ""
    userinfo, at, _ = rest.rpartition("@")
    if at and ":" in userinfo:
        raw = userinfo.split(":", 1)[1]
        found += [raw, urllib.parse.unquote(raw)]
    with contextlib.suppress(ValueError):
        query = urllib.parse.urlsplit(url).query if "://" in url else ""
        found += [value for key, value in urllib.parse.parse_qsl(query) if key == "password"]
    return tuple(found)


def _mask(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with each secret (longest first, so no part of one survives) replaced by the mask."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text
