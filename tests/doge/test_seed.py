"""The seed article's banking script on connector.doge: it runs, and it follows DOGE's semantics."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any, cast

import pytest

from bench import doge_seed
from bench.doge_seed import build, collecting_sinks
from tests.engine.stats import binomial_bounds

START, TICK = 1644549708000, 60000
# (from state, probability %) of each trigger, as the article adds them.
TRIGGERS = {"income": ("offline", 0.01), "spending": ("offline", 0.1), "login": ("offline", 0.1),
            "logout": ("online", 70), "open_loan_screen ": ("online", 30),
            "close_loan_screen": ("loan_screen", 40), "take_loan": ("loan_screen", 10)}
TARGETS = {"income": "offline", "spending": "offline", "login": "online", "logout": "offline",
           "open_loan_screen ": "loan_screen", "close_loan_screen": "online",
           "take_loan": "online"}


def test_the_article_snippet_runs() -> None:
    """The article's snippet as given (10 users, 1000 ticks) runs and feeds every sink."""
    sinks = collecting_sinks()
    build(sinks["clickstream"], sinks["trx"], sinks["balance"], sinks["loan"]).start()
    clicks = sinks["clickstream"].rows
    assert clicks and {r["event"] for r in clicks} <= {"login", "open_loan_screen ",
                                                       "close_loan_screen", "take_loan"}
    for sink in sinks.values():
        for row in sink.rows:
            assert 0 <= int(row["user_id"]) < 10
            assert (row["timestamp"] - START) % TICK == 0
            assert START <= row["timestamp"] < START + 1000 * TICK


class _Moves(doge_seed.Collect):
    """Records (tick, user, trigger) of every move it sees."""

    def __init__(self) -> None:
        super().__init__(lambda ts, subject, t: ((ts - START) // TICK, subject.user_id,
                                                 t.trigger))


def test_per_transition_frequencies_follow_the_probabilities(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each transition's draws are within binomial bounds of its state's user-ticks; vetoes hold."""
    users, ticks = 20_000, 200
    attempts: Counter[str] = Counter()

    def counted(name: str, callback: Any) -> Any:
        def wrapper(subject: Any, transition: Any) -> bool:
            attempts[name] += 1
            return bool(callback(subject, transition))
        return wrapper

    for name in ("income", "spending", "take_loan"):
        monkeypatch.setattr(doge_seed, f"{name}_callback",
                            counted(name, getattr(doge_seed, f"{name}_callback")))
    random.seed(3)
    sinks = collecting_sinks()
    moves = _Moves()
    datagen = build(moves, sinks["trx"], sinks["balance"], moves, subjects=users, ticks=ticks)
    datagen.add_transition("logout", "online", "offline", 70, event_sinks=[moves])  # observe it
    datagen.seed = 11
    datagen.start()
    rows = cast(list[tuple[int, int, str]], moves.rows)
    occupancy = _occupancy(rows, users, ticks)
    observed = Counter(t for _, _, t in set(rows))
    for trigger, (state, percent) in TRIGGERS.items():
        count = attempts[trigger] if trigger in attempts else observed[trigger]
        low, high = binomial_bounds(occupancy[state], percent / 100)
        assert low <= count <= high, (trigger, count, low, high)
    assert observed["spending"] < attempts["spending"]  # some were vetoed...
    assert all(r["balance"] >= 0 for r in sinks["balance"].rows)  # ...so none overspent


def _occupancy(moves: list[tuple[int, int, str]], users: int, ticks: int) -> Counter[str]:
    """User-ticks spent in each state, replaying the observed moves (all start offline)."""
    state = dict.fromkeys(range(users), "offline")
    by_tick: dict[int, set[tuple[int, str]]] = {}
    for tick, user, trigger in moves:
        by_tick.setdefault(tick, set()).add((user, trigger))
    counts = Counter(state.values())
    total: Counter[str] = Counter()
    for tick in range(ticks):
        total.update(counts)
        for user, trigger in by_tick.get(tick, ()):
            counts[state[user]] -= 1
            state[user] = TARGETS[trigger]
            counts[state[user]] += 1
    return total
