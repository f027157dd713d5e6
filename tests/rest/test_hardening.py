"""REST hardening through the worker's own herder (memory stores, no broker): the models.dir
rule for paths, the one connector name rule, bodies Python's JSON cannot read, and the exact
message of each (the same requests run over HTTP against a real worker in test_hostile.py)."""

from __future__ import annotations

import base64
import hmac
import json
import os
from pathlib import Path
from typing import Any

import attrs
import pytest

from connector.errors import UserError
from connector.model.source import outside_problem
from connector.rest import auth
from connector.rest.calls import Request
from connector.rest.routes import dispatch
from connector.runtime.config import parse_connector
from connector.runtime.task import build_config
from connector.runtime.task_process import TaskSpec
from connector.runtime.worker_herder import WorkerHerder
from connector.serde.formats import Format
from connector.serde.values import given_schema
from tests.fuzz.rest_target import check_answer, herder, models_dir
from tests.helpers import banking_model

VALIDATE = "/connector-plugins/DogeSourceConnector/config/validate"


@pytest.fixture
def models(tmp_path: Path) -> Path:
    return models_dir(tmp_path)


@pytest.fixture
def worker(models: Path) -> WorkerHerder:
    return herder(models)


def _config(**extra: Any) -> dict[str, Any]:
    return {"connector.class": "io.dogeconnect.DogeSourceConnector", "model": "bank.yaml",
            "users": "100", "shards": "2", "ticks": "3", "start.time": "2024-01-01T00:00:00Z",
            **extra}


def _call(worker: WorkerHerder, method: str, target: str, body: Any = None,
          raw: bytes | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else b"" if body is None else json.dumps(body).encode()
    answer = dispatch(worker, Request(method, target, data, "application/json", "localhost"))
    return answer.status, check_answer(answer.status, answer.body,
                                       (str(worker.context.models_dir.parent),))


def _message(worker: WorkerHerder, *args: Any, **kwargs: Any) -> tuple[int, str]:
    status, data = _call(worker, *args, **kwargs)
    return status, data["message"]


PATHS = [
    ("/etc/passwd", "error: config.model: model file /etc/passwd: expected a path relative to "
     "the worker's models.dir, not an absolute path"),
    ("../outside.yaml", "error: config.model: model file ../outside.yaml: a path must not go up "
     "with '..'; it must stay inside the worker's models.dir"),
    ("out.yaml", "error: config.model: model file out.yaml: the path leads outside the worker's "
     "models.dir (through a symlink)"),
    ("bank.yaml\x00", "error: config.model: model file bank.yaml\\x00: a path must not contain a "
     "NUL character"),
]


@pytest.mark.parametrize(("model", "message"), PATHS, ids=[p[0][:12] for p in PATHS])
def test_model_paths_out_of_models_dir_are_refused(worker: WorkerHerder, model: str,
                                                   message: str) -> None:
    """Absolute, `..`, a symlink out, NUL: 400 with the path as given, nothing created."""
    assert _message(worker, "POST", "/connectors", {"name": "c", "config": _config(
        model=model)}) == (400, message)
    assert worker.configs.snapshot() == {}


def test_a_path_inside_models_dir_is_accepted(worker: WorkerHerder) -> None:
    """bank.yaml and ./bank.yaml stay inside: created."""
    for name, model in (("a", "bank.yaml"), ("b", "./bank.yaml")):
        status, _ = _call(worker, "POST", "/connectors", {"name": name, "config": _config(
            model=model)})
        assert status == 201


def test_model_errors_name_files_relative_to_models_dir(worker: WorkerHerder, models: Path
                                                        ) -> None:
    """A broken model file in models.dir is named as the client named it, not by the
    worker's absolute path."""
    (models / "broken.yaml").write_text("states: [a]\ntransitions: 3\n")
    status, message = _message(worker, "POST", "/connectors", {"name": "c", "config": _config(
        model="broken.yaml")})
    assert status == 400 and message.startswith("error: broken.yaml")
    assert str(models) not in message


def test_the_operator_may_allow_any_path(worker: WorkerHerder, models: Path) -> None:
    """models.allow.any.path=true: an absolute path outside models.dir is accepted."""
    worker.context = attrs.evolve(worker.context, confine_models=False)
    body = {"name": "c", "config": _config(model=str(models.parent / "outside.yaml"))}
    answer = dispatch(worker, Request("POST", "/connectors", json.dumps(body).encode(),
                                      "application/json"))
    assert answer.status == 201, answer.body


def test_validate_reports_the_path_rule_on_the_model_key(worker: WorkerHerder) -> None:
    """The validate endpoint gives the same message on `model`."""
    status, data = _call(worker, "PUT", VALIDATE, _config(model="../outside.yaml"))
    [model] = [c for c in data["configs"] if c["definition"]["name"] == "model"]
    assert status == 200 and data["error_count"] == 1
    assert model["value"]["errors"] == [PATHS[1][1]]


def test_a_task_checks_the_path_again(models: Path) -> None:
    """A symlink out placed under a created connector's path later: its task refuses it."""
    data = {"name": "c", "config": _config(model="later.yaml")}
    (models / "later.yaml").symlink_to(models.parent / "outside.yaml")
    spec = TaskSpec({"bootstrap.servers": "x"}, None, data, None, str(models), 0, "w", 1)
    with pytest.raises(UserError, match=r"leads outside the worker's models\.dir"):
        build_config(spec)
    allowed = attrs.evolve(spec, worker_values={"bootstrap.servers": "x",
                                                "models.allow.any.path": "true"})
    assert build_config(allowed).name == "c"


def test_outside_problem_follows_symlinked_folders(tmp_path: Path) -> None:
    """A folder inside models.dir that links out takes its files out too."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "sub").symlink_to(tmp_path)
    assert outside_problem(root, "sub/x.yaml") == ("the path leads outside the worker's "
                                                   "models.dir (through a symlink)")
    assert outside_problem(root, "x.yaml") is None


def test_given_schema_files_are_read_under_the_model_file_rules(tmp_path: Path) -> None:
    """A given schema must be a .json or .proto regular file: no /proc, no /dev/zero."""
    schema = attrs.make_class("S", [])()
    with pytest.raises(UserError, match=r"expected a \.json, \.proto file"):
        given_schema(Format.JSON_SCHEMA, schema, Path("/proc/self/environ"))
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    with pytest.raises(UserError, match="is on the special file system /dev, not a model file"):
        given_schema(Format.JSON_SCHEMA, schema, tmp_path / "zero.json")


# -- names -------------------------------------------------------------------------------
NAMES = [
    ("..", "Connector name '..' must not contain '..'"),
    ("a..b", "Connector name 'a..b' must not contain '..'"),
    (".", "Connector name '.' must not be '.'"),
    ("%2e%2e", "Connector name '%2e%2e' must not contain a percent-encoded character (%XX)"),
    ("a\x00b", "Connector name 'a\\x00b' must not contain control, format or unassigned "
     "characters (U+0000)"),
    ("a\nb", "Connector name 'a\\nb' must not contain control, format or unassigned characters "
     "(U+000A)"),
    ("\u202eevil", "Connector name '\\u202eevil' must not contain control, format or unassigned "
     "characters (U+202E)"),
    ("\ud800", "Connector name '\\ud800' must not contain control, format or unassigned "
     "characters (U+D800)"),
    ("x" * 250, "The connector name has 250 characters, more than the limit of 249"),
    ("a\\b", "Connector name 'a\\\\b' must not contain '\\'"),
    ("a/b", "Connector name 'a/b' must not contain '/'"),
]


@pytest.mark.parametrize(("name", "message"), NAMES, ids=[repr(n)[:14] for n, _ in NAMES])
def test_one_name_rule_for_rest_body_rest_path_and_files(worker: WorkerHerder, tmp_path: Path,
                                                         name: str, message: str) -> None:
    """The same 400 from POST /connectors and PUT .../config, and the same problem for a
    connector file."""
    assert _message(worker, "POST", "/connectors", {"name": name, "config": _config()}
                    ) == (400, message)
    quoted = "".join(c if c.isalnum() else "%" + "%".join(
        f"{b:02X}" for b in c.encode("utf-8", "surrogatepass")) for c in name)
    if "\ud800" not in name:  # a percent-decoded path holds no lone surrogate
        assert _message(worker, "PUT", f"/connectors/{quoted}/config", _config()
                        ) == (400, message)
    (tmp_path / "bank.yaml").write_text(json.dumps(banking_model()))
    with pytest.raises(UserError) as info:
        parse_connector({"name": name, "config": _config()}, "c.json", tmp_path)
    assert [(p.path, p.message) for p in info.value.problems] == [("name", message)]


def test_names_connect_accepts_still_work(worker: WorkerHerder) -> None:
    """Spaces, unicode, punctuation and a bare '%' stay valid names."""
    for name in ("doge ü?#&+=;,'\" ~ conn", "100% ready", "a.b", "é"):
        status, _ = _call(worker, "POST", "/connectors", {"name": name, "config": _config()})
        assert status == 201, name


# -- bodies ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "message"), [
    (b"[" * 100_000, "The request body's JSON nests too deeply"),
    (b'{"name": ' + b"1" * 5000 + b"}", "The request body's JSON has a number with too many "
     "digits"),
    (b'{"name": "c", "name": "d"}', "Malformed JSON in the request body: key 'name' appears "
     "more than once in one object"),
])
def test_bodies_python_cannot_read_are_400(worker: WorkerHerder, raw: bytes, message: str
                                           ) -> None:
    """Deep or huge-number JSON is a 400 with what is wrong, not a 500."""
    assert _message(worker, "POST", "/connectors", raw=raw) == (400, message)


def test_a_task_id_of_thousands_of_digits_is_404(worker: WorkerHerder) -> None:
    """Not a task a connector can have: 404, the id shortened in the message."""
    status, message = _message(worker, "GET", "/connectors/c/tasks/" + "1" * 5000 + "/status")
    assert (status, message) == (404, "Task c-" + "1" * 37 + "... not found")


def test_unknown_names_answer_404_with_escapes(worker: WorkerHerder) -> None:
    """A lone surrogate from the path is echoed as its JSON escape, not a 500."""
    status, message = _message(worker, "GET", "/connectors/\ud800/status")
    assert (status, message) == (404, "Connector \ud800 not found")
    assert os.sep not in message


def test_basic_auth_compares_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The credentials are compared with hmac.compare_digest, whatever their length."""
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # the module auth.py calls it through
    checker = auth.BasicAuth("admin:s3cret")
    assert not checker.allows("Basic " + base64.b64encode(b"admin:x").decode())
    assert checker.allows("Basic " + base64.b64encode(b"admin:s3cret").decode())
    assert calls == [(b"admin:x", b"admin:s3cret"), (b"admin:s3cret", b"admin:s3cret")]
