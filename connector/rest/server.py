"""The REST API's HTTP server: standard library, one thread per connection, in the background.

Thread-safety: requests are served concurrently, each on its own thread, and call the herder
directly from there. The herder is responsible for its own locking; this layer keeps no state
besides the server socket.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import structlog

from connector.rest import info
from connector.rest.auth import REALM, UNAUTHORIZED, BasicAuth
from connector.rest.calls import Request, Response
from connector.rest.errors import RestError, error_body
from connector.rest.ops import is_open, serve_ops
from connector.rest.routes import dispatch, error_response
from connector.runtime.herder import Herder
from connector.runtime.operations import Operations

log = structlog.get_logger(__name__)
MAX_BODY = 16 * 1024 * 1024  # inline models are the largest bodies; far below this
IDLE_TIMEOUT_S = 60.0  # an idle keep-alive connection gives its thread back after this


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hung herder call must not block close() or interpreter exit

    def __init__(self, address: tuple[str, int], herder: Herder | None, auth: BasicAuth | None,
                 ops: Operations | None = None) -> None:
        self.herder = herder
        self.auth = auth
        self.ops = ops
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup of the host, which can stall start-up.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("REST connection dropped", client=str(client_address), exc_info=True)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and `Expect: 100-continue` as curl sends it
    server_version = f"doge-connect/{info.version()}"
    timeout = IDLE_TIMEOUT_S
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall
    server: _Server

    def _serve(self) -> None:
        started = time.monotonic()
        response = self._respond()
        self._send(response)
        log.debug("REST request", method=self.command, path=self.path, status=response.status,
                  ms=round((time.monotonic() - started) * 1000, 1))

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = _serve

    def _respond(self) -> Response:
        auth, ops = self.server.auth, self.server.ops
        if ops is not None and is_open(Request(self.command, self.path)):
            return serve_ops(ops, Request(self.command, self.path)) or error_response(404, "")
        if auth is not None and not auth.allows(self.headers.get("Authorization")):
            self.close_connection = True  # its body, if any, stays unread
            return error_response(401, UNAUTHORIZED, {"WWW-Authenticate": REALM})
        try:
            body = self._read_body()
        except RestError as exc:
            self.close_connection = True  # the rest of the body would be read as a request
            return error_response(exc.status, exc.message)
        request = Request(self.command, self.path, body, self.headers.get("Content-Type"),
                          self.headers.get("Host"))
        served = serve_ops(ops, request) if ops is not None else None
        if served is not None:
            return served
        herder = self.server.herder
        if herder is None:  # the worker is still starting (KIP-1017: /health says so too)
            return error_response(503, "The worker is still starting up; try again shortly",
                                  {"Retry-After": "1"})
        return dispatch(herder, request)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        if not (raw.strip().isascii() and raw.strip().isdigit()):
            raise RestError(400, f"Invalid Content-Length {raw!r}")
        length = int(raw)
        if length > MAX_BODY:
            raise RestError(413, f"The request body is larger than {MAX_BODY} bytes")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                size = -1
            if size < 0:
                raise RestError(400, "Malformed chunked request body")
            total += size
            if total > MAX_BODY:
                raise RestError(413, f"The request body is larger than {MAX_BODY} bytes")
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers, up to the blank line
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)  # the CRLF after each chunk

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        if response.status != 204:
            self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None
                   ) -> None:
        """Errors http.server detects itself (bad request line, unknown method), as JSON."""
        if code == 501:  # http.server's answer to a method it has no do_X for
            code, message = 405, "HTTP 405 Method Not Allowed"
        text = message or self.responses.get(code, ("Error",))[0]
        data = json.dumps(error_body(code, text)).encode("utf-8")
        self.close_connection = True
        self.send_response(code, text)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(data)

    def version_string(self) -> str:
        return self.server_version  # no Python version in the Server header

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # _serve logs each request once, with its timing

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("REST server", message=format % args)


class RestServer:
    """A running REST API; `close()` stops it (in-flight requests finish on their own threads)."""

    def __init__(self, httpd: _Server, thread: threading.Thread) -> None:
        self._httpd = httpd
        self._thread = thread
        self._closed = False
        host, port = httpd.server_address[:2]
        self.host, self.port = str(host), int(port)

    def attach(self, herder: Herder) -> None:
        """Serve Connect's API over `herder` from now on (started with none: answers 503)."""
        self._httpd.herder = herder

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(10)

    def __enter__(self) -> RestServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def start_rest(herder: Herder | None, host: str = "127.0.0.1", port: int = 8083,
               basic_auth: str | None = None, ops: Operations | None = None) -> RestServer:
    """Serve Kafka Connect's REST API over `herder` on host:port (0: a free port) until close().

    `basic_auth` ("user:password") makes every request need those HTTP basic credentials
    (but `/health`). `ops` adds /health, /metrics and /admin/loggers (rest/ops.py). With no
    herder yet (a worker still starting) the API answers 503 until `attach`.
    Raises OSError when the address cannot be bound.
    """
    auth = BasicAuth(basic_auth) if basic_auth else None
    server_class = _Server6 if ":" in host else _Server
    httpd = server_class((host, port), herder, auth, ops)
    # A short poll interval makes close() prompt; the idle wake-ups cost nothing measurable.
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"doge-rest-{httpd.server_address[1]}", daemon=True)
    thread.start()
    return RestServer(httpd, thread)
