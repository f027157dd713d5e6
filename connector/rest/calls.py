"""The values passed between the HTTP server, the router and the handlers."""

from __future__ import annotations

from typing import Any

import attrs

from connector.runtime.herder import Herder


@attrs.frozen
class Request:
    method: str
    target: str  # path and query as received, still percent-encoded
    body: bytes = b""
    content_type: str | None = None
    host: str | None = None  # the Host header, for absolute Location headers as Connect sends

    @property
    def where(self) -> str:
        return f"{self.method} {self.target.split('?', 1)[0]}"


@attrs.frozen
class Response:
    status: int
    body: bytes = b""  # JSON, or empty
    headers: dict[str, str] = attrs.Factory(dict)


@attrs.frozen
class Call:
    """One matched request: the herder, the request, the path's variable segments."""

    herder: Herder
    request: Request
    params: tuple[str, ...]
    query: dict[str, list[str]]


@attrs.frozen
class Reply:
    """What a handler answers: status, a JSON-able body (None: no body), extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = attrs.Factory(dict)
