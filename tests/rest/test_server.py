"""The REST server itself: binding, auth, HTTP details and how herder failures are answered."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import structlog

from connector.errors import Problem, UserError
from connector.rest import server as rest_server
from connector.rest import start_rest
from connector.runtime.contracts import ConnectorStatus
from connector.runtime.herder import NotFound
from tests.rest.conftest import memory_config
from tests.rest.memory_herder import MemoryHerder
from tests.rest.support import assert_error


def _body(name: str) -> dict[str, Any]:
    return {"name": name, "config": memory_config()}


@pytest.fixture
def auth_url() -> Iterator[str]:
    with start_rest(MemoryHerder(), port=0, basic_auth="admin:s3cr:et") as server:
        yield server.url


def test_port_zero_binds_an_ephemeral_loopback_port() -> None:
    """port=0 picks a free port, reported in .port and .url; the default host is loopback."""
    with start_rest(MemoryHerder(), port=0) as server:
        assert server.port > 0 and server.host == "127.0.0.1"
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert httpx.get(server.url + "/").status_code == 200


def test_close_stops_serving_and_is_idempotent() -> None:
    """After close() nothing answers on the port, and a second close() is harmless."""
    server = start_rest(MemoryHerder(), port=0)
    url = server.url
    server.close()
    server.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/", timeout=2)


def test_busy_port_raises_oserror() -> None:
    """A port in use raises OSError, which the worker turns into a user-facing error."""
    with start_rest(MemoryHerder(), port=0) as first, pytest.raises(OSError):
        start_rest(MemoryHerder(), port=first.port)


# -- basic auth ------------------------------------------------------------------------------
@pytest.mark.parametrize("header", [None, "Basic " + base64.b64encode(b"admin:wrong").decode(),
                                    "Basic !!!not-base64", "Bearer abc",
                                    "Basic " + base64.b64encode(b"admin").decode()])
def test_basic_auth_refuses_missing_or_wrong_credentials(auth_url: str, header: str | None
                                                         ) -> None:
    """With basic auth on, a request without the right credentials gets Connect's 401 body."""
    headers = {"Authorization": header} if header else {}
    response = httpx.post(auth_url + "/connectors", json=_body("c"), headers=headers)
    assert_error(response, 401, "User cannot access the resource.")
    assert response.headers["www-authenticate"].startswith("Basic realm=")
    ok = httpx.get(auth_url + "/connectors", auth=("admin", "s3cr:et"))
    assert ok.status_code == 200 and ok.json() == []  # the refused POST created nothing


def test_basic_auth_accepts_the_right_credentials(auth_url: str) -> None:
    """The configured user:password (a colon in the password too) gets through everywhere."""
    with httpx.Client(base_url=auth_url, auth=("admin", "s3cr:et")) as client:
        assert client.get("/").status_code == 200
        assert client.post("/connectors", json=_body("c")).status_code == 201


def test_basic_auth_setting_must_be_user_colon_password() -> None:
    """A basic-auth setting without a colon is a user error naming the setting."""
    with pytest.raises(UserError, match=r"rest\.basic\.auth\.user\.info"):
        start_rest(MemoryHerder(), port=0, basic_auth="admin")


# -- herder failures -------------------------------------------------------------------------
class _Broken(MemoryHerder):
    def connectors(self) -> list[str]:
        raise RuntimeError("disk on fire\nsecond line")

    def connector_status(self, name: str) -> ConnectorStatus:
        raise NotFound(name)  # a bare name, as some herder paths raise it

    def pause(self, name: str) -> None:
        raise UserError([Problem("first\nproblem", path="config.a"),
                         Problem("second problem", path="config.b")])


@pytest.fixture
def broken_url() -> Iterator[str]:
    with start_rest(_Broken(), port=0) as server:
        yield server.url


def test_unexpected_error_is_500_logged_without_traceback(broken_url: str) -> None:
    """An unexpected herder exception answers 500 with a generic message and an error id (no
    exception text, type or path); the traceback goes to the log under that id."""
    with structlog.testing.capture_logs() as logs:
        response = httpx.get(broken_url + "/connectors")
    message = assert_error(response, 500, "Unexpected error in the worker (error id ")
    assert "RuntimeError" not in message and "disk on fire" not in message
    assert "Traceback" not in message and "\n" not in message
    [entry] = [e for e in logs if e["log_level"] == "error"]
    assert isinstance(entry["exc_info"], RuntimeError) and entry["request"] == "GET /connectors"
    assert f"error id {entry['error_id']})" in message


def test_bare_not_found_names_the_connector(broken_url: str) -> None:
    """A NotFound without a message still answers Connect's "Connector <name> not found"."""
    response = httpx.get(broken_url + "/connectors/ghost/status")
    assert assert_error(response, 404) == "Connector ghost not found"


def test_user_error_is_one_paragraph_with_every_problem(broken_url: str) -> None:
    """A UserError answers 400 with all its problems rendered on one line."""
    message = assert_error(httpx.put(broken_url + "/connectors/x/pause"), 400,
                           "config.a: first problem", "config.b: second problem")
    assert "\n" not in message


class _NoReset(MemoryHerder):
    reset_offsets = None  # type: ignore[assignment]  # a herder without the optional capability

    def restart_connector(self, name: str, include_tasks: bool, only_failed: bool
                          ) -> ConnectorStatus | None:
        super().restart_connector(name, include_tasks, only_failed)
        return None


def test_optional_capabilities_degrade_cleanly() -> None:
    """Without reset_offsets DELETE .../offsets is 405; a None restart status falls back."""
    with start_rest(_NoReset(), port=0) as server, httpx.Client(base_url=server.url) as client:
        assert client.post("/connectors", json=_body("c")).status_code == 201
        assert_error(client.delete("/connectors/c/offsets"), 405, "resetOffsets=true")
        response = client.post("/connectors/c/restart?onlyFailed=true")
        assert response.status_code == 202 and response.json()["name"] == "c"


class _Slow(MemoryHerder):
    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    def connector_status(self, name: str) -> ConnectorStatus:
        self.entered.set()
        self.release.wait(30)
        return super().connector_status(name)


def test_a_slow_herder_call_does_not_block_other_requests() -> None:
    """Requests are served on their own threads: one stuck in the herder blocks no other."""
    herder = _Slow()
    with start_rest(herder, port=0) as server:
        httpx.post(server.url + "/connectors", json=_body("c"))
        results: list[int] = []
        slow = threading.Thread(target=lambda: results.append(
            httpx.get(server.url + "/connectors/c/status", timeout=30).status_code))
        slow.start()
        assert herder.entered.wait(10)
        assert httpx.get(server.url + "/connectors", timeout=5).json() == ["c"]
        herder.release.set()
        slow.join(10)
        assert results == [200]


# -- HTTP details ----------------------------------------------------------------------------
@pytest.fixture
def url() -> Iterator[str]:
    with start_rest(MemoryHerder(), port=0) as server:
        yield server.url


def test_chunked_request_body_is_read(url: str) -> None:
    """A chunked request body (no Content-Length) is accepted like any other."""
    data = json.dumps(_body("chunky")).encode()
    response = httpx.post(url + "/connectors", content=iter([data[:10], data[10:]]),
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text


def test_too_large_body_is_413(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A body over the size limit is refused with 413 before it is parsed."""
    monkeypatch.setattr(rest_server, "MAX_BODY", 100)
    response = httpx.post(url + "/connectors", json={"name": "x" * 200, "config": {}})
    assert_error(response, 413, "larger than 100 bytes")


def test_head_answers_headers_without_body(url: str) -> None:
    """HEAD on a GET resource answers its status and headers, no body."""
    response = httpx.head(url + "/connectors")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-type"] == "application/json"


def test_unknown_http_method_is_405_json(url: str) -> None:
    """A method http.server does not know still gets Connect's JSON 405 body."""
    assert_error(httpx.request("FOO", url + "/connectors"), 405, "Method Not Allowed")


def test_keep_alive_and_expect_100_continue(url: str) -> None:
    """One connection serves several requests, and curl's Expect: 100-continue is honoured."""
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps(_body("kept")).encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /connectors HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
        assert sock.recv(1024).startswith(b"HTTP/1.1 100")
        sock.sendall(body)
        first = http.client.HTTPResponse(sock)
        first.begin()
        assert first.status == 201 and json.loads(first.read())["name"] == "kept"
        sock.sendall(b"GET /connectors HTTP/1.1\r\nHost: x\r\n\r\n")
        second = http.client.HTTPResponse(sock)
        second.begin()
        assert second.status == 200 and json.loads(second.read()) == ["kept"]


@pytest.mark.parametrize("framing", [b"Content-Length: abc\r\n\r\n",
                                     b"Transfer-Encoding: chunked\r\n\r\n-1\r\nxx\r\n0\r\n\r\n"])
def test_malformed_body_framing_is_400_and_closes(url: str, framing: bytes) -> None:
    """A bad Content-Length or chunk size answers 400 in JSON and closes the connection."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /connectors HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\n" + framing)
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 400 and response.getheader("Connection") == "close"
        assert json.loads(response.read())["error_code"] == 400
