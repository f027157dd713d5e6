"""The REST API's HTTP server: standard library http.server parsing, in the background.

Connections are read by one I/O thread and complete requests served by a bounded pool of
threads (connections.py: slow or idle clients cannot starve the others). Thread-safety: the
pool's threads call the herder concurrently; the herder does its own locking, and this layer
keeps no state besides its connections.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any

import structlog

from connector.model.numbers import shorten
from connector.rest import connections, info
from connector.rest.auth import REALM, UNAUTHORIZED, BasicAuth
from connector.rest.calls import Request, Response
from connector.rest.connections import Connection, ConnectionLoop, RequestReader
from connector.rest.errors import RestError, error_body
from connector.rest.ops import is_open, serve_ops
from connector.rest.routes import dispatch, error_response
from connector.runtime.herder import Herder
from connector.runtime.operations import Operations

log = structlog.get_logger(__name__)
MAX_BODY = 16 * 1024 * 1024  # inline models are the largest bodies; far below this


class _Server(socketserver.TCPServer):
    """Binds and listens; its ConnectionLoop does the rest."""

    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], herder: Herder | None, auth: BasicAuth | None,
                 ops: Operations | None = None) -> None:
        self.herder = herder
        self.auth = auth
        self.ops = ops
        super().__init__(address, socketserver.BaseRequestHandler)  # requests: serve_one
        self.loop = ConnectionLoop(self.socket, self.serve_one, lambda: MAX_BODY)

    def serve_one(self, sock: socket.socket, data: bytes, connection: Connection) -> None:
        """(Pool thread) answer one request; keep the connection or close it."""
        reader = RequestReader(connection, data)
        keep = False
        try:
            handler = _Handler(sock, connection.address, self, reader)
            keep = not handler.close_connection and not connection.streamed
        except Exception:  # a connection reset mid-answer; nothing to tell anyone
            log.debug("REST connection dropped", client=str(connection.address),
                      exc_info=True)
        if keep:
            self.loop.keep(connection, reader.leftover())
        else:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup of the host, which can stall start-up.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and `Expect: 100-continue` as curl sends it
    server_version = f"doge-connect/{info.version()}"
    # For writing the answer to a client that does not read it.
    timeout = connections.REQUEST_TIMEOUT_S
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall
    server: _Server
    rfile: RequestReader  # type: ignore[assignment]

    def __init__(self, sock: socket.socket, address: tuple[str, int], server: _Server,
                 reader: RequestReader) -> None:
        self._reader = reader
        super().__init__(sock, address, server)

    def setup(self) -> None:
        super().setup()
        self.rfile = self._reader  # the request as the I/O thread read it

    def handle(self) -> None:
        self.close_connection = True
        self.handle_one_request()  # one request; the loop reads the next one

    def handle_expect_100(self) -> bool:
        return True  # the I/O thread sent `100 Continue` when it wanted the body

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
            try:
                return self._read_chunked()
            except TimeoutError:
                raise RestError(408, f"The request was not received within "
                                     f"{connections.REQUEST_TIMEOUT_S:g} seconds") from None
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        text = raw.strip()
        if not (text.isascii() and text.isdigit()):
            raise RestError(400, f"Invalid Content-Length {shorten(raw)!r}")
        if len(text) > 20 or int(text) > MAX_BODY:  # 20 digits: int() stays cheap
            raise RestError(413, f"The request body is larger than {MAX_BODY} bytes")
        return self.rfile.read(int(text))

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
        self._httpd.loop.close()
        self._thread.join(10)
        self._httpd.server_close()

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
    thread = threading.Thread(target=httpd.loop.run, name=f"doge-rest-{httpd.server_address[1]}",
                              daemon=True)
    thread.start()
    return RestServer(httpd, thread)
