"""What the REST contract tests run against (a RestTarget) and the client they use (RestClient).

The default target is our server over the in-memory herder (conftest.py). To run the contract
tests elsewhere, do what test_worker_contract.py does: a module in tests/rest/ that does
`from tests.rest.test_contract import *` and defines its own `rest_target` fixture, whose hooks
drive that herder (hooks left None skip the tests that need them). Outside tests/rest/, also
import the `rest` and `name` fixtures from tests.rest.conftest.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import attrs
import httpx

PLUGIN = "io.dogeconnect.DogeSourceConnector"


@attrs.define
class RestTarget:
    """A REST API under test and how to drive the herder behind it."""

    base_url: str
    valid_config: Callable[[], dict[str, Any]]  # a config (without name) the herder accepts
    invalid_config: Callable[[], dict[str, Any]]  # one it refuses: `bogus.key` is unknown
    commit: Callable[[str], None] | None = None  # returns once the connector committed offsets
    fail_task: Callable[[str, int], None] | None = None  # returns once the task is FAILED
    auth: tuple[str, str] | None = None
    settle_s: float = 0.0  # how long a state change may take to show (async workers)


def quote(name: str) -> str:
    return urllib.parse.quote(name, safe="")


@attrs.define
class RestClient:
    """httpx over a RestTarget; checks Content-Type on every answer that has a body."""

    target: RestTarget
    http: httpx.Client

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        if body is not None:
            kwargs["json"] = body
        response = self.http.request(method, path, **kwargs)
        if response.content:
            assert response.headers["content-type"].startswith("application/json"), response
        return response

    def create(self, name: str, **config: Any) -> dict[str, Any]:
        """Create a connector with the target's valid config (plus `config`); its info."""
        response = self.call("POST", "/connectors",
                             {"name": name, "config": {**self.target.valid_config(), **config}})
        assert response.status_code == 201, response.text
        info: dict[str, Any] = response.json()
        return info

    def status(self, name: str) -> dict[str, Any]:
        response = self.call("GET", f"/connectors/{quote(name)}/status")
        assert response.status_code == 200, response.text
        status: dict[str, Any] = response.json()
        return status

    def eventually(self, condition: Callable[[], bool], what: str) -> None:
        """Wait up to the target's settle time for `condition` (at once for synchronous ones)."""
        deadline = time.monotonic() + self.target.settle_s
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {self.target.settle_s}s waiting for "
                                     f"{what}")
            time.sleep(0.1)

    def wait_state(self, name: str, state: str) -> None:
        self.eventually(lambda: self.status(name)["connector"]["state"] == state,
                        f"connector {name} to be {state}")


def assert_error(response: httpx.Response, status: int, *fragments: str) -> str:
    """Connect's error body: {"error_code": status, "message": ...} naming `fragments`."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error_code", "message"}, body
    assert body["error_code"] == status
    message: str = body["message"]
    assert isinstance(message, str) and message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM a worker process; SIGKILL if it has not ended after a minute."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def slowloris(socks: list[socket.socket], stop: threading.Event, head: bytes) -> None:
    """One byte of a request head on every connection, every second, until `stop`."""
    for i in range(len(head)):
        if stop.wait(1.0):
            return
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.send(head[i:i + 1])
