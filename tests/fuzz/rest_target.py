"""The REST fuzz target: one request through the REST API over the worker's own herder.

The herder is the worker's (WorkerHerder: validation, name rule, models.dir rule) over memory
stores and a fake task spawner, so no broker is needed and a request costs milliseconds; the
hostile-REST tests (tests/rest/test_hostile.py) send the same kind of requests over HTTP to a
real worker. `check_answer` is what both require of every answer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from connector.rest.calls import Request
from connector.rest.routes import dispatch
from connector.runtime.membership import StandaloneMembership
from connector.runtime.stores import MemoryConfigStore, MemoryOffsetStore, MemoryStatusStore
from connector.runtime.supervisor import SupervisorSettings, TaskSupervisor
from connector.runtime.worker_herder import HerderContext, WorkerHerder
from tests.helpers import banking_model
from tests.runtime.fakes import FakeClock, Spawner

# What no answer may contain: a traceback, a source file, the worker's own directories.
LEAKS = ("Traceback", 'File "', ".py\"", "site-packages", "/connector/")


class BadAnswer(Exception):
    """An answer the REST API must never give (a 500, a leak, a malformed error body)."""


def check_answer(status: int, body: bytes, secrets: tuple[str, ...] = ()) -> Any:
    """The decoded body; BadAnswer unless it is Connect's shape for its status class."""
    text = body.decode("utf-8", "replace")
    for leak in (*LEAKS, *secrets):
        if leak and leak in text:
            raise BadAnswer(f"{status} answer shows {leak!r}: {text[:500]}")
    if status >= 500:
        raise BadAnswer(f"{status} answer: {text[:500]}")
    if not body:
        if status >= 400:
            raise BadAnswer(f"{status} answer without a body")
        return None
    try:
        data = json.loads(body)
    except ValueError:
        raise BadAnswer(f"{status} answer is not JSON: {text[:500]}") from None
    if status >= 400 and not (isinstance(data, dict) and set(data) == {"error_code", "message"}
                              and data["error_code"] == status
                              and isinstance(data["message"], str) and data["message"]):
        raise BadAnswer(f"{status} answer is not Connect's error shape: {text[:500]}")
    return data


def models_dir(work: Path) -> Path:
    """A models.dir with bank.yaml, and out.yaml: a symlink to a model outside it."""
    models = work / "models"
    models.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(banking_model())
    (models / "bank.yaml").write_text(text)
    (work / "outside.yaml").write_text(text)
    os.symlink(work / "outside.yaml", models / "out.yaml")
    return models


def herder(models: Path) -> WorkerHerder:
    supervisor = TaskSupervisor(SupervisorSettings(max_attempts=1, grace_s=0.1), Spawner(),
                                MemoryStatusStore().publish, "w:1", FakeClock())
    context = HerderContext({"bootstrap.servers": "none"}, None, models, (), 64, False,
                            lambda wanted: None)
    return WorkerHerder(context, MemoryConfigStore(), MemoryStatusStore(), MemoryOffsetStore(),
                        supervisor, StandaloneMembership(64))


def run_rest(data: tuple[str, str, bytes, str | None], work: Path) -> None:
    """Send the request twice (the second meets the connector the first may have created)."""
    method, target, body, content_type = data
    models = models_dir(work)
    worker = herder(models)
    for _ in range(2):
        answer = dispatch(worker, Request(method, target, body, content_type, "localhost"))
        check_answer(answer.status, answer.body, (str(work),))
    for name, stored in worker.configs.snapshot().items():
        model = stored.data["config"].get("model")
        if isinstance(model, str) and not model.lstrip().startswith("{"):
            real = os.path.realpath(models / model)
            if not real.startswith(str(models.resolve()) + "/"):
                raise BadAnswer(f"connector {name!r} was created with a model outside "
                                f"models.dir: {model!r}")
