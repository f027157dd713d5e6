"""The model semantics of DESIGN.md section 3, checked on the engine's output."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from connector.core.batch import EventColumns
from connector.core.columns import DecimalTextColumn, to_python
from connector.engine.shard import ShardEngine
from tests.engine.conftest import EngineFactory
from tests.engine.stats import binomial_bounds, chi_square, chi_square_critical, poisson_bounds


def _run(engines: list[ShardEngine], ticks: int) -> list[EventColumns]:
    out: list[EventColumns] = []
    for _ in range(ticks):
        for e in engines:
            out.extend(e.step().events)
    return out


def _state_counts(engines: list[ShardEngine]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for e in engines:
        names = e.plan.state_names
        for index, n in zip(*np.unique(e.population.state[: e.population.size],
                                       return_counts=True), strict=True):
            counts[names[int(index)]] += int(n)
    return counts


def test_transition_frequencies_match_chances(engines: EngineFactory) -> None:
    """Per tick each user takes x with 5 %, y with 15 % and stays otherwise (chi-square)."""
    model = {"states": ["a"], "transitions": [
        {"name": "x", "from": "a", "to": "a", "chance": 5, "emit": ["events"]},
        {"name": "y", "from": "a", "to": "a", "chance": 15, "emit": ["events"]}]}
    users, ticks = 5000, 40
    events = _run(engines(model, users=users, shards=4), ticks)
    counts = Counter({e.transition: 0 for e in events})
    for e in events:
        counts[e.transition] += len(e)
    trials = users * ticks
    observed = [counts["x"], counts["y"], trials - counts["x"] - counts["y"]]
    expected = [trials * 0.05, trials * 0.15, trials * 0.80]
    assert chi_square(observed, expected) < chi_square_critical(df=2)


def test_at_most_one_transition_per_user_per_tick(engines: EngineFactory) -> None:
    """No user emits events of two transitions in one tick, even at 100 % total chance."""
    model = {"states": ["a", "b"], "transitions": [
        {"name": "ab", "from": "a", "to": "b", "chance": 100, "emit": ["events"]},
        {"name": "ba", "from": "b", "to": "a", "chance": 100, "emit": ["events"]}]}
    engine = engines(model, users=100)[0]
    for tick in range(6):
        batch = engine.step()
        users = np.concatenate([e.user_ids for e in batch.events])
        assert len(users) == 100 and len(set(users.tolist())) == 100
        assert {e.transition for e in batch.events} == {"ab" if tick % 2 == 0 else "ba"}


def test_false_condition_keeps_user_in_place(engines: EngineFactory) -> None:
    """A drawn transition whose condition is false leaves the user where it is, emitting nothing."""
    model = {"states": ["a"],
             "attributes": {"balance": {"type": "long",
                                        "initial": "if(user_id % 2 == 0, 0, 100)"}},
             "transitions": [{"name": "spend", "from": "a", "to": "a", "chance": 100,
                              "condition": "balance >= 10", "update": ["balance -= 10"],
                              "emit": ["events"]}]}
    events = _run(engines(model, users=50), 20)
    per_user = Counter(int(u) for e in events for u in e.user_ids)
    assert all(per_user[u] == 0 for u in range(0, 50, 2))
    assert all(per_user[u] == 10 for u in range(1, 50, 2))


def test_updates_see_pre_transition_values(engines: EngineFactory) -> None:
    """All updates of a transition read the values from before it (a swap really swaps)."""
    model = {"states": ["a", "b"],
             "attributes": {"x": {"type": "long", "initial": "1"},
                            "y": {"type": "long", "initial": "2"}},
             "transitions": [{"name": "swap", "from": "a", "to": "b", "chance": 100,
                              "update": ["x = y", "y = x"]}]}
    engine = engines(model, users=10)[0]
    engine.step()
    assert engine.population.attributes["x"][:10].tolist() == [2] * 10
    assert engine.population.attributes["y"][:10].tolist() == [1] * 10


def test_emitted_fields_see_post_transition_values(engines: EngineFactory) -> None:
    """Events carry attribute values after the transition's updates, and its variables."""
    schema = {"type": "record", "name": "B", "fields": [
        {"name": "user_id", "type": "string"}, {"name": "balance", "type": "long"},
        {"name": "amount", "type": "long"}, {"name": "timestamp", "type": "long"}]}
    model = {"states": ["a"], "attributes": {"balance": {"type": "long", "initial": "100"}},
             "transitions": [{"name": "pay", "from": "a", "to": "a", "chance": 100,
                              "vars": {"amount": "randint(1, 5)"},
                              "update": ["balance -= amount"], "emit": ["b"]}]}
    engine = engines(model, users=20, schemas={"b": schema})[0]
    events = engine.step().events[0]
    assert (events.array("balance") + events.array("amount") == 100).all()
    assert events.array("user_id").tolist() == [str(u) for u in range(20)]
    assert (events.array("timestamp") == engine.settings.start_ms).all()


def test_user_id_text_fields_are_the_ids_digits(engines: EngineFactory) -> None:
    """A string user_id field is the ids' decimal text (kept as the ids, no str per event);
    a key reading that field, and a nullable string user_id, still get `str` values."""
    schema = {"type": "record", "name": "T", "fields": [
        {"name": "user_id", "type": "string"},
        {"name": "who", "type": ["null", "string"], "default": None}]}
    model = {"states": ["a"], "topics": {"t": {"schema": schema, "key": "'k' + user_id"}},
             "transitions": [{"name": "go", "from": "a", "to": "a", "chance": 100,
                              "emit": [{"topic": "t", "fields": {"who": "user_key"}}]}]}
    (engine,) = engines(model, users=300)
    for e in engine.step().events:
        ids = [str(u) for u in e.user_ids.tolist()]
        assert isinstance(e.fields["user_id"], DecimalTextColumn)
        assert to_python(e.fields["user_id"]) == ids == e.array("user_id").tolist()
        assert e.array("who").tolist() == ids  # nullable: strings as before
        assert isinstance(e.keys, np.ndarray) and e.keys.tolist() == ["k" + u for u in ids]


def test_time_profile_scales_chances_by_hour(engines: EngineFactory) -> None:
    """A 0x morning / 2x afternoon profile gives no morning events and twice the rate after noon."""
    hours = [0.0] * 12 + [2.0] * 12
    model = {"states": ["a"], "profiles": {"pm": {"hours": hours}},
             "transitions": [{"name": "x", "from": "a", "to": "a", "chance": 10,
                              "profile": "pm", "emit": ["events"]}]}
    users = 2000
    engine = engines(model, users=users, tick_ms=3_600_000)[0]  # start: midnight UTC
    per_hour = [sum(len(e) for e in engine.step().events) for _ in range(24)]
    assert sum(per_hour[:12]) == 0
    low, high = binomial_bounds(users * 12, 0.20)
    assert low <= sum(per_hour[12:]) <= high


def test_time_profile_weekday_and_time_zone(engines: EngineFactory) -> None:
    """Weekday multipliers apply in the profile's time zone (Sunday off in Warsaw time)."""
    model = {"states": ["a"], "timezone": "Europe/Warsaw",
             "profiles": {"weekdays_only": {"weekdays": [1, 1, 1, 1, 1, 1, 0]}},
             "transitions": [{"name": "x", "from": "a", "to": "a", "chance": 50,
                              "profile": "weekdays_only", "emit": ["events"]}]}
    # 2024-01-06 23:00 UTC is Sunday 00:00 in Warsaw: hourly ticks through Sunday local time.
    start = 1_704_582_000_000
    engine = engines(model, users=200, tick_ms=3_600_000, start_ms=start)[0]
    sunday = [sum(len(e) for e in engine.step().events) for _ in range(24)]
    monday = [sum(len(e) for e in engine.step().events) for _ in range(24)]
    assert sum(sunday) == 0
    low, high = binomial_bounds(200 * 24, 0.5)
    assert low <= sum(monday) <= high


def test_every_survives_a_change_of_tick_length(engines: EngineFactory) -> None:
    """`every: 1h` leaves a state by time t with chance 1 - exp(-t/1h) whatever tick.ms is."""
    model = {"states": ["a", "b"],
             "transitions": [{"name": "go", "from": "a", "to": "b", "every": "1h"}]}
    users = 20_000
    expected = 1 - math.exp(-2)
    low, high = binomial_bounds(users, expected)
    for tick_ms, ticks in ((60_000, 120), (600_000, 12), (3_600_000, 2)):
        shards = engines(model, users=users, shards=2, tick_ms=tick_ms)
        _run(shards, ticks)
        assert low <= _state_counts(shards)["b"] <= high, tick_ms


def test_arrivals_grow_the_population(engines: EngineFactory) -> None:
    """Arrivals at 600 per hour add Poisson(600 * hours) users with fresh ids."""
    model = {"states": ["a"], "population": {"arrivals": {"per_hour": 600}},
             "transitions": [{"name": "x", "from": "a", "to": "a", "chance": 0}]}
    shards = engines(model, users=100, shards=4)
    _run(shards, 300)  # 5 hours of 1-minute ticks
    total = sum(e.population.size for e in shards)
    low, high = poisson_bounds(3000)
    assert low <= total - 100 <= high
    ids = np.concatenate([e.user_ids(np.arange(e.population.size)) for e in shards])
    assert len(np.unique(ids)) == len(ids)


def test_churn_moves_users_to_a_final_state(engines: EngineFactory) -> None:
    """Users churn into a final state at the model's rate and never leave it."""
    model = {"states": ["active", "churned"], "final": ["churned"],
             "transitions": [{"name": "churn", "from": "active", "to": "churned", "chance": 1,
                              "emit": ["events"]}]}
    users, ticks = 10_000, 50
    shards = engines(model, users=users, shards=2)
    events = _run(shards, ticks)
    churned = _state_counts(shards)["churned"]
    low, high = binomial_bounds(users, 1 - 0.99 ** ticks)
    assert low <= churned <= high
    assert sum(len(e) for e in events) == churned  # one churn event each, never more


def test_session_ids_mark_sessions(engines: EngineFactory) -> None:
    """Events between open and close carry one session id; the next session gets a new one."""
    schema = {"type": "record", "name": "S", "fields": [
        {"name": "user_id", "type": "long"}, {"name": "event", "type": "string"},
        {"name": "session_id", "type": ["null", "string"]}, {"name": "timestamp", "type": "long"}]}
    model = {"states": ["out", "in"], "transitions": [
        {"name": "login", "from": "out", "to": "in", "chance": 30, "session": "open",
         "emit": ["s"]},
        {"name": "click", "from": "in", "to": "in", "chance": 40, "emit": ["s"]},
        {"name": "logout", "from": "in", "to": "out", "chance": 20, "session": "close",
         "emit": ["s"]},
        {"name": "idle", "from": "out", "to": "out", "chance": 10, "emit": ["s"]}]}
    engine = engines(model, users=50, schemas={"s": schema})[0]
    rows: list[tuple[int, str, str | None]] = []
    for _ in range(200):
        for e in engine.step().events:
            rows += zip(e.user_ids.tolist(), [e.transition] * len(e),
                        e.array("session_id").tolist(), strict=True)
    seen: set[str] = set()
    current: dict[int, str | None] = {}
    for user, transition, session in rows:
        if transition == "login":
            assert session is not None and session not in seen
            assert session.startswith(f"{user}-")
            seen.add(session)
            current[user] = session
        elif transition in ("click", "logout"):
            assert session == current[user]
            if transition == "logout":
                current[user] = None
        else:
            assert session is None
    assert len(seen) > 100
