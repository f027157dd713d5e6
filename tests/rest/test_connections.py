"""The REST server's connection limits: slow and idle clients cannot starve the others.

A normal client's requests use generous client timeouts: they are failure conditions (the
server starved it), never measurements.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from connector.rest import connections, start_rest
from tests.rest.memory_herder import MemoryHerder
from tests.rest.support import slowloris


@pytest.fixture
def url() -> Iterator[str]:
    with start_rest(MemoryHerder(), port=0) as server:
        yield server.url


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def _exchange(url: str, data: bytes) -> bytes:
    """Send `data` on a new connection; everything the server answers until it closes."""
    answer = b""
    with _connect(url) as sock:
        sock.sendall(data)
        while chunk := sock.recv(4096):
            answer += chunk
    return answer


def _rest_threads() -> int:
    return sum(t.name.startswith("doge-rest_") for t in threading.enumerate())


def test_slowloris_connections_do_not_starve_a_normal_client(url: str) -> None:
    """100 connections each sending a request a byte a second (more than the handler threads)
    hold no handler thread; a normal client keeps being served meanwhile."""
    socks = [_connect(url) for _ in range(100)]
    stop = threading.Event()
    slow = threading.Thread(target=slowloris, args=(socks, stop, b"GET /connectors HTTP/1.1\r\n"
                                                   b"Host: x\r\nX-Slow: " + b"a" * 100))
    slow.start()
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            for _ in range(5):
                time.sleep(0.5)
                assert client.get("/connectors").json() == []
                assert client.post("/connectors", json={"name": "x", "config": {}}
                                   ).status_code == 400
        assert _rest_threads() <= connections.THREADS
    finally:
        stop.set()
        slow.join(10)
        for sock in socks:
            sock.close()


def test_past_the_connection_limit_the_oldest_waiting_connection_is_dropped(
        url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """More idle connections than the limit: the oldest are closed, a new client is served."""
    monkeypatch.setattr(connections, "MAX_CONNECTIONS", 8)
    idle = [_connect(url) for _ in range(8)]
    time.sleep(0.3)  # the server accepts them all
    assert httpx.get(url + "/connectors", timeout=10).json() == []
    idle[0].settimeout(10)
    assert idle[0].recv(10) == b""  # closed by the server: it was the oldest
    for sock in idle:
        sock.close()


def test_a_request_not_completed_in_time_is_answered_408_and_closed(
        url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A request whose head stalls past the request timeout gets 408 and the connection ends."""
    monkeypatch.setattr(connections, "REQUEST_TIMEOUT_S", 0.5)
    answer = _exchange(url, b"GET /connectors HTTP/1.1\r\nHost: x\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert json.loads(body) == {"error_code": 408, "message": "The request was not received "
                                "within 0.5 seconds"}


def test_an_idle_kept_alive_connection_is_closed(url: str, monkeypatch: pytest.MonkeyPatch
                                                 ) -> None:
    """A connection that sends nothing is closed after the idle timeout, without an answer."""
    monkeypatch.setattr(connections, "IDLE_TIMEOUT_S", 0.5)
    with _connect(url) as sock:
        assert sock.recv(10) == b""


def test_pipelined_requests_are_answered_in_order(url: str) -> None:
    """Two requests sent in one write are both answered, in order, on the same connection."""
    with _connect(url) as sock:
        sock.sendall(b"GET /connectors HTTP/1.1\r\nHost: x\r\n\r\n"
                     b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while answer.count(b"HTTP/1.1 ") < 2 or not answer.endswith(b"}"):
            answer += sock.recv(4096)
    first, second = answer.split(b"HTTP/1.1 ")[1:]
    assert first.startswith(b"200") and second.startswith(b"404")


def test_a_body_over_the_limit_is_refused_before_it_is_sent(url: str) -> None:
    """Content-Length over the limit: 413 from the head alone, the body never read."""
    answer = _exchange(url, b"POST /connectors HTTP/1.1\r\nHost: x\r\nContent-Type: "
                       b"application/json\r\nContent-Length: 1000000000\r\n\r\n{")
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"larger than 16777216 bytes" in answer


def test_a_stalled_chunked_body_is_answered_408(url: str, monkeypatch: pytest.MonkeyPatch
                                                ) -> None:
    """A chunked body is read by its handler thread under the same deadline: 408, closed."""
    monkeypatch.setattr(connections, "REQUEST_TIMEOUT_S", 0.5)
    answer = _exchange(url, b"POST /connectors HTTP/1.1\r\nHost: x\r\nContent-Type: "
                       b"application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"nam")
    assert answer.startswith(b"HTTP/1.1 408")
    assert answer.endswith(b'{"error_code": 408, "message": "The request was not received '
                           b'within 0.5 seconds"}')


def test_a_content_length_of_thousands_of_digits_is_413(url: str) -> None:
    """A Content-Length too long for int() is too large, not a dropped connection."""
    answer = _exchange(url, b"POST /connectors HTTP/1.1\r\nHost: x\r\nContent-Length: "
                       + b"9" * 5000 + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413")
