"""Each built-in name's documented meaning, pinned against what the engine emits."""

from __future__ import annotations

from typing import Any

import numpy as np

from connector.model.expr import ENGINE_NAME_TABLE
from tests.engine.conftest import EngineFactory

_NULLABLE_STRING = ["null", "string"]
SCHEMA: dict[str, Any] = {
    "type": "record", "name": "All", "namespace": "test",
    "fields": [
        {"name": "user_id", "type": "long"}, {"name": "device_id", "type": "long"},
        {"name": "account_id", "type": "long"}, {"name": "actor_id", "type": "long"},
        {"name": "tick", "type": "long"},
        {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "event", "type": "string"}, {"name": "transition", "type": "string"},
        {"name": "state", "type": "string"}, {"name": "from_state", "type": "string"},
        {"name": "to_state", "type": "string"}, {"name": "session_id", "type": _NULLABLE_STRING},
        {"name": "key", "type": "string"}, {"name": "before", "type": "string"},
    ],
}
START_MS, TICK_MS = 1_704_067_200_000, 60_000


def test_every_builtin_field_means_what_the_table_says(engines: EngineFactory) -> None:
    """state is the state entered, from_state the one left, to_state the one entered (the one
    left for `to: self`), and every other built-in field carries its documented value."""
    fields = {"key": "user_key", "before": "state"}
    model = {"states": ["a", "b"], "initial": "a", "transitions": [
        {"name": "ab", "from": "a", "to": "b", "chance": 100, "session": "open",
         "vars": {"left": "state"}, "condition": "from_state == 'a' and to_state == 'b'",
         "emit": [{"topic": "events", "fields": {**fields, "before": "left"}}]},
        {"name": "bb", "from": "b", "to": "self", "chance": 100,
         "vars": {"left": "state"}, "condition": "from_state == 'b' and to_state == 'b'",
         "emit": [{"topic": "events", "fields": {**fields, "before": "left"}}]}]}
    engine = engines(model, users=4, schemas={"events": SCHEMA})[0]
    covered = {f["name"] for f in SCHEMA["fields"]}
    assert {field for n in ENGINE_NAME_TABLE for field in n.fields} <= covered
    for tick, (name, left, entered) in enumerate([("ab", "a", "b"), ("bb", "b", "b")]):
        (events,) = engine.step().events
        f = {name: events.array(name) for name in events.fields}
        ids = np.arange(4)
        assert events.transition == name and len(events) == 4
        for key in ("user_id", "device_id", "account_id", "actor_id"):
            assert f[key].tolist() == ids.tolist(), key
        assert f["key"].tolist() == [str(i) for i in ids]
        assert set(f["tick"].tolist()) == {tick}
        assert set(f["timestamp"].tolist()) == set(f["event_time"].tolist()) == {
            START_MS + tick * TICK_MS}
        assert set(f["event"].tolist()) == set(f["transition"].tolist()) == {name}
        assert set(f["before"].tolist()) == set(f["from_state"].tolist()) == {left}
        assert set(f["state"].tolist()) == set(f["to_state"].tolist()) == {entered}
        assert f["session_id"].tolist() == [f"{i}-1" for i in ids]
