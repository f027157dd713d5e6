"""Type checking: result types, promotions, nulls and the exact wording of type errors."""

from __future__ import annotations

import pytest

from connector.model.expr import (
    ENGINE_NAMES,
    ExprError,
    ExprType,
    FunctionSpec,
    SiteCounter,
    TypeEnv,
    check,
    parse,
)

L, D, B = ExprType.LONG, ExprType.DOUBLE, ExprType.BOOLEAN
S, T = ExprType.STRING, ExprType.TIMESTAMP

ENV = TypeEnv(
    {
        "balance": L,
        "amount": D,
        "state": S,
        "time": T,
        "loan": L,
        "ok": B,
        "plan": S,
    },
    nullable=["loan"],
)


@pytest.mark.parametrize(
    ("text", "typ"),
    [
        ("balance + 1", L),
        ("balance + 1.0", D),
        ("balance * amount", D),
        ("balance / 2", D),
        ("balance // 2", L),
        ("amount // 2", D),
        ("balance % 3", L),
        ("2 ** 3", D),
        ("-balance", L),
        ("+amount", D),
        ("state + '!'", S),
        ("time + 1000", T),
        ("1000 + time", T),
        ("time - 1000", T),
        ("time - time", L),
        ("balance > amount", B),
        ("state == 'online' and not ok", B),
        ("if(ok, 1, 2.5)", D),
        ("if(ok, 'a', 'b')", S),
        ("min(1, 2)", L),
        ("max(1, 2.0)", D),
        ("min(time, time + 1)", T),
        ("clip(amount, 0, 1)", D),
        ("abs(balance)", L),
        ("round(amount)", L),
        ("round(amount, 2)", D),
        ("floor(amount)", L),
        ("ceil(balance)", L),
        ("long(amount)", L),
        ("long(time)", L),
        ("long(ok)", L),
        ("double(balance)", D),
        ("string(amount)", S),
        ("timestamp(balance)", T),
        ("len(state)", L),
        ("upper(state)", S),
        ("hour(time)", L),
        ("day_of_year(time)", L),
        ("hours(2)", L),
        ("uniform(0, 1)", D),
        ("randint(1, 6)", L),
        ("normal(0, 1)", D),
        ("lognormal(0, 1)", D),
        ("exponential(3)", D),
        ("poisson(2.5)", L),
        ("bernoulli(0.1)", B),
        ("choice(['a', 'b'])", S),
        ("choice([1, 2.5], [1, 1])", D),
        ("coalesce(loan, 0)", L),
        ("loan == null", B),
        ("null != loan", B),
    ],
)
def test_result_types(text: str, typ: ExprType) -> None:
    """Every operator and function has the documented result type."""
    checked = check(parse(text), ENV)
    assert checked.type == typ
    assert not checked.nullable


@pytest.mark.parametrize(
    ("text", "typ"),
    [
        ("null", ExprType.NULL),
        ("loan", L),
        ("if(ok, balance, null)", L),
        ("choice(['a', null])", S),
        ("coalesce(loan, loan)", L),
    ],
)
def test_nullable_results(text: str, typ: ExprType) -> None:
    """null unifies with any type and marks the result nullable."""
    checked = check(parse(text), ENV)
    assert (checked.type, checked.nullable) == (typ, True)


BAD = [
    (
        "balanse + 1",
        "unknown name 'balanse' (did you mean 'balance'?); known names: amount, balance, loan, "
        "ok, plan, state, time",
        1,
    ),
    ("balance and ok", "'balance' is LONG but 'and' needs BOOLEAN operands", 1),
    ("ok || balance", "'balance' is LONG but '||' needs BOOLEAN operands", 7),
    ("not balance", "'balance' is LONG but 'not' needs a BOOLEAN operand", 5),
    (
        "state + 1",
        "'+' cannot join STRING 'state' and LONG '1'; use string(x) to turn a value into a STRING",
        7,
    ),
    ("state - 1", "'state' is STRING but '-' needs numbers (or TIMESTAMPs)", 1),
    ("balance * 'x'", "\"'x'\" is STRING but '*' needs numbers", 11),
    ("ok + 1", "'ok' is BOOLEAN but '+' needs numbers", 1),
    ("-state", "'state' is STRING but '-' needs a number", 2),
    (
        "state == 1",
        "cannot compare STRING 'state' with LONG '1' using '=='; use string(x) to compare as text",
        7,
    ),
    (
        "time < 5",
        "cannot compare TIMESTAMP 'time' with LONG '5' using '<'; use timestamp(x) or long(t) "
        "to convert",
        6,
    ),
    ("true < false", "'<' cannot order BOOLEANs; only '==' and '!=' compare them", 6),
    ("if(balance, 1, 2)", "if() needs a BOOLEAN condition first, but 'balance' is LONG", 4),
    (
        "if(ok, 1, 'a')",
        "the branches of if() must have the same type, but '1' is LONG and \"'a'\" is STRING",
        11,
    ),
    ("round(1, 2, 3)", "round() takes 1 or 2 arguments (round(x) or round(x, digits)), got 3", 1),
    ("uniform(1)", "uniform() takes 2 arguments (uniform(low, high)), got 1", 1),
    ("min(1)", "min() takes at least 2 arguments (min(a, b, ...)), got 1", 1),
    ("abs(state)", "abs() needs a number, but 'state' is STRING", 5),
    ("len(balance)", "len() needs a STRING, but 'balance' is LONG (use string(x) to convert)", 5),
    (
        "hour(balance)",
        "hour() needs a TIMESTAMP, but 'balance' is LONG (use timestamp(x) for epoch milliseconds)",
        6,
    ),
    ("min(state, 1)", "min() needs numbers (or only TIMESTAMPs), but 'state' is STRING", 5),
    ("randint(1.5, 3)", "randint() needs LONGs, but '1.5' is DOUBLE", 9),
    ("long(state)", "long() needs a number, BOOLEAN or TIMESTAMP, but 'state' is STRING", 6),
    (
        "timestamp(1.5)",
        "timestamp() needs a LONG of epoch milliseconds, but '1.5' is DOUBLE (use round() to "
        "make a LONG)",
        11,
    ),
    ("choice(['a', 'b'], [1, -1])", "choice weights must be non-negative numbers (got -1)", 24),
    ("choice(['a', 'b'], [1, amount])", "choice weights must be number literals (got amount)", 24),
    ("choice(['a', 'b', 'c'], [1, 2])", "choice has 3 values but 2 weights", 25),
    ("choice([1, 2], [0, 0.0])", "choice weights must not all be zero", 16),
    (
        "choice(state)",
        "choice() needs a list of values, like choice(['a', 'b']) or choice([1, 2], [0.9, 0.1]); "
        "got 'state'",
        8,
    ),
    (
        "choice(['a', 1])",
        "choice values must share one type, but \"'a'\" is STRING and '1' is LONG",
        14,
    ),
    ("choice([])", "choice() needs at least one value in its list", 8),
    ("[1, 2]", "a list [...] is only allowed as an argument of choice()", 1),
    ("min([1, 2], 3)", "a list [...] is only allowed as an argument of choice()", 5),
    (
        "loan + 1",
        "'loan' may be null, so it cannot be used with '+'; use coalesce(loan, <default>)",
        1,
    ),
    (
        "abs(loan)",
        "'loan' may be null, so it cannot be used with abs(); use coalesce(loan, <default>)",
        5,
    ),
    ("null + 1", "null cannot be used with '+'", 1),
    ("null < 1", "null can only be compared with '==' or '!=', not '<'", 6),
    ("9223372036854775808", "integer 9223372036854775808 does not fit in a LONG (64 bits)", 1),
    ("time + time", "cannot add two TIMESTAMPs; subtract them to get the milliseconds between", 6),
    (
        "time + 1.5",
        "a TIMESTAMP can only be moved by a LONG number of milliseconds, but '1.5' is DOUBLE",
        6,
    ),
    ("1 - time", "cannot subtract a TIMESTAMP from a LONG; write the TIMESTAMP first", 3),
    (
        "coalesce(loan, 'x')",
        "the arguments of coalesce() must share one type, but 'loan' is LONG and \"'x'\" is STRING",
        16,
    ),
]


@pytest.mark.parametrize(("text", "message", "column"), BAD, ids=[b[0] for b in BAD])
def test_type_errors_are_precise(text: str, message: str, column: int) -> None:
    """Type errors name the offending text, its type and what was expected, at its column."""
    with pytest.raises(ExprError) as info:
        check(parse(text), ENV)
    assert info.value.message == message
    assert info.value.column == column
    assert "Traceback" not in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_function_lists_known_ones() -> None:
    """An unknown function suggests the closest name and lists the known ones (plugins too)."""
    env = ENV.with_names({})
    plugin = FunctionSpec("score", [L], D, lambda x: x * 1.0)
    env = TypeEnv(env.names, [plugin], env.nullable)
    with pytest.raises(ExprError) as info:
        check(parse("roundd(amount)"), env)
    message = info.value.message
    assert message.startswith("unknown function 'roundd' (did you mean 'round'?); known functions:")
    assert "score" in message and "uniform" in message


@pytest.mark.parametrize(
    ("text", "expect", "nullable", "message"),
    [
        ("balance + 1", B, True, "expected a BOOLEAN but 'balance + 1' is LONG"),
        (
            "amount",
            L,
            True,
            "expected a LONG but 'amount' is DOUBLE; use round(), floor() or long() to make a LONG",
        ),
        (
            "balance",
            S,
            True,
            "expected a STRING but 'balance' is LONG; use string(x) to make a STRING",
        ),
        (
            "loan",
            L,
            False,
            "'loan' may be null, but a value is required here; use coalesce(loan, <default>)",
        ),
        ("null", L, False, "null is not allowed here; a LONG is required"),
        ("balance", T, True, "expected a TIMESTAMP but 'balance' is LONG; use timestamp(x) for "
         "epoch milliseconds"),
        ("if(ok, 1, null)", L, False, "'if(ok, 1, null)' may be null, but a value is required "
         "here; use coalesce(if(ok, 1, null), <default>)"),
    ],
)
def test_expected_type_errors(text: str, expect: ExprType, nullable: bool, message: str) -> None:
    """check(expect=...) rejects a result of another type with a conversion hint."""
    with pytest.raises(ExprError) as info:
        check(parse(text), ENV, expect=expect, nullable=nullable)
    assert info.value.message == message


def test_expect_widens_long_to_double() -> None:
    """A LONG expression is accepted where a DOUBLE is expected (an attribute update)."""
    checked = check(parse("balance + 1"), ENV, expect=D)
    assert checked.type == D
    assert check(parse("null"), ENV, expect=S).type == S
    assert check(parse("loan"), ENV, expect=D).type == D


def test_sites_are_numbered_in_source_order() -> None:
    """Random calls get site ids in the order their names appear, continuing across calls."""
    counter = SiteCounter(10)
    first = check(parse("uniform(0, normal(1, 2)) + randint(1, 2)"), ENV, counter)
    assert first.sites == (10, 11, 12)
    second = check(parse("choice(['a', 'b'])"), ENV, counter)
    assert second.sites == (13,)
    assert counter.next_site == 14
    assert check(parse("balance + 1"), ENV, counter).sites == ()
    assert check(parse("bernoulli(0.5)"), ENV).sites == (0,)


def test_type_env_rejects_bad_definitions() -> None:
    """Operator mistakes in the environment fail fast with a clear ValueError."""
    with pytest.raises(ValueError, match="not a valid identifier"):
        FunctionSpec("bad-name", [L], L, abs)
    with pytest.raises(ValueError, match="hide the builtin"):
        TypeEnv({}, [FunctionSpec("round", [D], L, abs)])
    with pytest.raises(ValueError, match="registered twice"):
        TypeEnv({}, [FunctionSpec("f", [D], L, abs), FunctionSpec("f", [D], L, abs)])
    with pytest.raises(ValueError, match="cannot be used as a name"):
        TypeEnv({"and": L})
    with pytest.raises(ValueError, match="nullable names not in names"):
        TypeEnv({"a": L}, nullable=["b"])


def test_engine_names_are_available() -> None:
    """The engine's builtin names type-check with their documented types."""
    env = TypeEnv(ENGINE_NAMES)
    assert check(parse("time + tick * 1000"), env).type == T
    assert check(parse("user_id % 2 == 0 and state != transition"), env).type == B
    assert check(parse("session_id + ':' + string(user_id)"), env).type == S


def test_keyword_in_wrong_case_gets_a_hint() -> None:
    """`True`/`NULL` (Python or SQL habits) suggest the lowercase keyword."""
    with pytest.raises(ExprError) as info:
        check(parse("ok == True"), ENV)
    assert info.value.message.startswith("unknown name 'True' (did you mean 'true'?)")
    with pytest.raises(ExprError) as info:
        check(parse("loan == NULL"), ENV)
    assert info.value.message.startswith("unknown name 'NULL' (did you mean 'null'?)")
