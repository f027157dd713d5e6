"""The determinism contract: output is a pure function of (model, config, seed)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pytest

from connector.core.batch import TickBatch
from connector.engine.shard import ShardEngine
from connector.serde.encoder import RecordEncoder
from tests.engine.conftest import EngineFactory
from tests.helpers import banking_model


def digest(batches: Iterable[TickBatch], engine: ShardEngine) -> str:
    """Hash of every event's topic, transition, key, timestamp and Avro-encoded value."""
    h = hashlib.sha256()
    encoders = {t: RecordEncoder(s) for t, s in engine.plan.model.schemas.items()}
    for batch in batches:
        h.update(f"{batch.shards}/{batch.tick}".encode())
        for e in batch.events:
            h.update(f"{e.topic}/{e.transition}".encode())
            h.update(e.user_ids.tobytes())
            h.update(e.timestamps.tobytes())
            h.update(encoders[e.topic].encode(e.fields, len(e)).buffer)
    return h.hexdigest()


def _shard_digests(engines: list[ShardEngine], ticks: int) -> dict[int, str]:
    out = {}
    for e in engines:
        out[e.shard] = digest((e.step() for _ in range(ticks)), e)
    return out


def test_same_seed_gives_same_bytes(engines: EngineFactory) -> None:
    """Two runs of the banking model with one seed produce identical events."""
    a = _shard_digests(engines(banking_model(), users=3000, shards=4, seed=5), 200)
    b = _shard_digests(engines(banking_model(), users=3000, shards=4, seed=5), 200)
    assert a == b


def test_different_seed_gives_different_bytes(engines: EngineFactory) -> None:
    """Changing the seed changes the output (the seed really feeds every stream)."""
    a = _shard_digests(engines(banking_model(), users=3000, shards=2, seed=5), 100)
    b = _shard_digests(engines(banking_model(), users=3000, shards=2, seed=6), 100)
    assert all(a[s] != b[s] for s in a)


def test_grouping_of_shards_does_not_matter(engines: EngineFactory) -> None:
    """A shard stepped alone, interleaved with others, or in another order gives the same bytes."""
    model = banking_model()
    together = engines(model, users=4000, shards=4, seed=9)
    interleaved: dict[int, list[TickBatch]] = {e.shard: [] for e in together}
    for _ in range(150):
        for e in reversed(together):
            interleaved[e.shard].append(e.step())
    for shard in (0, 3):
        alone = engines(model, users=4000, shards=4, seed=9)[shard]
        assert digest((alone.step() for _ in range(150)), alone) == \
            digest(interleaved[shard], alone)


def test_snapshot_restore_mid_run_gives_same_bytes(engines: EngineFactory) -> None:
    """Snapshot at tick 80, restore into a fresh engine, continue: same as an uninterrupted run."""
    model = banking_model()
    model["population"] = {"users": 2000, "arrivals": {"per_hour": 120}}
    reference = engines(model, users=2000, shards=2, seed=3)[1]
    expected = digest((reference.step() for _ in range(200)), reference)
    first = engines(model, users=2000, shards=2, seed=3)[1]
    head = [first.step() for _ in range(80)]
    snapshot = first.snapshot()
    restored = engines(model, users=2000, shards=2, seed=3)[1]
    restored.restore(snapshot)
    assert restored.tick == 80
    tail = [restored.step() for _ in range(120)]
    assert digest(head + tail, restored) == expected


def test_silent_replay_matches_producing_run(engines: EngineFactory) -> None:
    """Replaying ticks without building events leaves the same state as producing them."""
    model = banking_model()
    a = engines(model, users=2000, shards=1, seed=4)[0]
    b = engines(model, users=2000, shards=1, seed=4)[0]
    for _ in range(100):
        a.step()
        b.step(build_events=False)
    assert digest([a.step() for _ in range(50)], a) == digest([b.step() for _ in range(50)], b)


def test_snapshot_of_another_run_is_refused(engines: EngineFactory) -> None:
    """A snapshot is never restored into a run with another seed (it would mix two runs)."""

    snap = engines(banking_model(), users=100, shards=1, seed=1)[0].snapshot()
    other = engines(banking_model(), users=100, shards=1, seed=2)[0]
    with pytest.raises(ValueError, match="another run"):
        other.restore(snap)


def test_snapshot_between_recounts_of_the_dominant_state_gives_same_bytes(
        engines: EngineFactory) -> None:
    """The most populous state changes (a -> b) between two recounts; a snapshot taken after
    the change but before the next recount still continues with the same bytes."""
    model = {"states": ["a", "b"], "initial": "a", "transitions": [
        {"name": "go", "from": "a", "to": "b", "chance": 2, "emit": ["events"]},
        {"name": "back", "from": "b", "to": "a", "chance": 0.667, "emit": ["events"]}]}
    reference = engines(model, users=4000, shards=1, seed=8)[0]
    expected = digest((reference.step() for _ in range(100)), reference)
    first = engines(model, users=4000, shards=1, seed=8)[0]
    head = [first.step() for _ in range(50)]
    states = first.population.state[: first.population.size]
    assert (states == 1).sum() > (states == 0).sum()  # b leads at the snapshot, not at tick 32
    restored = engines(model, users=4000, shards=1, seed=8)[0]
    restored.restore(first.snapshot())
    assert digest(head + [restored.step() for _ in range(50)], restored) == expected


def test_rows_outside_the_dominant_state_tracked_across_ticks_give_same_bytes(
        engines: EngineFactory) -> None:
    """The shard keeps the rows outside its most populous state from tick to tick (a restore
    forgets them, so they are found by a scan): with arrivals, a transition leaving both the
    dominant state and another, and the dominant state changing, the bytes are the same."""
    model = {"states": ["a", "b", "c"], "initial": "a",
             "population": {"arrivals": {"per_hour": 600}, "arrival_state": "c"},
             "transitions": [
                 {"name": "go", "from": "a", "to": "b", "chance": 2, "emit": ["events"]},
                 {"name": "back", "from": "b", "to": "a", "chance": 0.667, "emit": ["events"]},
                 {"name": "mix", "from": ["a", "c"], "to": "c", "chance": 0.5,
                  "emit": ["events"]},
                 {"name": "settle", "from": "c", "to": "a", "chance": 3}]}
    kept = engines(model, users=4000, shards=1, seed=3)[0]
    expected = digest((kept.step() for _ in range(100)), kept)
    scanned = engines(model, users=4000, shards=1, seed=3)[0]
    batches = []
    for _ in range(100):
        scanned.restore(scanned.snapshot())
        batches.append(scanned.step())
    assert digest(batches, scanned) == expected
