"""Kafka Connect's error bodies ({"error_code", "message"}) and exception -> status mapping."""

from __future__ import annotations

from typing import Any

import structlog

from connector.errors import UserError
from connector.runtime.herder import Conflict, NotFound

log = structlog.get_logger(__name__)


class RestError(Exception):
    """An error the REST layer itself detects (bad request line, body, method...)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"error_code": status, "message": message}


def one_paragraph(exc: UserError) -> str:
    """A UserError's problems as one paragraph (errors only when there are any)."""
    problems = exc.errors or exc.problems
    text = "; ".join(p.render() for p in problems) or str(exc)
    return " ".join(text.split())  # multi-line messages stay one paragraph in JSON clients


def status_of(exc: BaseException, not_found: str, where: str) -> tuple[int, str]:
    """(HTTP status, message) for an exception raised while serving `where` ("METHOD /path").

    `not_found` is the message for a NotFound that carries none of its own (Connect's style is
    "Connector foo not found"). Unexpected exceptions are logged with their traceback here, and
    only their type and text reach the client.
    """
    if isinstance(exc, RestError):
        return exc.status, exc.message
    if isinstance(exc, NotFound):
        text = str(exc)
        # A bare name (or nothing) is not a message; say what was not found, as Connect does.
        return 404, text if text and " " in text else not_found
    if isinstance(exc, Conflict):
        return 409, str(exc) or "The request conflicts with the connector's current state"
    if isinstance(exc, UserError):
        return 400, one_paragraph(exc)
    log.error("unexpected error serving a REST request", request=where, exc_info=exc)
    detail = " ".join(str(exc).split())
    return 500, f"Unexpected error in {where}: {type(exc).__name__}" + \
        (f": {detail}" if detail else "") + " (details in the worker's log)"
