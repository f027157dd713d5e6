"""Checked expressions and errors survive pickling, for tasks that run in their own processes."""

from __future__ import annotations

import pickle
from zoneinfo import ZoneInfo

import numpy as np

from connector.model.expr import (
    EvalContext,
    ExprError,
    ExprType,
    FunctionSpec,
    SiteCounter,
    TypeEnv,
    check,
    compile_expr,
    parse,
)


def double_it(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = x * 2
    return out


ENV = TypeEnv(
    {"a": ExprType.LONG, "s": ExprType.STRING, "t": ExprType.TIMESTAMP, "n": ExprType.LONG},
    [FunctionSpec("double_it", [ExprType.LONG], ExprType.LONG, double_it)],
    nullable=["n"],
)
EXPRESSIONS = [
    "a + randint(1, 6) * 2 // 3 % 5",
    "max(a, 3) + min(a, 1.5) + clip(a, 0, 2) + abs(-a) + round(a / 3) + round(1.25, 1)",
    "floor(a / 2) + ceil(a / 2) + long(a > 1) + double(a) + a ** 2",
    "string(a) + string(1.5) + string(true) + string(t) + upper(s) + lower(s) + string(len(s))",
    "if(s == 'x' and a < 3 or not (a != 2), 'y', choice(['p', 'q'], [1, 3]))",
    "hour(t) + minute(t) + second(t) + weekday(t) + day(t) + month(t) + year(t) + day_of_year(t)",
    "timestamp(a) + hours(2) + minutes(1.5) + seconds(1) + days(1) - t",
    "uniform(0, 1) + normal(0, 1) + lognormal(0, 1) + exponential(1) + poisson(2)",
    "bernoulli(0.5) == (coalesce(n, 0) > 1)",
    "if(n == null, null, double_it(a))",
    "fake('email') + fake('name', 'de_DE') + uuid() + regex('[A-Z]{2}-\\\\d{3}(x|y)?')",
    "hash(a) + format('{:04d}/{}', a, s) + format_time(t, '%F %T %Z')",
]


def test_checked_expressions_pickle_and_evaluate_identically() -> None:
    """A Checked tree sent to another process evaluates to the same values."""
    columns = {
        "a": np.arange(6, dtype=np.int64),
        "s": np.array(["x", "y", "x", "Z", "", "é"], dtype=object),
        "t": np.arange(6, dtype=np.int64) * 3_600_000_123,
        "n": np.array([None, 1, 2, None, 4, 5], dtype=object),
    }
    ctx = EvalContext(
        6, columns, rng=lambda site: np.random.default_rng([9, site]), tz=ZoneInfo("Europe/Prague")
    )
    counter = SiteCounter()
    for text in EXPRESSIONS:
        checked = check(parse(text), ENV, counter)
        clone = pickle.loads(pickle.dumps(checked))
        assert clone.node == checked.node
        want = compile_expr(checked).evaluate(ctx)
        got = compile_expr(clone).evaluate(ctx)
        assert got.dtype == want.dtype
        assert got.tolist() == want.tolist(), text


def test_expr_error_pickles() -> None:
    """ExprError keeps message and column across a process boundary."""
    err = pickle.loads(pickle.dumps(ExprError("bad thing", 7)))
    assert (err.message, err.column, str(err)) == ("bad thing", 7, "bad thing at column 7")
