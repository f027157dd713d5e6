"""Lexer and parser against hostile text: ExprError with a column, never another exception."""

from __future__ import annotations

import pytest

from connector.model.expr import EvalContext, ExprError, TypeEnv, check, compile_expr, parse


@pytest.mark.parametrize(("text", "message", "column"), [
    ("x > ²", "unexpected character '²'", 5),
    ("1²", "invalid number '1²'", 1),
    ("x + ٣", "unexpected character '٣'", 5),
    ("1" * 5000, "integer of 5000 digits does not fit in a LONG (64 bits)", 1),
    ("'\\ud800'", "'\\ud800' is a lone surrogate, not a character", 2),
    ("(" * 150 + "1" + ")" * 150, "expression is too deeply nested (more than 100 levels)", 101),
    ("\x01", "unexpected character '\\x01'", 1),
])
def test_hostile_expression_text(text: str, message: str, column: int) -> None:
    """Unicode digits, 5,000-digit literals, surrogate escapes, nesting, control characters."""
    with pytest.raises(ExprError) as info:
        parse(text)
    assert (info.value.message, info.value.column) == (message, column)


@pytest.mark.parametrize(("text", "expected"), [
    ("string(timestamp(9223372036854775807))", "292278994-08-17T07:12:55.807Z"),
    ("string(timestamp(0))", "1970-01-01T00:00:00.000Z"),
])
def test_string_of_constant_timestamps(text: str, expected: str) -> None:
    """string() of a constant TIMESTAMP (a 0-d value) is its text, even at the int64 edges."""
    checked = check(parse(text), TypeEnv({}))
    assert compile_expr(checked).evaluate(EvalContext(size=1, columns={})).tolist() == [expected]
