"""Connector settings out of bounds are refused by parse_connector with the key, the number and
the limit (inputs minimised from fuzzing; the bounds live in model/limits.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector.errors import UserError
from connector.runtime.config import parse_connector
from tests.helpers import banking_model, write_model


def _errors(tmp: Path, **config: Any) -> list[str]:
    model = write_model(tmp, banking_model())
    body = {"model": str(model), "start.time": "2024-01-01T00:00:00Z", "ticks": "10", **config}
    with pytest.raises(UserError) as info:
        parse_connector({"name": "c", "config": body}, "c.json", tmp)
    return [f"{p.path}: {p.message}" for p in info.value.problems]


CASES: list[tuple[dict[str, Any], str]] = [
    ({"users": "20000000000000000000"},
     "config.users: expected from 0 to 1e+12 users, got 20000000000000000000"),
    ({"users": 1e9}, "config.users: expected a whole number (digits 0-9), got '1000000000.0'; "
     "write it in digits: 1000000000"),
    ({"users": "2e19"}, "config.users: expected a whole number (digits 0-9), got '2e19'; write it "
     "in digits: 20000000000000000000"),
    ({"shards": "1e9"}, "config.shards: expected a whole number (digits 0-9), got '1e9'; write it "
     "in digits: 1000000000"),
    ({"shards": "1000000000"}, "config.shards: expected from 1 to 4096 shards, got 1000000000"),
    ({"tasks.max": "1000000000"},
     "config.tasks.max: expected from 1 to 4096 tasks, got 1000000000"),
    ({"seed": "-1"}, "config.seed: expected a whole number >= 0, got -1"),
    ({"seed": "99999999999999999999"},
     "config.seed: expected a seed from 0 to 2**64-1 (18446744073709551615), got "
     "99999999999999999999"),
    ({"seed": "²"}, "config.seed: expected a whole number (digits 0-9), got '²'"),
    ({"pace": "NaN"}, "config.pace: expected max, realtime or a speed-up factor above 0 and at "
     "most 1e+09, got nan"),
    ({"start.time": "0001-01-01T00:00:00Z"}, "config.start.time: expected a start time from year "
     "1 to 9999 (epoch milliseconds -62135510400000 to 253402128000000), got -62135596800000"),
    ({"start.time": "9223372036854775807"}, "config.start.time: expected a start time from year "
     "1 to 9999 (epoch milliseconds -62135510400000 to 253402128000000), got "
     "9223372036854775807"),
    ({"start.time": "²"}, "config.start.time: expected an ISO-8601 time such as "
     "2026-01-01T00:00:00Z, epoch milliseconds, or now; got '²'"),
    ({"ticks": "1000000000000", "tick.ms": "31622400000"},
     "config.ticks: 1000000000000 ticks of 31622400000 ms from the start time run past the year "
     "9999; at most 7959 ticks fit"),
    ({"tick.ms": "31622400001"},
     "config.tick.ms: expected a tick of 1 to 31622400000 ms (366 days), got 31622400001"),
    ({"ticks": "1" * 5000}, "config.ticks: a whole number of 5000 digits is too long (at most 40)"),
]


@pytest.mark.parametrize(("config", "expected"), CASES,
                         ids=[f"{k}={v}"[:30] for c, _ in CASES for k, v in list(c.items())[:1]])
def test_setting_out_of_bounds_is_refused(tmp_path: Path, config: dict[str, Any],
                                          expected: str) -> None:
    """The connector config is refused before any work, naming the key and the bound."""
    assert expected in _errors(tmp_path, **config)


def test_model_path_that_cannot_be_a_model_is_refused(tmp_path: Path) -> None:
    """A 300-character model path or /proc/self/environ gives a clear error on config.model."""
    for path, message in ((str(tmp_path / ("m" * 300 + ".yaml")), "File name too long"),
                          ("/proc/self/environ", "expected a .yaml, .yml, .json file")):
        body = {"model": path}
        with pytest.raises(UserError) as info:
            parse_connector({"name": "c", "config": body}, "c.json", tmp_path)
        (problem,) = info.value.problems
        assert problem.path == "config.model" and message in problem.message


def test_inline_model_text_too_deep_or_too_long(tmp_path: Path) -> None:
    """An inline model as JSON text nested 3,000 deep or with a 5,000-digit number: UserError."""
    for text, message in (("{\"a\":" * 3000 + "1" + "}" * 3000, "nest"),
                          ('{"states": ' + "1" * 5000 + "}", "is too long")):
        with pytest.raises(UserError, match=message):
            parse_connector({"name": "c", "config": {"model": text}}, "c.json", tmp_path)
