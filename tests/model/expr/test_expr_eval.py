"""Vectorised evaluation: every operator and function, dtypes, nulls and edge cases."""

from __future__ import annotations

import warnings
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

L, D, B = ExprType.LONG, ExprType.DOUBLE, ExprType.BOOLEAN
S, T = ExprType.STRING, ExprType.TIMESTAMP

ENV = TypeEnv(
    {"a": L, "b": L, "x": D, "y": D, "s": S, "t": S, "ok": B, "no": B, "ts": T, "loan": L},
    nullable=["loan"],
)
COLUMNS: dict[str, Any] = {
    "a": np.array([7, -7, 0, 5, 9], dtype=np.int64),
    "b": np.array([2, 2, 3, -3, 0], dtype=np.int64),
    "x": np.array([0.5, -1.5, 2.0, 1e300, 0.0]),
    "y": np.array([2.0, 0.0, -0.5, 1e300, 0.0]),
    "s": np.array(["online", "offline", "", "Été", "loan"], dtype=object),
    "t": np.array(["online", "b", "", "été", "z"], dtype=object),
    "ok": np.array([True, False, True, False, True]),
    "no": np.array([False, False, True, True, False]),
    "ts": np.array([0, 1_700_000_000_123, -1, 86_400_000, 1], dtype=np.int64),
    "loan": np.array([None, 3, None, 4, 5], dtype=object),
}
N = 5


def streams(seed: int = 1) -> Any:
    def rng(site: int) -> np.random.Generator:
        return np.random.default_rng([seed, site])

    return rng


def run(text: str, columns: Mapping[str, Any] = COLUMNS, size: int = N) -> np.ndarray:
    checked = check(parse(text), ENV, SiteCounter())
    ctx = EvalContext(size, columns, rng=streams())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy must not warn (division by zero, overflow)
        out = compile_expr(checked).evaluate(ctx)
    assert out.shape == (size,)
    return out


def same(got: np.ndarray, want: list[Any]) -> None:
    assert got.tolist() == want, (got.tolist(), want)


def test_long_arithmetic() -> None:
    """LONG + - * // % follow Python integer semantics (floor division, sign of divisor)."""
    a, b = COLUMNS["a"].tolist(), COLUMNS["b"].tolist()
    same(run("a + b"), [p + q for p, q in zip(a, b, strict=True)])
    same(run("a - b"), [p - q for p, q in zip(a, b, strict=True)])
    same(run("a * b"), [p * q for p, q in zip(a, b, strict=True)])
    same(run("a // b"), [p // q if q else 0 for p, q in zip(a, b, strict=True)])
    same(run("a % b"), [p % q if q else 0 for p, q in zip(a, b, strict=True)])
    assert run("a + b").dtype == np.int64


def test_division_by_zero_is_defined_and_silent() -> None:
    """Division by zero gives documented values, never a warning or exception."""
    same(run("a // 0"), [0, 0, 0, 0, 0])
    same(run("a % 0"), [0, 0, 0, 0, 0])
    got = run("a / 0")
    assert got[0] == np.inf and got[1] == -np.inf and np.isnan(got[2])
    got = run("x // 0.0")
    assert got[0] == np.inf and got[1] == -np.inf and np.isnan(got[4])
    assert np.isnan(run("x % 0.0")).all()


def test_long_overflow_wraps_silently() -> None:
    """LONG arithmetic is 64-bit two's complement: overflow wraps without a warning."""
    same(run("9223372036854775807 + 1"), [-(2**63)] * N)
    same(run("-9223372036854775808 // -1"), [-(2**63)] * N)


def test_true_division_and_power_are_double() -> None:
    """'/' and '**' always give DOUBLE, also for LONG operands."""
    got = run("a / 2")
    assert got.dtype == np.float64
    same(got, [3.5, -3.5, 0.0, 2.5, 4.5])
    same(run("2 ** b"), [4.0, 4.0, 8.0, 0.125, 1.0])
    same(run("-2 ** 2"), [-4.0] * N)
    assert np.isinf(run("10.0 ** 400")).all()


def test_mixed_promotion() -> None:
    """LONG combined with DOUBLE promotes to DOUBLE."""
    got = run("a + x")
    assert got.dtype == np.float64
    assert got[:3].tolist() == [7.5, -8.5, 2.0]
    same(run("a * 0.5"), [3.5, -3.5, 0.0, 2.5, 4.5])


def test_unary_minus_and_plus() -> None:
    """Unary minus negates numbers; unary plus is identity."""
    same(run("-a"), [-7, 7, 0, -5, -9])
    same(run("+a"), [7, -7, 0, 5, 9])
    same(run("-(x)")[:3], [-0.5, 1.5, -2.0])


def test_comparisons() -> None:
    """Comparisons work element-wise on numbers, strings, booleans and timestamps."""
    same(run("a > b"), [True, False, False, True, True])
    same(run("a >= 7"), [True, False, False, False, True])
    same(run("a == 7.0"), [True, False, False, False, False])
    same(run("x <= y"), [True, True, False, True, True])
    same(run("a != b"), [True, True, True, True, True])
    same(run("s == t"), [True, False, True, False, False])
    same(run("s == 'online'"), [True, False, False, False, False])
    same(run("'online' != s"), [False, True, True, True, True])
    same(run("s < t"), [False, False, False, True, True])
    same(run("ok == no"), [False, True, True, False, False])
    same(run("ts > timestamp(0)"), [False, True, False, True, True])
    same(run("'a' < 'b'"), [True] * N)


def test_logic_and_aliases() -> None:
    """and/or/not and their && || ! aliases are element-wise boolean logic."""
    same(run("ok and no"), [False, False, True, False, False])
    same(run("ok && no"), [False, False, True, False, False])
    same(run("ok or no"), [True, False, True, True, True])
    same(run("ok || no"), [True, False, True, True, True])
    same(run("not ok"), [False, True, False, True, False])
    same(run("!ok"), [False, True, False, True, False])
    same(run("a > 0 and s == 'online' or no"), [True, False, True, True, False])


def test_string_concatenation() -> None:
    """'+' joins strings element-wise, with columns or literals on either side."""
    got = run("s + '/' + t")
    assert got.dtype == object
    same(got, ["online/online", "offline/b", "/", "Été/été", "loan/z"])
    same(run("'>' + s"), [">online", ">offline", ">", ">Été", ">loan"])
    same(run("'a' + 'b'"), ["ab"] * N)


def test_timestamp_arithmetic() -> None:
    """TIMESTAMP +/- LONG moves it; TIMESTAMP - TIMESTAMP is a LONG of milliseconds."""
    ts = COLUMNS["ts"].tolist()
    got = run("ts + 1000")
    assert got.dtype == np.int64
    same(got, [v + 1000 for v in ts])
    same(run("ts - hours(1)"), [v - 3_600_000 for v in ts])
    same(run("(ts + 5) - ts"), [5] * N)
    same(run("seconds(1) + minutes(1) + days(1)"), [1000 + 60_000 + 86_400_000] * N)
    same(run("hours(1.5)"), [5_400_000] * N)


def test_if_is_elementwise() -> None:
    """if(c, a, b) picks per row, with the branch types unified."""
    same(run("if(ok, a, b)"), [7, 2, 0, -3, 9])
    got = run("if(ok, a, 0.5)")
    assert got.dtype == np.float64
    same(got, [7.0, 0.5, 0.0, 0.5, 9.0])
    same(run("if(ok, s, 'no')"), ["online", "no", "", "no", "loan"])
    same(run("if(true, 'y', 'n')"), ["y"] * N)
    assert run("if(true, 'y', 'n')").dtype == object


def test_min_max_abs_clip() -> None:
    """min/max take any number of arguments; abs and clip keep the type."""
    same(run("min(a, b)"), [2, -7, 0, -3, 0])
    same(run("max(a, b, 4)"), [7, 4, 4, 5, 9])
    same(run("min(a, 1.5)"), [1.5, -7.0, 0.0, 1.5, 1.5])
    same(run("abs(a)"), [7, 7, 0, 5, 9])
    same(run("abs(x)")[:3], [0.5, 1.5, 2.0])
    same(run("clip(a, 0, 6)"), [6, 0, 0, 5, 6])
    same(run("clip(x, -1, 1)"), [0.5, -1.0, 1.0, 1.0, 0.0])
    same(run("max(ts, timestamp(0))"), [0, 1_700_000_000_123, 0, 86_400_000, 1])


def test_round_half_away_from_zero() -> None:
    """round(x) rounds halves away from zero and returns a LONG."""
    values = [0.5, 1.5, 2.5, -0.5, -2.5, 0.49999999999999994, 2.675, -1.4]
    cols = {"x": np.array(values)}
    got = run("round(x)", cols, len(values))
    assert got.dtype == np.int64
    same(got, [1, 2, 3, -1, -3, 0, 3, -1])
    same(run("round(7)"), [7] * N)


def test_round_to_digits() -> None:
    """round(x, n) returns a DOUBLE rounded half away from zero at n decimals."""
    cols = {"x": np.array([1.25, -1.25, 1234.5, 0.125, 1e300]), "a": np.array([1, 1, -2, 2, 3])}
    same(run("round(x, a)", cols), [1.3, -1.3, 1200.0, 0.13, 1e300])
    same(run("round(2, 1)"), [2.0] * N)


def test_floor_ceil_long_double() -> None:
    """floor/ceil give LONGs; long() truncates toward zero and saturates; double() widens."""
    cols = {"x": np.array([1.7, -1.7, np.nan, np.inf, -np.inf]), "ok": COLUMNS["ok"]}
    same(run("floor(x)", cols)[:2], [1, -2])
    same(run("ceil(x)", cols)[:2], [2, -1])
    same(run("long(x)", cols), [1, -1, 0, 2**63 - 1024, -(2**63)])
    same(run("long(ok)", cols), [1, 0, 1, 0, 1])
    same(run("long(ts)"), COLUMNS["ts"].tolist())
    got = run("double(a)")
    assert got.dtype == np.float64
    same(got, [7.0, -7.0, 0.0, 5.0, 9.0])
    same(run("double(ok)"), [1.0, 0.0, 1.0, 0.0, 1.0])


def test_string_conversion() -> None:
    """string() renders numbers like Python, booleans as true/false, timestamps as ISO UTC."""
    same(run("string(a)"), ["7", "-7", "0", "5", "9"])
    same(run("string(x)"), ["0.5", "-1.5", "2.0", "1e+300", "0.0"])
    same(run("string(ok)"), ["true", "false", "true", "false", "true"])
    same(
        run("string(ts)"),
        [
            "1970-01-01T00:00:00.000Z",
            "2023-11-14T22:13:20.123Z",
            "1969-12-31T23:59:59.999Z",
            "1970-01-02T00:00:00.000Z",
            "1970-01-01T00:00:00.001Z",
        ],
    )
    same(run("string(42)"), ["42"] * N)
    same(run("string(s)"), COLUMNS["s"].tolist())
    assert all(type(v) is str for v in run("string(a)"))


def test_text_functions() -> None:
    """len/lower/upper work on Unicode text."""
    same(run("len(s)"), [6, 7, 0, 3, 4])
    same(run("upper(s)"), ["ONLINE", "OFFLINE", "", "ÉTÉ", "LOAN"])
    same(run("lower(s)"), ["online", "offline", "", "été", "loan"])
    same(run("len('abc')"), [3] * N)
    same(run("upper('abc')"), ["ABC"] * N)


def test_constant_expression_fills_every_row() -> None:
    """A constant still gives one value per row, with the type's dtype."""
    for text, dtype, value in [
        ("1 + 2", np.int64, 3),
        ("1.5", np.float64, 1.5),
        ("true", np.bool_, True),
        ("'x'", object, "x"),
        ("timestamp(5)", np.int64, 5),
    ]:
        got = run(text)
        assert got.dtype == dtype
        same(got, [value] * N)
    assert run("1 + 2", {}, 0).shape == (0,)


def test_scalar_columns_broadcast() -> None:
    """A name given as one scalar (e.g. tick, state; 0-d arrays too) applies to every row."""
    cols = {**COLUMNS, "b": np.array(10), "s": "online", "x": 0.5, "ok": True}
    same(run("a + b", cols), [17, 3, 10, 15, 19])
    same(run("s == 'online'", cols), [True] * N)
    same(run("s + t", cols)[:2], ["onlineonline", "onlineb"])
    same(run("x * 2", cols), [1.0] * N)
    same(run("ok and no", cols), [False, False, True, True, False])


def test_other_input_dtypes_are_normalised() -> None:
    """int32 or '<U' input columns give the same results as int64/object ones."""
    cols = {**COLUMNS, "a": COLUMNS["a"].astype(np.int32), "s": COLUMNS["s"].astype(str)}
    got = run("a * 1", cols)
    assert got.dtype == np.int64
    same(got, COLUMNS["a"].tolist())
    got = run("s", cols)
    assert got.dtype == object
    same(got, COLUMNS["s"].tolist())
    same(run("s == 'online'", cols), [True, False, False, False, False])


def test_result_never_aliases_an_input_column() -> None:
    """Writing into a result cannot corrupt the engine's own columns."""
    got = run("a")
    got[0] = 99
    assert COLUMNS["a"][0] == 7
    got = run("long(ts)")
    got[0] = 99
    assert COLUMNS["ts"][0] == 0


def test_nulls() -> None:
    """null yields object arrays of None; coalesce and == null handle nullable names."""
    got = run("null")
    assert got.dtype == object and got.tolist() == [None] * N
    got = run("if(ok, a, null)")
    same(got, [7, None, 0, None, 9])
    assert all(type(v) is int for v in got if v is not None)
    got = run("if(ok, 2.0, null)")
    assert all(type(v) is float for v in got if v is not None)
    same(run("loan == null"), [True, False, True, False, False])
    same(run("loan != null"), [False, True, False, True, True])
    same(run("null == null"), [True] * N)
    same(run("a == null"), [False] * N)
    got = run("coalesce(loan, 0) + 1")
    assert got.dtype == np.int64
    same(got, [1, 4, 1, 5, 6])
    same(run("coalesce(loan, b)"), [2, 3, 3, 4, 5])
    same(run("loan"), [None, 3, None, 4, 5])


def test_nullable_long_widened_to_double() -> None:
    """A nullable LONG checked where a DOUBLE is expected yields floats and Nones."""
    checked = check(parse("loan"), ENV, expect=D)
    got = compile_expr(checked).evaluate(EvalContext(N, COLUMNS))
    assert got.tolist() == [None, 3.0, None, 4.0, 5.0]
    assert all(type(v) is float for v in got if v is not None)


def test_missing_or_misshapen_column_is_a_clear_error() -> None:
    """Engine bugs (missing or wrong-length columns) fail loudly, naming the column."""
    compiled = compile_expr(check(parse("a + b"), ENV))
    with pytest.raises(KeyError, match="no column for 'b'"):
        compiled.evaluate(EvalContext(N, {"a": COLUMNS["a"]}))
    with pytest.raises(ValueError, match="column 'b' has shape"):
        compiled.evaluate(EvalContext(N, {"a": COLUMNS["a"], "b": np.zeros(3, np.int64)}))


def test_random_without_streams_fails_loudly() -> None:
    """A random draw never silently uses an unseeded generator."""
    compiled = compile_expr(check(parse("uniform(0, 1)"), ENV))
    with pytest.raises(RuntimeError, match="no random streams"):
        compiled.evaluate(EvalContext(N, {}))
