"""A TCP port that refuses connections until a test opens it, then forwards to a real server.

Lets a test hold a real worker before it reaches the real broker or registry (nobody listens on
the port: connection refused), look at it, then let it through, without stopping the shared
servers other tests use.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from types import TracebackType

from tests.runtime.cluster import free_port


class _Forward(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        try:
            upstream = socket.create_connection(self.server.upstream, timeout=30)
        except OSError:
            return
        with upstream:
            back = threading.Thread(target=_pump, args=(upstream, self.request), daemon=True)
            back.start()
            _pump(self.request, upstream)
            back.join(30)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        super().__init__(("127.0.0.1", port), _Forward)


def _pump(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


class Gate:
    """`port` is closed until `open()`; then each connection is forwarded to `upstream`."""

    def __init__(self, upstream: str) -> None:
        host, _, port = upstream.rpartition(":")
        self.upstream = (host, int(port))
        self.port = free_port()
        self._server: _Server | None = None

    def open(self) -> None:
        self._server = _Server(self.port, self.upstream)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> Gate:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
