"""DataOnlineGenerator: callbacks see and change their subject and can veto; sinks run after a
successful move; subjects of any attribute types; DOGE's errors, with the script's line."""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from typing import Any

import pytest

from bench.doge_seed import build, collecting_sinks
from connector.doge import (
    DataOnlineGenerator,
    EventSink,
    PrintingSink,
    SubjectFactory,
    Transition,
)
from connector.errors import UserError

HERE = __file__


@dataclass
class Visitor:
    user_id: int
    visits: int = 0
    score: float = 0.5
    tags: list[str] = field(default_factory=list)
    note: str | None = None


class VisitorFactory(SubjectFactory[Visitor]):
    def __init__(self) -> None:
        self.count = 0

    def create(self) -> Visitor:
        self.count += 1
        return Visitor(self.count - 1)


class Recorder(EventSink):
    def __init__(self) -> None:
        self.events: list[tuple[int, int, str, int, Any]] = []

    def collect(self, timestamp: int, subject: Any, transition: Transition) -> None:
        self.events.append((timestamp, subject.user_id, transition.trigger, subject.visits,
                            type(subject).__name__))


def test_callbacks_change_their_subject_and_veto_every_other_move() -> None:
    """Callbacks change their subject (kept on a veto); a veto keeps the user, sinks silent."""
    calls: dict[int, int] = {}

    def visit(subject: Visitor, transition: Transition) -> bool:
        assert isinstance(subject, Visitor) and transition.trigger == "visit"
        subject.visits += 1
        subject.score *= 2  # a float column stays float
        subject.tags.append(transition.to_state)  # mutable values are kept as they are
        calls[subject.user_id] = calls.get(subject.user_id, 0) + 1
        return subject.visits % 2 == 0

    sink = Recorder()
    back = Recorder()
    gen = DataOnlineGenerator(["out", "in"], "out", VisitorFactory(), 300, 1000, 60, 5000,
                              seed=4)
    gen.add_transition("visit", "out", "in", 40, action_callback=visit, event_sinks=[sink])
    gen.add_transition("leave", "in", "out", 100, event_sinks=[back])
    gen.start()
    assert sink.events and all(visits % 2 == 0 for _, _, _, visits, _ in sink.events)
    assert {kind for *_, kind in sink.events} == {"Visitor"}
    # Each allowed visit is followed by a leave on the next tick (100 %), and never a vetoed one.
    allowed = {(ts, user) for ts, user, *_ in sink.events}
    assert {(ts - 1000, user) for ts, user, *_ in back.events} <= allowed
    per_user = {u: sum(1 for _, x, *_ in sink.events if x == u) for u in calls}
    assert all(per_user[u] == calls[u] // 2 for u in calls)  # every second call goes through
    assert gen.timestamp == 5000 + 60 * 1000


def test_subjects_may_be_dicts_and_values_keep_their_types() -> None:
    """Dict subjects work and values written by callbacks come back with their exact types."""
    seen: list[Any] = []

    class DictFactory(SubjectFactory[dict[str, Any]]):
        def create(self) -> dict[str, Any]:
            return {"n": 1, "flag": True}

    def change(subject: dict[str, Any], transition: Transition) -> bool:
        seen.append((subject["n"], subject["flag"]))
        subject["n"] = subject["n"] / 2 if subject["n"] == 1 else None
        subject["flag"] = "no"
        return True

    gen = DataOnlineGenerator(["a"], "a", DictFactory(), 5, 1, 3, seed=1)
    gen.add_transition("t", "a", "a", 100, action_callback=change)
    gen.start()
    assert seen[:5] == [(1, True)] * 5
    assert seen[5:10] == [(0.5, "no")] * 5 and seen[10:] == [(None, "no")] * 5


def test_printing_sink_prints_each_event(capsys: pytest.CaptureFixture[str]) -> None:
    """PrintingSink prints format_function(timestamp, subject, transition) per event."""
    gen = DataOnlineGenerator(["a", "b"], "a", VisitorFactory(), 4, 10, 1, 100, seed=2)
    sink = PrintingSink(lambda ts, s, t: f"{ts} {s.user_id} {t.from_state}->{t.to_state}")
    gen.add_transition("go", "a", "b", 100, event_sinks=[sink])
    gen.start()
    assert sorted(capsys.readouterr().out.splitlines()) == [f"100 {u} a->b" for u in range(4)]


def test_replacing_a_trigger_and_the_probability_sum() -> None:
    """A trigger added twice out of one state replaces the first, in the probability sum too."""
    gen: DataOnlineGenerator[Visitor] = DataOnlineGenerator(["a"], "a", VisitorFactory(), 1, 1, 1)
    gen.add_transition("t", "a", "a", 90)
    gen.add_transition("t", "a", "a", 60)
    gen.add_transition("u", "a", "a", 40)
    assert gen.probability_matrix["a"] == {"t": 60.0, "u": 40.0}


def _raises(call: Any, *expected: str) -> None:
    line = sys._getframe(1).f_lineno
    with pytest.raises(ValueError) as caught:
        call()
    assert isinstance(caught.value, UserError)
    message = str(caught.value)
    assert f"{HERE}:{line}" in message, message
    for text in expected:
        assert text in message, message


def test_mistakes_are_value_errors_naming_the_script_line() -> None:
    """DOGE's mistakes are ValueErrors that are also UserErrors naming the script's line."""
    gen: DataOnlineGenerator[Visitor] = DataOnlineGenerator(["a", "b"], "a", VisitorFactory(), 3,
                                                            1, 1)
    _raises(lambda: gen.add_transition("t", "a", "c", 10), "to_state",
            "state 'c' is not present in machine states ['a', 'b']")
    gen.add_transition("t", "a", "b", 60)
    _raises(lambda: gen.add_transition("u", "a", "a", 50), "exceeded 100%")
    _raises(lambda: gen.add_transition("u", "a", "a", "5"),  # type: ignore[arg-type]
            "probability", "percentage")
    _raises(lambda: gen.add_transition("u", "a", "a", 5, action_callback=3),  # type: ignore[arg-type]
            "action_callback")
    _raises(lambda: DataOnlineGenerator(["a"], "x", VisitorFactory(), 1, 1, 1), "initial_state")
    _raises(lambda: DataOnlineGenerator(["a"], "a", VisitorFactory(), -1, 1, 1), "subjects_num")


def test_subjects_of_several_classes_are_refused() -> None:
    """A factory mixing subject classes gets a clear error at start()."""
    class Mixed(SubjectFactory[object]):
        def __init__(self) -> None:
            self.n = 0

        def create(self) -> object:
            self.n += 1
            return Visitor(self.n) if self.n % 2 else {"user_id": self.n}

    gen: DataOnlineGenerator[object] = DataOnlineGenerator(["a"], "a", Mixed(), 4, 1, 1)
    with pytest.raises(UserError, match="subjects of two classes"):
        gen.start()


def test_seeds_make_a_run_reproducible() -> None:
    """With the same seeds a DOGE script gives the same events; another engine seed others."""
    def events(seed: int) -> list[object]:
        random.seed(5)
        sinks = collecting_sinks()
        gen = build(sinks["clickstream"], sinks["trx"], sinks["balance"], sinks["loan"],
                    subjects=2000, ticks=100)
        gen.seed = seed
        gen.start()
        return [row for sink in sinks.values() for row in sink.rows]

    first = events(8)
    assert first and events(8) == first and events(9) != first
