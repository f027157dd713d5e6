"""A draw over several shards' rows equals each shard drawing its own slice from its own stream."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from connector.engine.rows import SegmentedGenerator
from connector.model.expr import identifiers, randoms
from connector.model.expr.fakes import KINDS, FakeDraw
from connector.model.expr.regexgen import RegexDraw, compile_regex

SIZES = [3, 0, 5, 4]
BOUNDS = np.cumsum([0, *SIZES]).tolist()
N = BOUNDS[-1]
PER_ROW = np.linspace(1.0, 9.0, N)  # a parameter that differs per row
LOW = np.arange(N, dtype=np.int64)

class FakeDrawOf:
    """fake(kind, 'de_DE') as a draw(gen, size, parameter) (the parameter is not used)."""

    def __init__(self, kind: str) -> None:
        self.draw = FakeDraw(kind, "de_DE")

    def __call__(self, gen: Any, size: int, _: np.ndarray) -> np.ndarray:
        return self.draw(gen, size)


# name -> (draw(gen, size, parameter column), the parameter column over all rows)
DRAWS: dict[str, tuple[Callable[[Any, int, np.ndarray], np.ndarray], np.ndarray]] = {
    "uniform": (lambda g, n, p: randoms.uniform(g, n, 0.0, p), PER_ROW),
    "randint": (lambda g, n, p: randoms.randint(g, n, p, 100), LOW),
    "normal": (lambda g, n, p: randoms.normal(g, n, p, 2.0), PER_ROW),
    "lognormal": (lambda g, n, p: randoms.lognormal(g, n, 0.0, p / 10), PER_ROW),
    "exponential": (randoms.exponential, PER_ROW),
    "poisson": (randoms.poisson, PER_ROW),
    "bernoulli": (lambda g, n, p: randoms.bernoulli(g, n, p / 10), PER_ROW),
    "choice": (lambda g, n, p: randoms.choice_index(g, n, np.array([0.2, 0.5, 1.0])), PER_ROW),
    "uuid": (lambda g, n, p: identifiers.uuid4(g, n), PER_ROW),
    "regex": (lambda g, n, p: RegexDraw("", compile_regex(r"(a|bc)[x-z]{0,3}\d+"))(g, n), PER_ROW),
    **{f"fake {kind}": (FakeDrawOf(kind), PER_ROW) for kind in KINDS},
}


def _gens() -> list[np.random.Generator]:
    return [np.random.default_rng(seed) for seed in range(len(SIZES))]


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_segmented_draw_is_each_shards_own_draw(name: str) -> None:
    """Same numbers as drawing each shard's rows alone, per-row parameters sliced per shard."""
    draw, param = DRAWS[name]
    together = draw(SegmentedGenerator(_gens(), BOUNDS), N, param)
    alone = []
    for k, gen in enumerate(_gens()):
        lo, hi = BOUNDS[k], BOUNDS[k + 1]
        alone.append(draw(gen, hi - lo, param[lo:hi]))
    assert np.array_equal(together, np.concatenate(alone))


def test_a_draw_of_another_size_is_refused() -> None:
    """Drawing for a different number of rows than the shards hold is a bug, not a reshape."""
    with pytest.raises(ValueError, match="over 12 rows"):
        SegmentedGenerator(_gens(), BOUNDS).random(5)
