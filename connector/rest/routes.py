"""Kafka Connect's REST paths as a table over the handlers, and `dispatch`, the whole API.

`dispatch(herder, request)` matches the path segment by segment, each one percent-decoded on its
own (so a name may hold any character; `%2F` stays inside its segment), checks the method and
the body's media type, calls one handler and turns its Reply, or its exception, into Connect's
answer. It runs on the HTTP server's threads, concurrently: the herder does its own locking.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from typing import Any

from connector.rest import handlers as h
from connector.rest.calls import Call, Reply, Request, Response
from connector.rest.errors import RestError, error_body, status_of
from connector.runtime.herder import Herder

JSON_TYPE = "application/json"


# -- the table ----------------------------------------------------------------------------------
ANY = "*"  # one path segment, passed to the handler
C = ("connectors", ANY)
ROUTES: list[tuple[str, tuple[str, ...], Callable[[Call], Reply]]] = [
    ("GET", (), h.root),
    ("GET", ("connectors",), h.list_connectors),
    ("POST", ("connectors",), h.create_connector),
    ("GET", C, h.get_connector),
    ("DELETE", C, h.delete_connector),
    ("GET", (*C, "config"), h.get_config),
    ("PUT", (*C, "config"), h.put_config),
    ("GET", (*C, "status"), h.get_status),
    ("GET", (*C, "tasks"), h.get_tasks),
    ("GET", (*C, "tasks", ANY, "status"), h.get_task_status),
    ("POST", (*C, "tasks", ANY, "restart"), h.restart_task),
    ("PUT", (*C, "pause"), h.pause),
    ("PUT", (*C, "resume"), h.resume),
    ("PUT", (*C, "stop"), h.stop),
    ("POST", (*C, "restart"), h.restart),
    ("GET", (*C, "offsets"), h.get_offsets),
    ("DELETE", (*C, "offsets"), h.reset_offsets),
    ("GET", ("connector-plugins",), h.list_plugins),
    ("GET", ("connector-plugins", ANY, "config"), h.plugin_config),
    ("PUT", ("connector-plugins", ANY, "config", "validate"), h.validate),
]


def _segments(target: str) -> tuple[str, ...]:
    path = urllib.parse.urlsplit(target).path
    parts = path.strip("/").split("/") if path.strip("/") else []
    return tuple(urllib.parse.unquote(p) for p in parts)  # decoded one by one: %2F stays inside


def _match(pattern: tuple[str, ...], segments: tuple[str, ...]) -> tuple[str, ...] | None:
    if len(pattern) != len(segments):
        return None
    params = []
    for want, got in zip(pattern, segments, strict=True):
        if want == ANY:
            params.append(got)
        elif want != got:
            return None
    return tuple(params)


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == JSON_TYPE or media.endswith("+json")


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    if body is None:
        return Response(status, b"", dict(headers or {}))
    # A lone surrogate (from a JSON body's "\\ud800" echoed back) becomes its JSON escape.
    data = json.dumps(body, ensure_ascii=False).encode("utf-8", "backslashreplace")
    return Response(status, data, {"Content-Type": JSON_TYPE, **(headers or {})})


def error_response(status: int, message: str, headers: dict[str, str] | None = None
                   ) -> Response:
    return _json_response(status, error_body(status, message), headers)


def dispatch(herder: Herder, request: Request) -> Response:
    """Serve one request; every failure becomes Connect's error body with the right status."""
    segments = _segments(request.target)
    method = "GET" if request.method == "HEAD" else request.method  # the server drops the body
    found = [(m, h, p) for m, pattern, h in ROUTES
             if (p := _match(pattern, segments)) is not None]
    if not found:
        return error_response(404, "HTTP 404 Not Found")
    chosen = next(((h, p) for m, h, p in found if m == method), None)
    if chosen is None:
        allowed = ", ".join(sorted({m for m, _, _ in found}))
        return error_response(405, "HTTP 405 Method Not Allowed", {"Allow": allowed})
    if request.body.strip() and not _is_json(request.content_type):
        # Also what keeps a web page from POSTing here as a "simple" cross-site request.
        return error_response(415, "HTTP 415 Unsupported Media Type: send the body with "
                                   "Content-Type: application/json")
    handler, params = chosen
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.target).query,
                                  keep_blank_values=True)
    not_found = ("HTTP 404 Not Found" if not params
                 else f"Connector {params[0]} not found" if segments[0] == "connectors"
                 else f"Unknown plugin {params[0]}.")
    try:
        reply = handler(Call(herder, request, params, query))
        return _json_response(reply.status, reply.body, reply.headers)
    except Exception as exc:  # every error, expected or not, gets Connect's error body
        code, message = status_of(exc, not_found, request.where)
        headers = exc.headers if isinstance(exc, RestError) else None
        return error_response(code, message, headers)
