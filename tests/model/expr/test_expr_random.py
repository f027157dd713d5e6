"""Random draws: determinism per call site, one draw per row, and statistical soundness.

Statistical bounds: a sample mean must lie within 5 standard errors of the true mean (two-sided
false-alarm rate 5.7e-7 per check under the normal approximation, n = 200 000), and chi-square
goodness-of-fit tests must have p > 1e-6. Everything is seeded, so the tests are not flaky; the
bounds say what a wrong implementation would have to hide behind.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from connector.model.expr import (
    EvalContext,
    ExprType,
    SiteCounter,
    TypeEnv,
    check,
    compile_expr,
    parse,
)

ENV = TypeEnv({"mu": ExprType.DOUBLE, "ok": ExprType.BOOLEAN, "a": ExprType.LONG})
N = 200_000
SIGMAS = 5.0
P_MIN = 1e-6


def streams(seed: int) -> Any:
    """Fresh generator per (seed, site), like the engine's per-(shard, tick, site) streams."""

    def rng(site: int) -> np.random.Generator:
        return np.random.default_rng([seed, site])

    return rng


def run(
    text: str,
    size: int = N,
    seed: int = 7,
    first_site: int = 0,
    columns: Mapping[str, Any] | None = None,
) -> np.ndarray:
    checked = check(parse(text), ENV, SiteCounter(first_site))
    ctx = EvalContext(size, columns or {}, rng=streams(seed))
    return compile_expr(checked).evaluate(ctx)


def chi2_sf(x: float, k: int) -> float:
    """Survival function of the chi-square distribution with k degrees of freedom (closed form)."""
    h = x / 2
    if k % 2 == 0:
        term = total = 1.0
        for i in range(1, k // 2):
            term *= h / i
            total += term
        return math.exp(-h) * total
    total = math.erfc(math.sqrt(h))
    for i in range(1, (k - 1) // 2 + 1):
        total += math.exp(-h + (i - 0.5) * math.log(h) - math.lgamma(i + 0.5))
    return total


def chi2_p(counts: np.ndarray, probs: np.ndarray) -> float:
    expected = probs * counts.sum()
    stat = float(((counts - expected) ** 2 / expected).sum())
    return chi2_sf(stat, len(counts) - 1)


def assert_mean(values: np.ndarray, mean: float, sd: float) -> None:
    se = sd / math.sqrt(len(values))
    assert abs(values.mean() - mean) < SIGMAS * se, (values.mean(), mean, se)


def test_chi2_sf_helper_matches_known_quantiles() -> None:
    """The test's own chi-square tail function agrees with published 1e-6 quantiles."""
    assert chi2_sf(27.631, 2) == pytest.approx(1e-6, rel=1e-3)
    assert chi2_sf(23.928, 1) == pytest.approx(1e-6, rel=1e-3)
    assert chi2_sf(35.888, 5) == pytest.approx(1e-6, rel=1e-3)
    assert chi2_sf(3.841, 1) == pytest.approx(0.05, rel=1e-3)


def test_same_site_and_seed_give_same_values() -> None:
    """Output is a pure function of the seed and the site: re-running reproduces it."""
    text = "uniform(0, 1) + normal(0, 1) + randint(1, 100) + poisson(3)"
    assert np.array_equal(run(text, 1000), run(text, 1000))
    assert not np.array_equal(run(text, 1000, seed=1), run(text, 1000, seed=2))


def test_other_random_calls_do_not_change_a_sites_draws() -> None:
    """Adding a random call elsewhere (before or after) leaves a site's draws unchanged."""
    alone = run("uniform(0, 1)", 1000, first_site=5)
    after = run("uniform(0, 1) + 0 * normal(0, 1)", 1000, first_site=5)
    before = run("0 * exponential(2) + uniform(0, 1)", 1000, first_site=4)
    nested = run("if(bernoulli(0.5), uniform(0, 1), uniform(0, 1))", 1000, first_site=4)
    assert np.array_equal(alone, after)
    assert np.array_equal(alone, before)
    # In `nested` the first uniform is site 5 and the second site 6: rows pick between them.
    assert np.isin(nested, alone).mean() > 0.3


def test_if_draws_for_all_rows() -> None:
    """A draw under if() uses the same per-row values as unconditionally: no compaction."""
    ok = np.arange(1000) % 3 == 0
    full = run("uniform(0, 1)", 1000)
    picked = run("if(ok, uniform(0, 1), -1.0)", 1000, columns={"ok": ok})
    assert np.array_equal(picked, np.where(ok, full, -1.0))


@pytest.mark.parametrize("text", ["uniform(0, 1)", "bernoulli(0.3)", "choice(['a', 'b', 'c'])"])
def test_exactly_one_draw_per_row(text: str) -> None:
    """Each site draws exactly ctx.size values per evaluation (the stream stays aligned)."""
    gens: dict[int, np.random.Generator] = {}

    def rng(site: int) -> np.random.Generator:
        gens[site] = np.random.default_rng([3, site])
        return gens[site]

    compiled = compile_expr(check(parse(text), ENV))
    compiled.evaluate(EvalContext(500, {}, rng=rng))
    reference = np.random.default_rng([3, 0]).random(501)
    assert gens[0].random() == reference[500]


def test_row_values_do_not_depend_on_other_rows_parameters() -> None:
    """For normal/uniform/bernoulli, a row's draw depends only on its own parameters."""
    mu1 = np.zeros(1000)
    mu2 = mu1.copy()
    mu2[::2] = 100.0
    one = run("normal(mu, 1)", 1000, columns={"mu": mu1})
    two = run("normal(mu, 1)", 1000, columns={"mu": mu2})
    assert np.array_equal(one[1::2], two[1::2])
    assert np.allclose(two[::2] - one[::2], 100.0)


def test_uniform() -> None:
    """uniform(a, b) lies in [a, b) with mean (a+b)/2."""
    v = run("uniform(2, 5)")
    assert v.min() >= 2 and v.max() < 5
    assert_mean(v, 3.5, 3 / math.sqrt(12))
    counts = np.histogram(v, bins=10, range=(2, 5))[0]
    assert chi2_p(counts, np.full(10, 0.1)) > P_MIN


def test_randint_is_inclusive_and_uniform() -> None:
    """randint(1, 6) yields each of 1..6 equally often, both bounds included."""
    v = run("randint(1, 6)")
    assert v.dtype == np.int64
    counts = np.bincount(v, minlength=7)
    assert counts[0] == 0 and counts[1:].min() > 0
    assert chi2_p(counts[1:], np.full(6, 1 / 6)) > P_MIN


def test_normal_mean_and_variance() -> None:
    """normal(10, 2) has mean 10 and variance 4."""
    v = run("normal(10, 2)")
    assert_mean(v, 10, 2)
    var_se = 4 * math.sqrt(2 / (N - 1))
    assert abs(v.var(ddof=1) - 4) < SIGMAS * var_se


def test_lognormal() -> None:
    """lognormal(mu, sigma) is exp of a normal(mu, sigma)."""
    v = run("lognormal(1, 0.5)")
    assert v.min() > 0
    assert_mean(np.log(v), 1, 0.5)


def test_exponential_mean() -> None:
    """exponential(mean) takes the mean (not the rate)."""
    v = run("exponential(3)")
    assert v.min() >= 0
    assert_mean(v, 3, 3)


def test_poisson_mean_and_pmf() -> None:
    """poisson(4) has mean 4 and the Poisson probabilities."""
    v = run("poisson(4)")
    assert v.dtype == np.int64
    assert_mean(v, 4, 2)
    k = np.arange(10)
    pmf = np.array([math.exp(-4) * 4.0**i / math.factorial(i) for i in k])
    counts = np.bincount(np.minimum(v, 10), minlength=11)
    probs = np.append(pmf, 1 - pmf.sum())
    assert chi2_p(counts, probs) > P_MIN


def test_bernoulli_rate() -> None:
    """bernoulli(p) is true with probability p."""
    v = run("bernoulli(0.3)")
    assert v.dtype == np.bool_
    assert_mean(v.astype(float), 0.3, math.sqrt(0.3 * 0.7))


def test_choice_weights() -> None:
    """choice with weights follows them; a zero-weight value is never chosen."""
    v = run("choice(['a', 'b', 'c', 'd'], [1, 2, 0, 7])")
    assert v.dtype == object
    values, counts = np.unique(v, return_counts=True)
    assert values.tolist() == ["a", "b", "d"]
    assert chi2_p(counts, np.array([0.1, 0.2, 0.7])) > P_MIN


def test_choice_without_weights_is_uniform() -> None:
    """choice without weights picks each value equally often."""
    v = run("choice([10, 20, 30, 40, 50])")
    assert v.dtype == np.int64
    counts = np.unique(v, return_counts=True)[1]
    assert chi2_p(counts, np.full(5, 0.2)) > P_MIN


def test_choice_with_many_options() -> None:
    """choice over many options (bisection path) is uniform too."""
    items = ", ".join(str(i) for i in range(40))
    v = run(f"choice([{items}])")
    counts = np.bincount(v, minlength=40)
    assert chi2_p(counts, np.full(40, 1 / 40)) > P_MIN


def test_choice_of_expressions() -> None:
    """choice may pick among column expressions (each evaluated for all rows)."""
    a = np.arange(1000, dtype=np.int64)
    v = run("choice([a, -a, null], [1, 1, 1])", 1000, columns={"a": a})
    picked_a = np.array([x == i for i, x in enumerate(v)])
    picked_neg = np.array([x == -i for i, x in enumerate(v)])
    picked_null = np.array([x is None for x in v])
    assert (picked_a | picked_neg | picked_null).all()
    assert picked_null.sum() > 200 and picked_a.sum() > 200


def test_column_parameters() -> None:
    """Parameters may be columns: each row uses its own."""
    mu = np.where(np.arange(N) % 2 == 0, 0.0, 50.0)
    v = run("normal(mu, 1)", columns={"mu": mu})
    assert_mean(v[::2], 0, 1)
    assert_mean(v[1::2], 50, 1)
    lam = np.where(np.arange(N) % 2 == 0, 1.0, 9.0)
    v = run("poisson(mu)", columns={"mu": lam})
    assert_mean(v[::2].astype(float), 1, 1)
    assert_mean(v[1::2].astype(float), 9, 3)


def test_degenerate_parameters_are_clamped_not_raised() -> None:
    """Invalid parameters give documented values instead of crashing a running task."""
    assert (run("normal(5, -1)", 100) == 5).all()
    assert (run("exponential(-1)", 100) == 0).all()
    assert (run("poisson(-3)", 100) == 0).all()
    assert run("bernoulli(2)", 100).all()
    assert not run("bernoulli(-1)", 100).any()
    v = run("randint(6, 1)", 1000)
    assert v.min() == 1 and v.max() == 6
    assert (run("uniform(5, 5)", 100) == 5).all()
    assert (run("randint(3, 3)", 100) == 3).all()
