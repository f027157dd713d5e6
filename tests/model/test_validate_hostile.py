"""Names, types and checks that used to run too late: caught by validation with the exact
message (inputs minimised from fuzzing)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connector.errors import UserError
from connector.model.avro import schema_from_dict
from connector.model.source import load_file
from connector.model.validate import collect_problems
from tests.helpers import EVENT_SCHEMA, model_file

BASE: dict[str, Any] = {
    "states": ["a", "b"],
    "attributes": {"x": {"type": "long", "initial": "1"}},
    "transitions": [{"name": "go", "from": "a", "to": "b", "chance": 10, "emit": ["events"]},
                    {"name": "back", "from": "b", "to": "a", "chance": 10}],
}


def _field(name: str, avro: Any, value: str) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    def mutate(model: dict[str, Any], schema: dict[str, Any]) -> None:
        schema["fields"].append({"name": name, "type": avro})
        model["transitions"][0]["emit"] = [{"topic": "events", "fields": {name: value}}]
    return mutate


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    def mutate(model: dict[str, Any], schema: dict[str, Any]) -> None:
        target = model
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


ENUM = {"type": "enum", "name": "En", "symbols": ["a", "b"]}
CASES = [
    ("attribute name not a name", _set(("attributes", "a-b"), {"type": "long"}),
     "attributes.a-b: attribute name 'a-b' cannot be used in expressions: a name is letters, "
     "digits and _, not starting with a digit, and not one of and, false, not, null, or, true"),
    ("var named like a keyword", _set(("transitions", 0, "vars"), {"not": "1"}),
     "transitions[0].vars.not: variable name 'not' cannot be used in expressions"),
    ("var with a null value", _set(("transitions", 0, "vars"), {"v": None}),
     "transitions[0].vars.v: expected a non-empty string, got nothing (null)"),
    ("topic escaping the output directory", _set(("topics",), {"../x": {"schema": EVENT_SCHEMA}}),
     "topics.../x: topic name '../x' is not a Kafka topic name: 1 to 249 letters, digits, '.', "
     "'_' or '-'"),
    ("constant string for a timestamp", _field(
        "ts", {"type": "long", "logicalType": "timestamp-millis"}, "'2024-01-01'"),
     "transitions[0].emit[0].fields.ts: expected a TIMESTAMP expression, but \"'2024-01-01'\" "
     "is STRING"),
    ("enum choice outside the symbols", _field("s", ENUM, "choice(['a', 'c'])"),
     "transitions[0].emit[0].fields.s: value choice(['a', 'c']): 'c' is not a symbol of enum "
     "field 's': a, b"),
    ("constant outside an Avro int", _field("i", "int", "3000000000"),
     "transitions[0].emit[0].fields.i: value 3000000000: 3000000000 is outside the range of "
     "Avro int field 'i' (-2147483648 to 2147483647)"),
    ("record without fields", lambda m, s: s.update(fields=[]),
     "topics.events.schema: a value schema needs at least one field (a record without fields "
     "carries nothing)"),
    ("time zone of 300 characters", _set(("timezone",), "a" * 300),
     "timezone: unknown time zone '" + "a" * 64 + "'; expected an IANA name such as UTC or "
     "Europe/Warsaw"),
    ("empty arrival state", _set(("population",), {"arrival_state": ""}),
     "population.arrival_state: expected a non-empty string, got the string ''"),
    ("chance NaN", _set(("transitions", 0, "chance"), float("nan")),
     "transitions[0].chance: expected a finite number, got nan"),
    ("arrivals NaN", _set(("population",), {"arrivals": {"per_hour": float("nan")}}),
     "population.arrivals.per_hour: expected a finite number, got nan"),
    ("duration in other digits", _set(("transitions", 0, "every"), "²h"),
     "transitions[0].every: expected a duration such as 500ms, 30s, 1m, 17h, 2d, or ISO-8601 "
     "such as PT17H or P1D (got '²h')"),
]


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_model_gets_its_message(tmp_path: Path, mutate: Callable[..., None],
                                        expected: str) -> None:
    """The mistake is reported at validation (not as a traceback or at run time)."""
    model, schema = copy.deepcopy(BASE), copy.deepcopy(EVENT_SCHEMA)
    if "every" in expected:
        del model["transitions"][0]["chance"]
    mutate(model, schema)
    _, problems = collect_problems(load_file(model_file(tmp_path, model, {"events": schema})),
                                   tmp_path)
    rendered = [p.render().split(": ", 2)[-1] for p in problems if p.severity == "error"]
    assert any(r.startswith(expected) for r in rendered), rendered


def test_schema_with_a_lone_surrogate_is_refused(tmp_path: Path) -> None:
    """A .avsc holding a lone surrogate (JSON escape) is refused when the model loads."""
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "e.avsc").write_text(
        '{"type": "record", "name": "E", "doc": "\\udc00", "fields": [{"name": "user_id", '
        '"type": "long"}]}')
    model = {**copy.deepcopy(BASE), "topics": {"events": "e"}}
    _, problems = collect_problems(load_file(model_file(tmp_path, model, {})), tmp_path)
    assert any("e.avsc" in p.message and "Unicode" in p.message for p in problems), problems


def test_schema_data_with_a_lone_surrogate_is_refused() -> None:
    """A schema given as data (the API, not a file) with a lone surrogate is refused too."""
    with pytest.raises(UserError) as info:
        schema_from_dict({**EVENT_SCHEMA, "doc": "\udc00"}, "inline")
    assert str(info.value) == ("error: inline: the schema holds '\\udc00', a lone surrogate, "
                               "which is not valid Unicode")


def test_var_always_null_and_empty_initial(tmp_path: Path) -> None:
    """A var that is the literal null and an empty initial distribution are refused."""
    model = copy.deepcopy(BASE)
    model["transitions"][0]["vars"] = {"x2": "null"}
    model["initial"] = {}
    _, problems = collect_problems(load_file(model_file(tmp_path, model)), tmp_path)
    messages = {p.path: p.message for p in problems}
    assert messages["transitions[0].vars.x2"] == (
        "variable 'x2' is always null; give it a value of some type, e.g. if(cond, x, null)")
    assert messages["initial"] == ("expected a state, or a mapping of states to weights; got an "
                                   "empty mapping")


def test_large_model_is_checked_in_one_pass_per_table(tmp_path: Path) -> None:
    """60,000 states and 12,000 transitions validate (per-state scans of every transition
    took minutes: a hang for the user)."""
    states = [f"s{i}" for i in range(60_000)]
    transitions = [{"name": f"t{i}", "from": f"s{i}", "to": f"s{i + 1}", "chance": 1}
                   for i in range(12_000)]
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"states": states, "transitions": transitions}))
    _, problems = collect_problems(load_file(path), tmp_path)
    assert [p for p in problems if p.severity == "error"] == []
