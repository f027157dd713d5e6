"""The engine's C path for per-shard draws (connector/engine/_draws.c) draws what numpy draws."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import accumulate
from pathlib import Path

import numpy as np
import pytest

from connector.engine import movers, native, rng, rows
from connector.engine.plan import ONE, build_plan
from connector.engine.settings import SimulationSettings
from connector.engine.shard import ShardEngine, step_shards
from connector.model.validate import load_model
from tests.helpers import ROOT


@pytest.fixture
def numpy_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The engine as if the C module were not built (DOGE_ENGINE_NATIVE=0)."""
    _forget()
    monkeypatch.setenv(native.SWITCH, "0")
    yield
    monkeypatch.delenv(native.SWITCH)
    _forget()


def _forget() -> None:
    native.draws_module.cache_clear()
    movers._native_pick.cache_clear()
    rows._native_bounded.cache_clear()


def test_the_c_path_is_built_and_agrees_with_numpy() -> None:
    """The install builds the module and its first-use checks accept it (else every task would
    silently take the slower numpy path)."""
    _forget()
    assert native.draws_module() is not None
    assert movers._native_pick() is not None
    assert rows._native_bounded() is not None


@pytest.mark.parametrize("seed", range(12))
def test_pick_draws_the_movers_numpy_draws(seed: int) -> None:
    """Over populations of every size, state widths, chances and chunk sizes (small chunks make
    the geometric gaps run past one chunk, which the default size makes rare), the C pick gives
    the same rows and draws and leaves the stream where numpy leaves it."""
    pick = movers._native_pick()
    assert pick is not None
    gen = np.random.Generator(np.random.SFC64(seed))
    for case in range(60):
        n = int(gen.integers(0, 200_000)) if case % 3 else int(gen.integers(0, 50))
        kinds = 2 + int(gen.integers(0, 6))
        states = gen.integers(0, kinds, size=n).astype([np.int8, np.int16, np.int32][case % 3])
        totals = gen.integers(0, ONE // 4, size=kinds, dtype=np.int64)
        dominant = int(gen.integers(0, kinds))
        totals[dominant] = int(gen.choice([0, 1, 2, 1000, int(gen.integers(0, ONE // 4))]))
        others = np.flatnonzero(states != dominant)
        total = int(totals[dominant])
        chunk = [1, 2, 7, movers._chunk(n, total / ONE)][case % 4]
        want_gen, got_gen = rng.stream(seed, case, 0, 1), rng.stream(seed, case, 0, 1)
        want = movers._numpy_pick(want_gen, states, totals, dominant, total, others, chunk)
        got = pick(got_gen.bit_generator.capsule, states, dominant, total, others, totals,
                   chunk)
        assert np.array_equal(got[0], want[0]) and got[0].dtype == want[0].dtype
        assert np.array_equal(got[1], want[1]) and got[1].dtype == want[1].dtype
        assert got_gen.random() == want_gen.random()


def test_pick_refuses_arrays_it_cannot_read_before_drawing() -> None:
    """Wrong dtypes are a TypeError and the stream is untouched (no half-made draws)."""
    pick = movers._native_pick()
    assert pick is not None
    states = np.zeros(10, dtype=np.int8)
    gen, fresh = rng.stream(1, 0, 0, 0), rng.stream(1, 0, 0, 0)
    with pytest.raises(TypeError):
        pick(gen.bit_generator.capsule, states, 0, 1000, np.arange(3, dtype=np.int32),
             np.zeros(2, dtype=np.int64), 16)
    with pytest.raises(TypeError):
        pick(gen.bit_generator.capsule, states.astype(float), 0, 1000,
             np.arange(3, dtype=np.intp), np.zeros(2, dtype=np.int64), 16)
    with pytest.raises(ValueError):
        pick(gen.bit_generator.capsule, states, 0, 1000, np.arange(3, dtype=np.intp),
             np.zeros(2, dtype=np.int64), 0)
    assert gen.random() == fresh.random()


@pytest.mark.parametrize(("low", "high"), [(0, 0), (10, 100), (-(1 << 40), 1 << 40),
                                           (0, (1 << 32) - 1), (-(1 << 63), (1 << 63) - 1)])
def test_bounded_draws_each_shards_slice_as_numpy_does(low: int, high: int) -> None:
    """Each shard's slice comes from its own stream exactly as Generator.integers gives it,
    empty slices drawing nothing."""
    sizes = [0, 5, 1, 0, 700, 33]
    segmented = rows.SegmentedGenerator([rng.stream(7, k, 1, 3) for k in range(6)],
                                        list(accumulate(sizes, initial=0)))
    got = segmented.integers(low, high, size=sum(sizes), endpoint=True)
    want = np.concatenate([rng.stream(7, k, 1, 3).integers(low, high, size=n, dtype=np.int64,
                                                           endpoint=True)
                           for k, n in enumerate(sizes)])
    assert got.dtype == np.int64 and np.array_equal(got, want)


def _step(shards: int, ticks: int) -> list[tuple[int, str, bytes, bytes]]:
    model = load_model(Path(ROOT / "config/models/banking.yaml"))
    plan = build_plan(model, 60_000)
    settings = SimulationSettings(users=20_000, shards=shards, seed=5, tick_ms=60_000,
                                  start_ms=1_704_067_200_000)
    engines = [ShardEngine(plan, settings, s) for s in range(shards)]
    out = []
    for _ in range(ticks):
        for batch in step_shards(engines):
            for e in batch.events:
                out.append((batch.tick, e.topic, e.user_ids.tobytes(),
                            e.array("balance").tobytes() if "balance" in e.fields else b""))
    return out


@pytest.fixture(scope="module")
def with_c_path() -> list[tuple[int, str, bytes, bytes]]:
    _forget()
    return _step(8, 60)


def test_stepping_gives_the_same_events_without_the_c_path(
        with_c_path: list[tuple[int, str, bytes, bytes]], numpy_only: None) -> None:
    """A task with the C path and one without produce the same events (what a task on a host
    without a compiler would commit)."""
    assert native.draws_module() is None
    assert _step(8, 60) == with_c_path
