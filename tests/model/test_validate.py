"""Validation: every kind of model mistake gets a precise message naming where it is."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connector.errors import UserError
from connector.model.source import load_file
from connector.model.validate import collect_problems, load_model
from tests.helpers import MODELS, banking_model, write_model

Mutation = Callable[[dict[str, Any]], None]


def _t(model: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in model["transitions"] if t["name"] == name)


def _set(name: str, key: str, value: Any) -> Mutation:
    def mutate(m: dict[str, Any]) -> None:
        _t(m, name)[key] = value
    return mutate


def _drop(name: str, key: str) -> Mutation:
    def mutate(m: dict[str, Any]) -> None:
        del _t(m, name)[key]
    return mutate


def _append_transition(**body: Any) -> Mutation:
    def mutate(m: dict[str, Any]) -> None:
        m["transitions"].append(body)
    return mutate


def _top(key: str, value: Any) -> Mutation:
    def mutate(m: dict[str, Any]) -> None:
        m[key] = value
    return mutate


BAD_MODELS: list[tuple[str, Mutation, str, str]] = [
    ("unknown source state", _set("login", "from", "offlin"), "transitions[2].from",
     "unknown state 'offlin'; known states: offline, online, loan_screen"),
    ("unknown target state", _set("logout", "to", "gone"), "transitions[3].to",
     "unknown state 'gone'"),
    ("chances over 100 %", _set("logout", "chance", 80), "transitions",
     "chances out of state 'online' sum to 110 %, over 100 %"),
    ("negative chance", _set("income", "chance", -1), "transitions[0].chance",
     "a chance cannot be negative"),
    ("chance over 100", _set("income", "chance", 150), "transitions[0].chance",
     "a chance is a percentage of at most 100"),
    ("duplicate transition name on a state",
     _append_transition(name="login", **{"from": "offline", "to": "online"}, chance=1),
     "transitions[7].name", "duplicate transition name 'login' out of state 'offline'"),
    ("no chance given", _drop("login", "chance"), "transitions[2]",
     "missing 'chance' (percent per tick, e.g. 0.1) or 'every' (e.g. 17h)"),
    ("chance and every together", _set("login", "every", "17h"), "transitions[2]",
     "give either 'chance' (percent per tick) or 'every' (mean interval), not both"),
    ("bad duration", lambda m: _set("login", "every", "soon")(m) or _drop("login", "chance")(m),
     "transitions[2].every", "expected a duration such as 500ms, 30s, 1m, 17h, 2d"),
    ("unknown attribute in condition", _set("spending", "condition", "balanc >= amount"),
     "transitions[1].condition", "unknown name 'balanc'"),
    ("condition not boolean", _set("spending", "condition", "balance - amount"),
     "transitions[1].condition", "expected a BOOLEAN expression"),
    ("syntax error in update", _set("income", "update", ["balance += randint(100, "]),
     "transitions[0].update[0]", "column"),
    ("update of unknown attribute", _set("income", "update", ["savings += 1"]),
     "transitions[0].update[0]", "unknown attribute 'savings'; attributes: balance, loan"),
    ("update that is not an assignment", _set("income", "update", ["balance + 1"]),
     "transitions[0].update[0]", "expected an assignment such as 'balance += amount'"),
    ("update of a long with a double", _set("income", "update", ["balance = uniform(1, 2)"]),
     "transitions[0].update[0]", "expected a LONG expression"),
    ("attribute updated twice", _set("take_loan", "update", ["loan = 1", "loan = 2"]),
     "transitions[6].update[1]", "attribute 'loan' is updated twice"),
    ("emit to unknown topic", _set("login", "emit", ["clicks"]), "transitions[2].emit[0].topic",
     "emits to unknown topic 'clicks'"),
    ("emitted field not in schema",
     _set("login", "emit", [{"topic": "clickstream", "fields": {"page": "'home'"}}]),
     "transitions[2].emit[0].fields.page", "field 'page' is not in the schema of topic"),
    ("emitted field mistyped",
     _set("login", "emit", [{"topic": "clickstream", "fields": {"event": "balance"}}]),
     "transitions[2].emit[0].fields.event", "expected a STRING expression"),
    ("schema field with no value", _set("login", "emit", ["trx"]), "transitions[2].emit[0]",
     "field 'amount' (long) of topic 'trx' gets no value"),
    ("null into a non-nullable field",
     _set("login", "emit", [{"topic": "clickstream", "fields": {"event": "null"}}]),
     "transitions[2].emit[0].fields.event", "expected a STRING expression"),
    ("unknown attribute type", _top("attributes", {"balance": {"type": "money"}}),
     "attributes.balance.type", "unknown attribute type 'money'"),
    ("initial value mistyped", _top("attributes", {"balance": {"type": "long", "initial": "'x'"},
                                                   "loan": {"type": "long"}}),
     "attributes.balance.initial", "expected a LONG expression"),
    ("unknown top-level key", _top("stats", [1]), "stats", "unknown key 'stats'; known keys:"),
    ("unknown initial state", _top("initial", "asleep"), "initial", "unknown state 'asleep'"),
    ("unknown profile", _set("login", "profile", "evening"), "transitions[2].profile",
     "unknown profile 'evening'"),
    ("profile with wrong number of hours",
     _top("profiles", {"evening": {"hours": [1, 2, 3]}}), "profiles.evening.hours",
     "expected 24 multipliers, got 3"),
    ("unknown time zone", _top("timezone", "Mars/Olympus"), "timezone", "unknown time zone"),
    ("unknown schema file", _top("topics", {"clickstream": "nope", "trx": "trx",
                                            "balance": "balance", "loan": "loan"}),
     "topics.clickstream.schema", "schema file"),
    ("variable shadowing an attribute", _set("spending", "vars", {"balance": "1"}),
     "transitions[1].vars.balance", "hides an attribute"),
    ("bad session action", _set("login", "session", "start"), "transitions[2].session",
     "expected one of open, close"),
    ("transition leaving a final state", _top("final", ["offline"]), "transitions[0].from",
     "leaves 'offline', which is a final state"),
]


@pytest.mark.parametrize(("case", "mutate", "path", "message"), BAD_MODELS,
                         ids=[c[0] for c in BAD_MODELS])
def test_bad_model_is_rejected_with_precise_message(tmp_path: Path, case: str, mutate: Mutation,
                                                    path: str, message: str) -> None:
    """Each bad model fails validation with a message naming the file, the path and the fix."""
    model = banking_model()
    mutate(model)
    file = write_model(tmp_path, model)
    with pytest.raises(UserError) as info:
        load_model(file)
    rendered = [p.render() for p in info.value.errors]
    matching = [r for r in rendered if message in r]
    assert matching, f"{case}: no error containing {message!r} in {rendered}"
    assert any(str(file) in r and path in r for r in matching), rendered


def test_bad_models_are_distinct() -> None:
    """The catalogue of bad models covers at least 20 distinct mistakes."""
    assert len({c[3] for c in BAD_MODELS}) >= 20


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    """Several mistakes are all listed in one run, not one per attempt."""
    model = banking_model()
    _set("login", "from", "x")(model)
    _set("logout", "chance", -5)(model)
    _set("income", "update", ["nope += 1"])(model)
    with pytest.raises(UserError) as info:
        load_model(write_model(tmp_path, model))
    assert len(info.value.errors) >= 3


def test_error_names_the_line(tmp_path: Path) -> None:
    """An error in a YAML model names the line where the bad value stands."""
    text = (tmp_path / "m.yaml")
    text.write_text(f"schemas: {banking_model()['schemas']}\nstates: [a, b]\ntransitions:\n"
                    "  - name: go\n    from: a\n    to: c\n    chance: 1\n")
    with pytest.raises(UserError) as info:
        load_model(text)
    assert f"{text}:6: transitions[0].to" in info.value.errors[0].render()


def test_json_syntax_error_names_the_line(tmp_path: Path) -> None:
    """A JSON model with a syntax error reports the file and line, not a traceback."""
    path = tmp_path / "m.json"
    path.write_text('{\n  "states": ["a"],\n  "transitions": [,]\n}\n')
    with pytest.raises(UserError) as info:
        load_model(path)
    assert f"{path}:3" in info.value.errors[0].render()


def test_unreachable_state_is_a_warning(tmp_path: Path) -> None:
    """A state no transition leads to is reported as a warning, not an error."""
    model = banking_model()
    model["states"].append("dormant")
    model_, problems = collect_problems(load_file(write_model(tmp_path, model)), tmp_path)
    assert model_ is not None
    warnings = [p.render() for p in problems if p.severity == "warning"]
    assert any("state 'dormant' can never be reached" in w for w in warnings)


def test_example_models_are_valid() -> None:
    """Every model shipped in config/models validates without errors."""

    for path in sorted(MODELS.glob("*.yaml")):
        load_model(path)
