"""Values known only at run time that do not fit their field: TransitionValueError naming the
transition, topic and field (never an encoder traceback); micro/nanosecond timestamps scaled."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest

from connector.engine.errors import TransitionValueError
from tests.engine.conftest import EngineFactory
from tests.helpers import EVENT_SCHEMA


def _model(field: dict[str, Any], value: str, **attributes: Any) -> tuple[dict[str, Any], Any]:
    schema = {**EVENT_SCHEMA, "fields": [*EVENT_SCHEMA["fields"], field]}
    model = {"states": ["a"], "attributes": attributes, "transitions": [
        {"name": "go", "from": "a", "to": "a", "chance": 100,
         "emit": [{"topic": "events", "fields": {field["name"]: value}}]}]}
    return model, {"events": schema}


CASES = [
    ({"name": "e", "type": {"type": "enum", "name": "En", "symbols": ["a", "b"]}}, "s",
     {"s": {"type": "string", "initial": "choice(['a', 'c'])"}},
     "'c' is not a symbol of the enum (a, b)"),
    ({"name": "i", "type": "int"}, "x * 3000000000", {"x": {"type": "long", "initial": "1"}},
     "3000000000 is outside the range of an Avro int (-2147483648 to 2147483647)"),
    ({"name": "ns", "type": {"type": "long", "logicalType": "timestamp-nanos"}},
     "time + days(200000)", {}, "time 18984067200000 ms in timestamp-nanos overflows 64 bits"),
]


@pytest.mark.parametrize(("field", "value", "attributes", "message"), CASES,
                         ids=["enum", "int", "nanos"])
def test_value_that_does_not_fit_names_transition_and_field(
        engines: EngineFactory, field: dict[str, Any], value: str, attributes: dict[str, Any],
        message: str) -> None:
    """The first tick fails with the transition, topic and field in the message."""
    model, schemas = _model(field, value, **attributes)
    engine = engines(model, users=50, schemas=schemas)[0]
    with pytest.raises(TransitionValueError) as info:
        engine.step()
    err = info.value
    assert (err.transition, err.topic, err.field) == ("go", "events", field["name"])
    assert err.problems[0].message == (f"transition 'go', field '{field['name']}' of topic "
                                       f"'events': {message}")
    assert err.problems[0].path == "transitions[0].emit[0]"
    again = pickle.loads(pickle.dumps(err))  # crosses from a task process to the worker
    assert str(again) == str(err) and again.field == err.field


def test_string_doubled_every_tick_stops_at_the_cap(engines: EngineFactory) -> None:
    """`s = s + s` every tick ends in a TransitionValueError once past 65,536 characters."""
    model = {"states": ["a"], "attributes": {"s": {"type": "string", "initial": "'ab'"}},
             "transitions": [{"name": "grow", "from": "a", "to": "a", "chance": 100,
                              "update": ["s = s + s"]}]}
    engine = engines(model, users=10)[0]
    with pytest.raises(TransitionValueError) as info:
        for _ in range(20):
            engine.step()
    assert engine.tick == 15 and str(info.value) == (
        f"error: {engine.plan.model.spec.file}: transitions[0]: transition 'grow': a string "
        "would be longer than 65,536 characters (the limit of a string value)")


def test_micro_and_nano_timestamps_hold_their_units(engines: EngineFactory) -> None:
    """timestamp-micros/-nanos fields carry the event time in their own units."""
    fields = [{"name": "us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
              {"name": "ns", "type": ["null", {"type": "long", "logicalType": "timestamp-nanos"}]}]
    schema = {**EVENT_SCHEMA, "fields": [*EVENT_SCHEMA["fields"], *fields]}
    model = {"states": ["a"], "transitions": [
        {"name": "go", "from": "a", "to": "a", "chance": 100,
         "emit": [{"topic": "events", "fields": {"us": "time", "ns": "time"}}]}]}
    (events,) = engines(model, users=3, schemas={"events": schema})[0].step().events
    ms = events.array("timestamp")
    assert np.array_equal(events.array("us"), ms * 1000)
    assert events.array("ns").tolist() == (ms * 1_000_000).tolist()


def test_model_with_forty_thousand_states_runs(engines: EngineFactory) -> None:
    """More states than int16 holds: state columns widen (an OverflowError before)."""
    states = [f"s{i}" for i in range(40_000)]
    model = {"states": states, "initial": "s0", "transitions": [
        {"name": "far", "from": "s0", "to": "s39999", "chance": 100, "emit": ["events"]}]}
    engine = engines(model, users=5)[0]
    (events,) = engine.step().events
    assert len(events) == 5 and engine.population.state.dtype == np.int32
