"""REST threads never touch worker state: they hand a request to the worker's loop thread.

As Kafka Connect's DistributedHerder does: a request is a callable plus a future; the loop
thread runs the queued requests between its rounds and the caller waits for the answer. A call
made on the loop thread itself (the command line adding connectors before the loop starts)
runs at once. A socket pair wakes the loop as soon as a request arrives.
"""

from __future__ import annotations

import queue
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from connector.runtime.herder import Conflict

T = TypeVar("T")
TIMEOUT_S = 90.0  # Connect's default REST request timeout
STOPPING = "The worker is shutting down; retry on another worker"


class RequestQueue:
    def __init__(self) -> None:
        self._owner = threading.get_ident()
        self._queue: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = \
            queue.SimpleQueue()
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._closed = False
        self._lock = threading.Lock()  # orders close() against late submissions

    def call(self, request: Callable[[], T], timeout_s: float = TIMEOUT_S) -> T:
        """Run `request` on the loop thread and return its result (or raise its exception)."""
        if threading.get_ident() == self._owner:
            return request()
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise Conflict(STOPPING)
            self._queue.put((request, future))
            self._wake_write.send(b"\0")
        try:
            return future.result(timeout_s)
        except TimeoutError:
            raise TimeoutError(f"the worker did not answer in {timeout_s:.0f}s") from None

    def waitable(self) -> socket.socket:
        """Readable when requests are waiting (for `multiprocessing.connection.wait`)."""
        return self._wake_read

    def run_pending(self) -> None:
        """Run every queued request (on the loop thread)."""
        try:
            while self._wake_read.recv(4096):
                pass
        except BlockingIOError:
            pass
        while True:
            try:
                request, future = self._queue.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(request())
            except Exception as exc:  # raised again in the caller's thread
                future.set_exception(exc)

    def close(self) -> None:
        """Refuse new requests and fail the waiting ones (the worker is stopping)."""
        with self._lock:
            self._closed = True
        while True:
            try:
                _, future = self._queue.get_nowait()
            except queue.Empty:
                break
            if future.set_running_or_notify_cancel():
                future.set_exception(Conflict(STOPPING))
        self._wake_read.close()
        self._wake_write.close()
