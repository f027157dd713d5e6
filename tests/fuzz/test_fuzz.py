"""The standing fuzz suite: generated hostile input never escapes as anything but a UserError.

A fixed budget of examples per kind keeps the whole module under two minutes; the example
database in tests/fuzz/examples/ (committed) replays every input that ever failed first.
`scripts/fuzz.sh` runs the same strategies for long campaigns, with hangs and memory counted.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from connector.errors import UserError
from tests.fuzz import inputs, targets

EXAMPLES = Path(__file__).resolve().parent / "examples"
BUDGET = {"expression": 1000, "yaml": 600, "model": 400, "connector": 250, "worker": 400,
          "rest": 300}

FUZZ = settings(database=DirectoryBasedExampleDatabase(str(EXAMPLES)), deadline=None,
                suppress_health_check=list(HealthCheck), print_blob=True)


def _survives(kind: str, data: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp, contextlib.suppress(UserError):
        targets.run(kind, data, Path(tmp) / "work")


@pytest.mark.parametrize("kind", targets.KINDS)
def test_generated_input_gives_a_clear_error_or_works(kind: str) -> None:
    """Every generated input of this kind is accepted or refused with a UserError."""
    strategy = dict(inputs.inputs_by_kind())[kind]

    @settings(FUZZ, max_examples=BUDGET[kind])
    @given(strategy)
    def check(data: Any) -> None:
        _survives(kind, data)

    check()


# Every minimised crash a campaign found, as it was found (the fix is in the commit that added
# it): each must now be accepted or refused with a UserError.
REGRESSIONS: list[tuple[str, str, Any]] = [
    ("empty arrival_state (KeyError in the plan)", "connector", (
        {"population": {"arrival_state": ""}, "profiles": {"p": {}}, "states": ["a"],
         "transitions": []}, {"ticks": "0"}, False)),
    ("empty initial distribution (IndexError at the first tick)", "connector", (
        {"final": [], "initial": {}, "states": ["a", "b", "c"], "topics": {}, "transitions": []},
        {"ticks": "0"}, False)),
    ("var that is the literal null (ValueError from TypeEnv)", "model", (
        {"states": ["a"], "transitions": [{"name": "go", "from": "a", "to": "a", "chance": 1,
                                           "vars": {"v": "null"}}]}, False)),
    ("time zone of 300 characters (OSError)", "model", (
        {"states": ["a", "b", "c"], "transitions": [], "topics": {}, "timezone": "a" * 300},
        False)),
    ("string() of a constant timestamp (TypeError)", "expression",
     "string(timestamp(9223372036854775807))"),
    ("attribute named a-b (ValueError from TypeEnv)", "model", (
        {"states": ["a"], "transitions": [], "attributes": {"a-b": "long"}}, True)),
    ("superscript digit in an expression (ValueError from int)", "expression", "x > ²"),
    ("alias inside its own anchor (RecursionError)", "yaml", "a: &a [*a]"),
    ("rest.port spelled with a superscript (ValueError from int)", "worker",
     ({"rest.port": "²"}, False)),
    ("plugins naming an empty or relative module (ValueError, TypeError from import_module)",
     "worker", ({"bootstrap.servers": "localhost:9092", "plugins": "::x,.x:y"}, True)),
    ("lone surrogate in a connector name echoed in a 404 (UnicodeEncodeError, 500)", "rest",
     ("POST", "/connectors/\ud800/tasks/%2e%2e/restart", b"\x85\x15", "application/json")),
    ("task id of 5,000 digits (ValueError from int, 500)", "rest",
     ("GET", "/connectors/c/tasks/" + "1" * 5000 + "/status", b"", None)),
    ("JSON body nested 100,000 levels (RecursionError, 500)", "rest",
     ("POST", "/connectors", b"[" * 100_000, "application/json")),
    ("JSON body with a 5,000-digit number (ValueError, 500)", "rest",
     ("POST", "/connectors", b"1" * 5000, "application/json")),
    ("model path through a symlink out of models.dir (created)", "rest",
     ("POST", "/connectors", b'{"name": "c", "config": {"model": "out.yaml"}}',
      "application/json")),
]


@pytest.mark.parametrize(("kind", "data"), [r[1:] for r in REGRESSIONS],
                         ids=[r[0] for r in REGRESSIONS])
def test_minimised_crash_is_now_a_clear_error(kind: str, data: Any) -> None:
    """A crash the fuzzer once found is accepted or refused with a UserError now."""
    _survives(kind, data)
