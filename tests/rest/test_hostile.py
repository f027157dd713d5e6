"""Hostile REST clients against a real standalone worker on Kafka.

Bounded: at most MAX_REQUESTS generated requests within REQUEST_BUDGET_S, plus the explicit
cases. Every answer must be Connect's error shape (or a success) with the right status class, no
traceback or file path in any body; afterwards the worker is healthy (a normal request works,
the normal connector's tasks still run) and its stderr holds no traceback. The worker also
fails a task, with the message, for what only a run can find: shards that do not fit in memory,
a value that does not fit its field.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from connector.model.numbers import is_whole_number
from tests.fuzz import rest_strategies
from tests.fuzz.rest_target import check_answer, models_dir
from tests.helpers import EVENT_SCHEMA, ROOT
from tests.rest.support import slowloris, stop_process
from tests.runtime.cluster import free_port
from tests.runtime.harness import KafkaRun

pytestmark = [pytest.mark.integration]
MAX_REQUESTS = 4000
REQUEST_BUDGET_S = 45.0
VALIDATE = "/connector-plugins/DogeSourceConnector/config/validate"


@attrs.frozen
class Worker:
    url: str
    run: KafkaRun
    models: Path
    stderr: Path
    normal: str  # a connector that runs all along

    def body(self, **config: Any) -> dict[str, Any]:
        """A valid config (bank.yaml in models.dir, finite, small) with `config` on top."""
        base = self.run.connector(users=200, shards=2, tasks_max=1, ticks=3)["config"]
        return {**base, "model": "bank.yaml", **{k: str(v) for k, v in config.items()}}


def send(url: str, method: str, target: str, body: bytes = b"",
         content_type: str | None = "application/json", headers: bytes = b"",
         content_length: bool = True) -> tuple[int, bytes]:
    """One request as raw bytes (any method, path or header); (status, body)."""
    host, port = url.removeprefix("http://").split(":")
    raw_target = urllib.parse.quote(target.encode("utf-8", "surrogatepass"),
                                    safe="/?=&%:;,+$!*'()@[]~")
    head = f"{method} {raw_target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode(
        "latin-1", "replace")
    if content_type is not None:
        head += b"Content-Type: " + content_type.encode("utf-8", "surrogatepass") + b"\r\n"
    if content_length:
        head += b"Content-Length: %d\r\n" % len(body)
    with socket.create_connection((host, int(port)), timeout=120) as sock:
        sock.sendall(head + headers + b"\r\n" + body)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        return response.status, response.read()


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str, registry_url: str
           ) -> Iterator[Worker]:
    tmp = tmp_path_factory.mktemp("hostile")
    run = KafkaRun(tmp, kafka_bootstrap, registry_url)
    models = models_dir(tmp)
    port = free_port()
    stderr = tmp / "worker.stderr"
    with open(tmp / "worker.stdout", "wb") as out, open(stderr, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "connector", "worker",
             str(run.worker_file(**{"rest.port": str(port), "models.dir": str(models),
                                    "task.restart.max.attempts": "0"}))],
            stdout=out, stderr=err, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while proc.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/", timeout=5).status_code == 200:
                    break
            time.sleep(0.25)
        normal = f"normal-{run.uid}"
        config = {**run.connector(users=400, shards=2, tasks_max=2, pace=60)["config"],
                  "model": "bank.yaml"}
        config.pop("ticks")  # runs until the end of the module
        created = httpx.post(url + "/connectors", json={"name": normal, "config": config},
                             timeout=120)
        assert created.status_code == 201, created.text
        yield Worker(url, run, models, stderr, normal)
    finally:
        stop_process(proc)


def _wait_state(worker: Worker, name: str, task: int, states: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = httpx.get(f"{worker.url}/connectors/{name}/tasks/{task}/status", timeout=30)
        if response.status_code == 200:
            status = response.json()
            if status["state"] in states:
                return status
        time.sleep(0.3)
    raise AssertionError(f"task {task} of {name} never reached {states}: {status}")


def _assert_healthy(worker: Worker) -> None:
    """A normal request works, the normal connector's tasks run, stderr has no traceback."""
    assert httpx.get(worker.url + "/", timeout=30).status_code == 200
    status = httpx.get(f"{worker.url}/connectors/{worker.normal}/status", timeout=30).json()
    assert [t["state"] for t in status["tasks"]] == ["RUNNING", "RUNNING"], status
    assert "Traceback" not in worker.stderr.read_text(errors="replace")


def _error(worker: Worker, status: int, body: bytes, *fragments: str) -> str:
    data = check_answer(status, body, (str(worker.models.parent),))
    assert status == 400 and data is not None, (status, body)
    for fragment in fragments:
        assert fragment in data["message"], (fragment, data["message"])
    return str(data["message"])


# -- paths and names -----------------------------------------------------------------------
PATH_CASES = [
    ("/etc/passwd", "model file /etc/passwd: expected a path relative to the worker's "
     "models.dir, not an absolute path"),
    ("/proc/self/environ", "model file /proc/self/environ: expected a path relative to the "
     "worker's models.dir, not an absolute path"),
    ("../outside.yaml", "model file ../outside.yaml: a path must not go up with '..'; it must "
     "stay inside the worker's models.dir"),
    ("sub/../../outside.yaml", "must not go up with '..'"),
    ("out.yaml", "model file out.yaml: the path leads outside the worker's models.dir "
     "(through a symlink)"),
    ("nope.yaml", "error: config.model: model file nope.yaml: file not found"),
]


@pytest.mark.parametrize(("model", "message"), PATH_CASES, ids=[c[0] for c in PATH_CASES])
def test_model_path_must_stay_inside_models_dir(worker: Worker, model: str, message: str
                                                ) -> None:
    """Create and validate refuse a model path out of models.dir with the same message, and
    no body shows the worker's own directories."""
    body = json.dumps({"name": f"p-{worker.run.uid}", "config": worker.body(model=model)})
    _error(worker, *send(worker.url, "POST", "/connectors", body.encode()), message)
    status, answer = send(worker.url, "PUT", VALIDATE, json.dumps(worker.body(model=model))
                          .encode())
    data = check_answer(status, answer, (str(worker.models.parent),))
    [model_key] = [c for c in data["configs"] if c["definition"]["name"] == "model"]
    assert any(message in e for e in model_key["value"]["errors"]), model_key


def test_given_schema_file_must_stay_inside_models_dir(worker: Worker) -> None:
    """A topic's given schema file (topic.<topic>.value.schema) follows the same rule."""
    body = worker.body(**{"topic.loan.value.schema": "/etc/passwd.json",
                          "topic.loan.value.format": "json-schema"})
    _error(worker, *send(worker.url, "POST", "/connectors",
                         json.dumps({"name": f"s-{worker.run.uid}", "config": body}).encode()),
           "config.topic.loan.value.schema: schema file '/etc/passwd.json': expected a path "
           "relative to the worker's models.dir")


NAME_CASES = [
    ("..", "Connector name '..' must not contain '..'"),
    ("%2e%2e", "Connector name '%2e%2e' must not contain a percent-encoded character (%XX)"),
    ("a\x00b", "Connector name 'a\\x00b' must not contain control, format or unassigned "
     "characters (U+0000)"),
    ("a\x1b[31mb", "must not contain control, format or unassigned characters (U+001B)"),
    ("x" * 300, "The connector name has 300 characters, more than the limit of 249"),
    ("a/b", "Connector name 'a/b' must not contain '/'"),
    ("\u202eevil", "characters (U+202E)"),
]


@pytest.mark.parametrize(("name", "message"), NAME_CASES, ids=[repr(c[0])[:12] for c in
                                                               NAME_CASES])
def test_bad_connector_names_are_refused_alike_in_body_and_path(worker: Worker, name: str,
                                                                message: str) -> None:
    """POST /connectors and PUT /connectors/{name}/config refuse the name with one message."""
    body = json.dumps({"name": name, "config": worker.body()}).encode()
    _error(worker, *send(worker.url, "POST", "/connectors", body), message)
    path = "/connectors/" + urllib.parse.quote(name, safe="") + "/config"
    _error(worker, *send(worker.url, "PUT", path, json.dumps(worker.body()).encode()), message)


# -- numbers -------------------------------------------------------------------------------
NUMBER_CASES = [
    ({"users": "1e9"}, "users", "expected a whole number (digits 0-9), got '1e9'; write it in "
     "digits: 1000000000"),
    ({"users": "20000000000000000000"}, "users", "expected from 0 to 1e+12 users, got "
     "20000000000000000000"),
    ({"shards": "1000000000"}, "shards", "expected from 1 to 4096 shards, got 1000000000"),
    ({"ticks": "1000000000000", "tick.ms": "31622400000"}, "ticks", "1000000000000 ticks of "
     "31622400000 ms from the start time run past the year 9999; at most 7959 ticks fit"),
    ({"start.time": "0001-01-01T00:00:00Z"}, "start.time", "expected a start time from year 1 "
     "to 9999"),
    ({"start.time": "9223372036854775807"}, "start.time", "got 9223372036854775807"),
    ({"seed": "-1"}, "seed", "expected a whole number >= 0, got -1"),
    ({"seed": "99999999999999999999"}, "seed", "expected a seed from 0 to 2**64-1"),
    ({"pace": "NaN"}, "pace", "expected max, realtime or a speed-up factor above 0 and at most "
     "1e+09, got nan"),
]


@pytest.mark.parametrize(("config", "key", "message"), NUMBER_CASES,
                         ids=[f"{k}={v}"[:24] for c, _, _ in NUMBER_CASES
                              for k, v in list(c.items())[:1]])
def test_numbers_out_of_bounds_in_validate_and_create(worker: Worker, config: dict[str, str],
                                                      key: str, message: str) -> None:
    """The validate endpoint names the key with the message; create refuses with it too."""
    status, answer = send(worker.url, "PUT", VALIDATE, json.dumps(worker.body(**config)).encode())
    data = check_answer(status, answer)
    [entry] = [c for c in data["configs"] if c["definition"]["name"] == key]
    assert any(message in e for e in entry["value"]["errors"]), entry
    body = json.dumps({"name": f"n-{worker.run.uid}", "config": worker.body(**config)})
    _error(worker, *send(worker.url, "POST", "/connectors", body.encode()), message)


# -- failures only a run can find --------------------------------------------------------
def test_shards_that_cannot_fit_fail_the_task_with_the_estimate(worker: Worker) -> None:
    """Users beyond this machine's memory: the task FAILS with the sizing message, no OOM."""
    name = f"big-{worker.run.uid}"
    created = httpx.post(worker.url + "/connectors", json={"name": name, "config": worker.body(
        users=10**11, ticks=3)}, timeout=120)
    assert created.status_code == 201, created.text
    status = _wait_state(worker, name, 0, {"FAILED"})
    assert "100,000,000,000 users need about" in status["trace"], status
    assert "at most" in status["trace"] and "users fit" in status["trace"]
    httpx.delete(f"{worker.url}/connectors/{name}", timeout=60)


def test_value_known_only_at_run_time_fails_the_task_naming_transition_and_field(
        worker: Worker) -> None:
    """An int field that overflows at run time: FAILED with the transition and field."""
    model = {"states": ["a"],
             "attributes": {"x": {"type": "long", "initial": "1"}},
             "topics": {"events": {"schema": {**EVENT_SCHEMA, "fields": [
                 *EVENT_SCHEMA["fields"], {"name": "i", "type": "int"}]}}},
             "transitions": [{"name": "go", "from": "a", "to": "a", "chance": 100,
                              "emit": [{"topic": "events", "fields": {"i": "x * 3000000000"}}]}]}
    name = f"int-{worker.run.uid}"
    created = httpx.post(worker.url + "/connectors", json={"name": name, "config": {
        **worker.body(), "model": model}}, timeout=120)
    assert created.status_code == 201, created.text
    status = _wait_state(worker, name, 0, {"FAILED"})
    assert "transition 'go', field 'i' of topic 'events': 3000000000 is outside the range of " \
           "an Avro int (-2147483648 to 2147483647)" in status["trace"], status
    httpx.delete(f"{worker.url}/connectors/{name}", timeout=60)


# -- protocol garbage ----------------------------------------------------------------------
RAW_CASES: list[tuple[str, str, bytes, str | None, bytes, int]] = [
    ("POST", "/connectors", b"{" * 10, "application/json", b"", 400),
    ("POST", "/connectors", b"[" * 200_000, "application/json", b"", 400),
    ("POST", "/connectors", b'{"name": 1' + b"0" * 5000 + b"}", "application/json", b"", 400),
    ("POST", "/connectors", b'{"name": "c"}', "text/plain", b"", 415),
    ("POST", "/connectors", b"\xff\xfe{}", "application/json", b"", 400),
    ("PUT", VALIDATE, b'{"a": 1, "a": 2}', "application/json", b"", 400),
    ("GET", "/connectors/..%2f..%2fetc%2fpasswd/config", b"", None, b"", 404),
    ("GET", "/connectors/%2e%2e/status", b"", None, b"", 404),
    ("GET", "/connectors/c/tasks/" + "9" * 5000 + "/status", b"", None, b"", 404),
    ("DELETE", "/connectors/%00", b"", None, b"", 404),
    ("BREW", "/connectors", b"", None, b"", 405),
    ("GET", "/connectors", b"", None, b"X-Big: " + b"a" * 70_000 + b"\r\n", 431),
    ("POST", "/connectors", b"", "application/json", b"Content-Length: 99999999999\r\n", 413),
]


@pytest.mark.parametrize(("method", "target", "body", "content_type", "headers", "status"),
                         RAW_CASES, ids=[f"{c[0]} {c[1][:30]} {len(c[2])}" for c in RAW_CASES])
def test_protocol_garbage_gets_connects_error_shape(
        worker: Worker, method: str, target: str, body: bytes, content_type: str | None,
        headers: bytes, status: int) -> None:
    """Malformed, deep, huge-number, wrong-type bodies and odd requests: the right 4xx."""
    got, answer = send(worker.url, method, target, body, content_type, headers,
                       content_length=not headers.startswith(b"Content-Length"))
    check_answer(got, answer, (str(worker.models.parent),))
    assert got == status, (got, answer[:300])


# -- generated requests -----------------------------------------------------------------
HEADERS = (b"Expect: 100-continue\r\n", b"Authorization: Basic !!!\r\n", b"X-Junk: \xff\xfe\r\n",
           b"Content-Type: text/plain\r\n", b"Host: evil\r\n", b"X-Long: " + b"a" * 8000 + b"\r\n",
           b"Content-Length: 0\r\n", b"Connection: keep-alive\r\n", b"Accept: */*\r\n")


def _tame(worker: Worker, body: bytes) -> bytes:
    """A generated config keeps its hostility but creates no heavy connector: topics under
    this run's prefix, few ticks, users and tasks."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return body
    config = data.get("config") if isinstance(data, dict) else None
    config = config if isinstance(config, dict) else data if isinstance(data, dict) else None
    if config is None:
        return body
    config.update({"topic.prefix": worker.run.prefix, "ticks": "2"})
    for key, most in (("users", 10_000), ("tasks.max", 2)):
        value = config.get(key)
        if isinstance(value, int | float | str) and not isinstance(value, bool) and \
                is_whole_number(str(value)) and int(str(value)) > most:
            config[key] = str(most)
    return json.dumps(data).encode("utf-8", "surrogatepass")


def test_generated_hostile_requests_get_connects_answers(worker: Worker) -> None:
    """Random methods, routes, names, headers, bodies and content types: every answer is Connect's
    shape without a 5xx, traceback or path, and the worker stays healthy."""
    started = time.monotonic()
    sent = [0]

    @settings(max_examples=MAX_REQUESTS, deadline=None, database=None, derandomize=True,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(rest_strategies.rest_request(), st.lists(st.sampled_from(HEADERS), max_size=3))
    def hostile(request: tuple[str, str, bytes, str | None], headers: list[bytes]) -> None:
        if time.monotonic() - started > REQUEST_BUDGET_S:
            return  # the budget is spent: the remaining examples send nothing
        method, target, body, content_type = request
        sent[0] += 1
        status, answer = send(worker.url, method, target, _tame(worker, body), content_type,
                              b"".join(headers))
        if method == "HEAD":  # a HEAD answer has no body to check
            assert status < 500, status
            return
        check_answer(status, answer, (str(worker.models.parent),))

    hostile()
    assert sent[0] > 100  # the budget allowed a real campaign
    for name in httpx.get(worker.url + "/connectors", timeout=60).json():
        if name != worker.normal:
            httpx.delete(f"{worker.url}/connectors/{urllib.parse.quote(name, safe='')}",
                         timeout=60)
    _assert_healthy(worker)


def test_slowloris_does_not_starve_a_normal_client(worker: Worker) -> None:
    """200 connections sending a request head a byte a second while a normal client polls the
    normal connector's status: every poll is answered."""
    host, port = worker.url.removeprefix("http://").split(":")
    socks = [socket.create_connection((host, int(port)), timeout=10) for _ in range(200)]
    stop = threading.Event()
    slow = threading.Thread(target=slowloris, args=(
        socks, stop, b"GET /connectors HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100))
    slow.start()
    try:
        with httpx.Client(base_url=worker.url, timeout=30) as client:
            for _ in range(10):
                time.sleep(0.5)
                status = client.get(f"/connectors/{worker.normal}/status")
                assert status.status_code == 200, status.text
    finally:
        stop.set()
        slow.join(10)
        for sock in socks:
            sock.close()
    _assert_healthy(worker)
