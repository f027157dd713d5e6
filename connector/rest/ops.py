"""The operational endpoints, served besides Connect's API and answering even before the herder
is ready: `GET /health` (KIP-1017), `GET /metrics` (Prometheus' text format) and
`GET /admin/loggers`, `GET|PUT /admin/loggers/{name}` (KIP-495, `?scope=worker|cluster` as
KIP-976). `/health` needs no credentials, so that a container's probe can call it; it tells
nothing but whether the worker is up.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from connector.rest.calls import Request, Response
from connector.rest.errors import error_body, status_of
from connector.rest.handlers import json_body
from connector.runtime.metrics import CONTENT_TYPE
from connector.runtime.operations import Operations

JSON_TYPE = "application/json"
OPEN_PATHS = ("/health",)  # answered without credentials


def _json(status: int, body: Any) -> Response:
    return Response(status, json.dumps(body).encode("utf-8"), {"Content-Type": JSON_TYPE})


def _error(status: int, message: str) -> Response:
    return _json(status, error_body(status, message))


def path_of(request: Request) -> str:
    return urllib.parse.urlsplit(request.target).path.rstrip("/") or "/"


def is_open(request: Request) -> bool:
    return path_of(request) in OPEN_PATHS


def serve_ops(ops: Operations, request: Request) -> Response | None:
    """The answer to an operational request, or None for any other path."""
    path = path_of(request)
    method = "GET" if request.method == "HEAD" else request.method
    if path in ("/health", "/metrics") or path == "/admin/loggers" or \
            path.startswith("/admin/loggers/"):
        if path.startswith("/admin/loggers/") and method == "PUT":
            return _put_level(ops, request, urllib.parse.unquote(path.split("/", 3)[3]))
        if method != "GET":
            return Response(405, json.dumps(error_body(405, "HTTP 405 Method Not Allowed"))
                            .encode(), {"Content-Type": JSON_TYPE,
                                        "Allow": "GET, PUT" if "/loggers/" in path else "GET"})
        if path == "/health":
            answer = ops.health.answer()
            return _json(answer.status, answer.to_json())
        if path == "/metrics":
            return Response(200, ops.metrics.exposition(), {"Content-Type": CONTENT_TYPE})
        if path == "/admin/loggers":
            return _json(200, {n: v.to_json() for n, v in ops.loggers.all().items()})
        name = urllib.parse.unquote(path.split("/", 3)[3])
        try:
            return _json(200, ops.loggers.get(name).to_json())
        except KeyError:
            return _error(404, f"Logger {name} not found.")
    return None


def _put_level(ops: Operations, request: Request, name: str) -> Response:
    scope = urllib.parse.parse_qs(urllib.parse.urlsplit(request.target).query).get(
        "scope", ["worker"])[-1].lower()
    if scope not in ("worker", "cluster"):
        return _error(400, f"Invalid scope {scope!r}: expected worker or cluster")
    try:
        level = json_body(request, "the level ({\"level\": \"DEBUG\"})").get("level")
        changed = ops.set_level(name, level if isinstance(level, str) else repr(level),
                                cluster=scope == "cluster")
    except Exception as exc:  # a bad body or level, or the config topic failing
        return _error(*status_of(exc, f"Logger {name} not found.", request.where))
    if changed is None:
        return Response(204)
    return _json(200, changed)
