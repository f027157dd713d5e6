"""Operator-installed plugin functions: typed calls on whole columns, validated results."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from connector.model.expr import (
    EvalContext,
    ExprError,
    ExprType,
    FunctionSpec,
    PluginError,
    SiteCounter,
    TypeEnv,
    check,
    compile_expr,
    parse,
)

L, D, B, S = ExprType.LONG, ExprType.DOUBLE, ExprType.BOOLEAN, ExprType.STRING
CALLS: list[tuple[np.ndarray, ...]] = []


def credit_score(balance: np.ndarray, factor: np.ndarray) -> np.ndarray:
    CALLS.append((balance, factor))
    out: np.ndarray = balance * factor + 1.0
    return out


def tier(balance: np.ndarray) -> np.ndarray:
    return np.where(balance > 100, "gold", "basic").astype(object)


def jitter(gen: np.random.Generator, x: np.ndarray) -> np.ndarray:
    return x + gen.random(len(x))


def short(x: np.ndarray) -> np.ndarray:
    return x[:-1]


def wrong_dtype(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float64)


def broken(x: np.ndarray) -> np.ndarray:
    raise ZeroDivisionError("no credit")


def mutate(x: np.ndarray) -> np.ndarray:
    x[0] = 0
    return x


def identity(x: np.ndarray) -> np.ndarray:
    return x


def not_array(x: np.ndarray) -> Any:
    return list(x)


PLUGINS = [
    FunctionSpec("credit_score", [L, D], D, credit_score),
    FunctionSpec("tier", [L], S, tier),
    FunctionSpec("jitter", [D], D, jitter, uses_rng=True),
    FunctionSpec("short", [L], L, short),
    FunctionSpec("wrong_dtype", [L], L, wrong_dtype),
    FunctionSpec("broken", [L], L, broken),
    FunctionSpec("mutate", [L], L, mutate),
    FunctionSpec("identity", [L], L, identity),
    FunctionSpec("not_array", [L], L, not_array),
]
ENV = TypeEnv({"balance": L, "rate": D, "state": S}, PLUGINS)
BALANCE = np.array([50, 150, 300], dtype=np.int64)


def run(text: str, **kwargs: Any) -> np.ndarray:
    checked = check(parse(text), ENV, SiteCounter())
    rng = kwargs.pop("rng", lambda site: np.random.default_rng([1, site]))
    ctx = EvalContext(3, {"balance": BALANCE, "rate": 0.5, "state": "online"}, rng=rng, **kwargs)
    return compile_expr(checked).evaluate(ctx)


def test_plugin_gets_whole_columns_once() -> None:
    """A plugin is called once per evaluation with full columns (scalars broadcast)."""
    CALLS.clear()
    out = run("credit_score(balance, rate) * 2")
    assert out.tolist() == [52.0, 152.0, 302.0]
    assert len(CALLS) == 1
    balance, factor = CALLS[0]
    assert balance.shape == (3,) and factor.shape == (3,)
    assert factor.dtype == np.float64 and factor.tolist() == [0.5, 0.5, 0.5]


def test_long_argument_widens_to_double_parameter() -> None:
    """A LONG may be passed where the plugin declares DOUBLE."""
    CALLS.clear()
    assert run("credit_score(balance, 2)").tolist() == [101.0, 301.0, 601.0]
    assert CALLS[0][1].dtype == np.float64


def test_plugin_result_type_is_checked_statically() -> None:
    """The declared return type takes part in type checking."""
    assert check(parse("tier(balance) == 'gold'"), ENV).type == B
    assert run("tier(balance) + '!'").tolist() == ["basic!", "gold!", "gold!"]
    with pytest.raises(ExprError) as info:
        check(parse("tier(balance) + 1"), ENV)
    assert info.value.message.startswith("'+' cannot join STRING 'tier(balance)' and LONG '1'")


def test_plugin_argument_errors() -> None:
    """Wrong argument count or type is a precise ExprError at check time."""
    with pytest.raises(ExprError) as info:
        check(parse("credit_score(balance)"), ENV)
    assert info.value.message == (
        "credit_score() takes 2 arguments (credit_score(LONG, DOUBLE)), got 1"
    )
    with pytest.raises(ExprError) as info:
        check(parse("credit_score(balance, state)"), ENV)
    assert info.value.message == (
        "credit_score() argument 2 must be DOUBLE, but 'state' is STRING"
    )
    assert info.value.column == 23


def test_plugin_with_rng_gets_its_own_site() -> None:
    """A plugin declared uses_rng draws from its own site stream, deterministically."""
    checked = check(parse("jitter(rate) + uniform(0, 1)"), ENV, SiteCounter(3))
    assert checked.sites == (3, 4)
    first, second = run("jitter(rate)"), run("jitter(rate)")
    assert np.array_equal(first, second)
    assert ((first >= 0.5) & (first < 1.5)).all()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("short(balance)", "plugin function 'short' returned shape (2,), expected (3,)"),
        (
            "wrong_dtype(balance)",
            "plugin function 'wrong_dtype' returned dtype float64, expected int64 for LONG",
        ),
        ("broken(balance)", "plugin function 'broken' failed: ZeroDivisionError: no credit"),
        ("mutate(balance)", "plugin function 'mutate' failed: ValueError: assignment destination"),
        ("not_array(balance)", "plugin function 'not_array' returned list, expected a numpy array"),
    ],
)
def test_misbehaving_plugins_raise_clear_errors(text: str, message: str) -> None:
    """Plugin bugs surface as PluginError naming the function, and never corrupt inputs."""
    with pytest.raises(PluginError) as info:
        run(text)
    assert str(info.value).startswith(message), str(info.value)
    assert BALANCE.tolist() == [50, 150, 300]


def test_plugin_returning_its_input_is_copied() -> None:
    """A plugin returning its (read-only) input still yields a writable, independent result."""
    out = run("identity(balance)")
    out[0] = 7
    assert BALANCE[0] == 50


def test_context_can_supply_plugin_implementations() -> None:
    """EvalContext.functions overrides the implementation bound at check time (same signature)."""
    other = FunctionSpec("tier", [L], S, lambda b: np.full(len(b), "x", dtype=object))
    assert run("tier(balance)", functions={"tier": other}).tolist() == ["x", "x", "x"]
    changed = FunctionSpec("tier", [D], S, tier)
    with pytest.raises(PluginError, match="different signature"):
        run("tier(balance)", functions={"tier": changed})
