"""The REST server's connections: requests are read without a thread, then served by a pool.

A thread per connection (http.server's ThreadingMixIn) lets idle or slow clients starve the
others: a few hundred connections that send a byte every few seconds (slowloris) each hold a
thread and its stack for as long as they like. Here one I/O thread reads every connection's
request head and body with a selector (a slow client costs a buffer, not a thread), under a
deadline per request and a bound on the connections and bytes held; only a complete request goes
to the bounded pool of handler threads, which answer it and give a kept-alive connection back.
A chunked body (rare: our clients send Content-Length) is read by its handler thread under the
same request deadline. The standard library has no such server; the alternatives (an ASGI
stack) would be a dependency larger than this module.
"""

from __future__ import annotations

import contextlib
import json
import queue
import re
import selectors
import socket
import threading
import time
from collections.abc import Callable

import attrs
import structlog

log = structlog.get_logger(__name__)
MAX_HEAD = 64 * 1024  # request line and headers
REQUEST_TIMEOUT_S = 30.0  # from a request's first byte to its last
IDLE_TIMEOUT_S = 60.0  # a kept-alive connection without a request is closed after this
MAX_CONNECTIONS = 512  # held at once; past it the oldest unfinished request is dropped
MAX_BUFFERED = 256 * 1024 * 1024  # bytes of unfinished requests held at once, likewise
THREADS = 16  # handler threads: requests served at the same time
_CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$", re.I | re.M)
_CHUNKED = re.compile(rb"^transfer-encoding[ \t]*:.*chunked", re.I | re.M)
_EXPECT = re.compile(rb"^expect[ \t]*:[ \t]*100-continue", re.I | re.M)
Serve = Callable[[socket.socket, bytes, "Connection"], None]


@attrs.define(eq=False)
class Connection:
    """One client connection while the I/O thread reads its next request."""

    sock: socket.socket
    address: tuple[str, int]
    buffer: bytearray = attrs.Factory(bytearray)
    opened: float = attrs.Factory(time.monotonic)  # this request's start (or the idle start)
    receiving: bool = False  # the request's first byte arrived
    continued: bool = False  # `100 Continue` sent for this request
    streamed: bool = False  # a chunked body: its handler thread reads it from the socket

    def complete(self, max_body: int) -> bool:
        """Whether the buffer holds a whole request (or enough to refuse it: its head)."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return len(self.buffer) > MAX_HEAD  # too long a head: the handler refuses it
        head = bytes(self.buffer[:end])
        if _CHUNKED.search(head):
            self.streamed = True
            self._continue(head)
            return True
        match = _CONTENT_LENGTH.search(head)
        if match is None:
            return True
        raw = match.group(1)
        if not raw.isdigit() or len(raw) > 20 or int(raw) > max_body:
            return True  # the handler answers 400 / 413 from the head alone
        self._continue(head)
        return len(self.buffer) >= end + 4 + int(raw)

    def _continue(self, head: bytes) -> None:
        """`100 Continue` once, if asked: curl waits for it before it sends a body."""
        if _EXPECT.search(head) and not self.continued:
            self.continued = True
            with contextlib.suppress(OSError):
                self.sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")


class ConnectionLoop:
    """Accepts on `listener`, reads requests, hands each complete one to `serve` on a pool
    thread; `serve` calls `keep(connection, leftover)` to read the next request."""

    def __init__(self, listener: socket.socket, serve: Serve, max_body: Callable[[], int],
                 threads: int = THREADS) -> None:
        self._listener = listener
        self._serve = serve
        self._max_body = max_body
        self._jobs: queue.SimpleQueue[tuple[bytes, Connection] | None] = queue.SimpleQueue()
        # Daemon threads (not a ThreadPoolExecutor's): a herder call still running must not
        # hold up the worker's exit.
        self._threads = [threading.Thread(target=self._work, name=f"doge-rest_{i}", daemon=True)
                         for i in range(threads)]
        for thread in self._threads:
            thread.start()
        self._selector = selectors.DefaultSelector()
        self._waiting: dict[socket.socket, Connection] = {}
        self._returned: queue.SimpleQueue[Connection] = queue.SimpleQueue()
        self._wake_read, self._wake_write = socket.socketpair()
        self._closed = threading.Event()
        listener.setblocking(False)
        self._wake_read.setblocking(False)
        self._selector.register(listener, selectors.EVENT_READ)
        self._selector.register(self._wake_read, selectors.EVENT_READ)

    def run(self) -> None:
        """The I/O thread's loop, until close()."""
        while not self._closed.is_set():
            for key, _ in self._selector.select(timeout=0.25):
                if key.fileobj is self._listener:
                    self._accept()
                elif key.fileobj is self._wake_read:
                    self._take_back()
                else:
                    self._read(key.data)
            self._expire()
        for connection in list(self._waiting.values()):
            self._drop(connection)
        self._selector.close()

    def close(self) -> None:
        self._closed.set()
        self._wake()
        for _ in self._threads:
            self._jobs.put(None)

    def keep(self, connection: Connection, leftover: bytes) -> None:
        """(Handler thread) read the connection's next request; `leftover` was sent ahead."""
        connection.buffer = bytearray(leftover)
        connection.opened, connection.receiving = time.monotonic(), bool(leftover)
        connection.continued = connection.streamed = False
        self._returned.put(connection)
        self._wake()

    # -- the I/O thread ----------------------------------------------------------------------
    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_write.send(b"\0")

    def _accept(self) -> None:
        while True:
            try:
                sock, address = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of descriptors: the oldest unfinished request goes
                log.warning("REST accept failed", error=str(exc))
                self._evict()
                return
            if len(self._waiting) >= MAX_CONNECTIONS:
                self._evict()
            self._watch(Connection(sock, address))

    def _watch(self, connection: Connection) -> None:
        connection.sock.setblocking(False)
        self._waiting[connection.sock] = connection
        self._selector.register(connection.sock, selectors.EVENT_READ, connection)
        if connection.buffer and connection.complete(self._max_body()):
            self._dispatch(connection)  # a pipelined request already read

    def _take_back(self) -> None:
        with contextlib.suppress(OSError):
            while self._wake_read.recv(4096):
                pass
        while not self._returned.empty():
            connection = self._returned.get()
            if self._closed.is_set():
                connection.sock.close()
            else:
                self._watch(connection)

    def _read(self, connection: Connection) -> None:
        try:
            data = connection.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(connection)
            return
        if not connection.receiving:
            connection.receiving, connection.opened = True, time.monotonic()
        connection.buffer += data
        if connection.complete(self._max_body()):
            self._dispatch(connection)
        elif sum(len(c.buffer) for c in self._waiting.values()) > MAX_BUFFERED:
            self._evict()

    def _dispatch(self, connection: Connection) -> None:
        self._forget(connection)
        connection.sock.setblocking(True)
        self._jobs.put((bytes(connection.buffer), connection))

    def _work(self) -> None:
        """A handler thread: serve complete requests until close()."""
        while (job := self._jobs.get()) is not None:
            data, connection = job
            if self._closed.is_set():
                connection.sock.close()
                continue
            try:
                self._serve(connection.sock, data, connection)
            except Exception:  # a thread lost would shrink the pool for good
                log.warning("REST request not served", client=str(connection.address),
                            exc_info=True)
                with contextlib.suppress(OSError):
                    connection.sock.close()

    def _expire(self) -> None:
        now = time.monotonic()
        for connection in list(self._waiting.values()):
            limit = REQUEST_TIMEOUT_S if connection.receiving else IDLE_TIMEOUT_S
            if now - connection.opened > limit:
                if connection.receiving:  # a request that never completed: say why
                    with contextlib.suppress(OSError):
                        connection.sock.send(timeout_response())
                self._drop(connection)

    def _evict(self) -> None:
        """Drop the connection waiting longest: slow and idle ones make room for new ones."""
        if self._waiting:
            self._drop(min(self._waiting.values(), key=lambda c: c.opened))

    def _forget(self, connection: Connection) -> None:
        self._waiting.pop(connection.sock, None)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(connection.sock)

    def _drop(self, connection: Connection) -> None:
        self._forget(connection)
        with contextlib.suppress(OSError):
            connection.sock.close()


def timeout_response() -> bytes:
    """The 408 answer to a request that did not arrive within REQUEST_TIMEOUT_S."""
    body = json.dumps({"error_code": 408, "message": f"The request was not received within "
                       f"{REQUEST_TIMEOUT_S:g} seconds"}).encode()
    return (b"HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


class RequestReader:
    """The handler thread's `rfile`: the request the I/O thread read, then, for a chunked body
    only, the socket until the request's deadline."""

    def __init__(self, connection: Connection, data: bytes) -> None:
        self._connection = connection
        self._buffer = bytearray(data)
        self._deadline = connection.opened + REQUEST_TIMEOUT_S

    def _fill(self) -> bool:
        if not self._connection.streamed:
            return False  # the I/O thread read all of it: the end of this request
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request was not received in time")
        sock = self._connection.sock
        previous = sock.gettimeout()
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        finally:
            sock.settimeout(previous)
        self._buffer += chunk
        return bool(chunk)

    def _take(self, n: int) -> bytes:
        out = bytes(self._buffer[:n])
        del self._buffer[:n]
        return out

    def readline(self, limit: int = -1) -> bytes:
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0 and (limit < 0 or end < limit):
                return self._take(end + 1)
            if 0 <= limit <= len(self._buffer):
                return self._take(limit)
            if not self._fill():
                return self._take(len(self._buffer))

    def read(self, n: int = -1) -> bytes:
        while (n < 0 or len(self._buffer) < n) and self._fill():
            pass
        return self._take(len(self._buffer) if n < 0 else n)

    def leftover(self) -> bytes:
        """What the client sent after this request (pipelining)."""
        return bytes(self._buffer)

    def close(self) -> None:
        """Nothing to close: the socket belongs to the connection."""
