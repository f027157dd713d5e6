"""Kafka Connect's error bodies ({"error_code", "message"}) and exception -> status mapping."""

from __future__ import annotations

import uuid
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
    "Connector foo not found"). An unexpected exception is logged here with its traceback and
    an error id; the client gets the id and a generic message: a traceback, an exception's
    text or a file path of the worker would tell an attacker about its insides.
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
    error_id = uuid.uuid4().hex[:16]
    log.error("unexpected error serving a REST request", request=where[:200],
              error_id=error_id, exc_info=exc)
    return 500, (f"Unexpected error in the worker (error id {error_id}); its log has the "
                 "details under that id")
