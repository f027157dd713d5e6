"""Value functions in a running model: deterministic, independent of grouping and restarts,
per-shard sequences, and identities (fake() in `initial:`) that never change for a user."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from connector.core.batch import TickBatch
from connector.engine.plan import build_plan
from connector.engine.shard import ShardEngine
from connector.model.validate import load_model
from tests.engine.conftest import EngineFactory
from tests.engine.test_determinism import digest
from tests.engine.test_grouping import SHARDS, _digests_grouped
from tests.helpers import model_file

MODEL: dict[str, Any] = {
    "states": ["idle", "busy"], "initial": "idle",
    "population": {"users": 2000, "arrivals": {"per_hour": 240}},
    "attributes": {
        "email": {"type": "string", "initial": "fake('email')"},
        "name": {"type": "string", "initial": "fake('name', 'de_DE')"},
        "member_no": {"type": "long", "initial": "sequence('member')"},
    },
    "transitions": [
        {"name": "buy", "from": "idle", "to": "busy", "chance": 5,
         "vars": {"order": "sequence('order')"},
         "condition": "bernoulli(0.8)",
         "emit": [{"topic": "orders", "fields": {
             "order_id": "format('ORD-{:08d}', order)", "ref": "uuid()",
             "code": "regex('[A-Z]{2}\\\\d{3}')", "line": "sequence('line')",
             "day": "format_time(time, '%F %H:%M')", "digest": "hash(email)",
             "ip": "fake('ipv4')"}}]},
        {"name": "rest", "from": "busy", "to": "idle", "chance": 20, "emit": ["profile"]},
    ],
}
_LONG, _STRING = "long", "string"
SCHEMAS = {
    "orders": {"type": "record", "name": "Order", "fields": [
        {"name": n, "type": t} for n, t in [
            ("user_id", _LONG), ("email", _STRING), ("order_id", _STRING), ("ref", _STRING),
            ("code", _STRING), ("line", _LONG), ("day", _STRING), ("digest", _STRING),
            ("ip", _STRING)]]},
    "profile": {"type": "record", "name": "Profile", "fields": [
        {"name": n, "type": t} for n, t in [
            ("user_id", _LONG), ("email", _STRING), ("name", _STRING), ("member_no", _LONG)]]},
}


def _engines(engines: EngineFactory, seed: int = 5, shards: int = 3) -> list[ShardEngine]:
    return engines(MODEL, users=2000, shards=shards, seed=seed, schemas=SCHEMAS)


def _run(engine: ShardEngine, ticks: int) -> list[TickBatch]:
    return [engine.step() for _ in range(ticks)]


def test_same_seed_same_bytes_other_seed_other_bytes(engines: EngineFactory) -> None:
    """Two runs with one seed give identical events; another seed gives other values."""
    a = [digest(_run(e, 60), e) for e in _engines(engines)]
    b = [digest(_run(e, 60), e) for e in _engines(engines)]
    c = [digest(_run(e, 60), e) for e in _engines(engines, seed=6)]
    assert a == b
    assert all(x != y for x, y in zip(a, c, strict=True))


def test_grouping_of_shards_does_not_matter(tmp_path: Path) -> None:
    """All shards together, in uneven groups, one by one: the same bytes per shard."""
    plan = build_plan(load_model(model_file(tmp_path, MODEL, SCHEMAS)), 60_000)
    alone = _digests_grouped(plan, [[s] for s in range(SHARDS)], 60)
    assert _digests_grouped(plan, [list(range(SHARDS))], 60) == alone
    assert _digests_grouped(plan, [[4, 1], [0, 2, 3]], 60) == alone


def test_snapshot_restore_and_silent_replay_continue_exactly(engines: EngineFactory) -> None:
    """Restore a snapshot mid-run, or replay without building events (sequence() in emitted
    fields still advances): the output continues byte for byte."""
    reference = _engines(engines)[1]
    expected = digest(_run(reference, 90), reference)
    first = _engines(engines)[1]
    head = _run(first, 40)
    restored = _engines(engines)[1]
    restored.restore(first.snapshot())
    assert digest(head + _run(restored, 50), restored) == expected
    replayed = _engines(engines)[1]
    for _ in range(40):
        replayed.step(build_events=False)
    assert digest(head + _run(replayed, 50), replayed) == expected


def _events(batches: list[TickBatch], topic: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for batch in batches:
        for e in batch.events:
            if e.topic == topic:
                names = list(e.fields)
                out.extend(dict(zip(names, row, strict=True))
                           for row in zip(*(e.array(n).tolist() for n in names), strict=True))
    return out


def test_sequences_are_gap_free_per_shard_and_unique_across_shards(
        engines: EngineFactory) -> None:
    """sequence() numbers of shard s are s, s + S, s + 2S, ... with no gap, in event order."""
    shards = _engines(engines)
    seen: list[int] = []
    for engine in shards:
        lines = [r["line"] for r in _events(_run(engine, 80), "orders")]
        expected = engine.shard + len(shards) * np.arange(len(lines))
        assert lines and lines == expected.tolist()
        members = engine.population.attributes["member_no"][: engine.population.size]
        assert members.tolist() == (engine.shard + len(shards) *
                                    np.arange(engine.population.size)).tolist()
        seen.extend(lines)
    assert len(seen) == len(set(seen))


def test_identities_stay_the_same_for_a_users_life(engines: EngineFactory) -> None:
    """An e-mail assigned in `initial:` is the same on every topic and every event of a user,
    also after a restore; different users have different addresses."""
    first = _engines(engines)[0]
    head = _run(first, 40)
    restored = _engines(engines)[0]
    restored.restore(first.snapshot())
    batches = head + _run(restored, 60)
    emails: dict[int, set[str]] = defaultdict(set)
    names: dict[int, set[str]] = defaultdict(set)
    for topic in ("orders", "profile"):
        for r in _events(batches, topic):
            emails[r["user_id"]].add(r["email"])
            if topic == "profile":
                names[r["user_id"]].add(r["name"])
    assert len(emails) > 100 and all(len(v) == 1 for v in emails.values())
    assert names and all(len(v) == 1 for v in names.values())
    pop = restored.population
    live = pop.attributes["email"][: pop.size].tolist()
    assert len(set(live)) == len(live)
    rows = {int(u): i for i, u in enumerate(restored.user_ids(np.arange(pop.size)).tolist())}
    assert all(live[rows[u]] in v for u, v in emails.items())
