"""Parsing: tokens, precedence, assignments, syntax errors and the static helpers."""

from __future__ import annotations

import pytest

from connector.model.expr import (
    ExprError,
    expand_assignment,
    is_constant,
    names_used,
    parse,
    parse_assignment,
)
from connector.model.expr.ast import Binary, Call, ListLit, Literal, Name, Node, Unary


def show(node: Node) -> str:
    """Fully parenthesised rendering, to assert on tree shape compactly."""
    if isinstance(node, Literal):
        return repr(node.value)
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Unary):
        return f"({node.op} {show(node.operand)})"
    if isinstance(node, Binary):
        return f"({show(node.left)} {node.op} {show(node.right)})"
    if isinstance(node, Call):
        return f"{node.name}({', '.join(show(a) for a in node.args)})"
    assert isinstance(node, ListLit)
    return f"[{', '.join(show(a) for a in node.items)}]"


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("(1 + 2) * 3", "((1 + 2) * 3)"),
        ("a - b - c", "((a - b) - c)"),
        ("a / b // c % d", "(((a / b) // c) % d)"),
        ("2 ** 3 ** 2", "(2 ** (3 ** 2))"),
        ("-2 ** 2", "(- (2 ** 2))"),
        ("2 ** -1", "(2 ** -1)"),
        ("-a * b", "((- a) * b)"),
        ("a + b > c * 2", "((a + b) > (c * 2))"),
        ("a or b and c", "(a or (b and c))"),
        ("not a and b", "((not a) and b)"),
        ("not a == b", "(not (a == b))"),
        ("a == b or c != d", "((a == b) or (c != d))"),
        ("a && b || !c", "((a and b) or (not c))"),
        ("x <= 1 and y >= 2", "((x <= 1) and (y >= 2))"),
        ("min(a, b + 1, 3)", "min(a, (b + 1), 3)"),
        ("choice(['a', 'b'], [1, 2])", "choice(['a', 'b'], [1, 2])"),
        ("f()", "f()"),
        ("if(a > 0, 'pos', 'neg')", "if((a > 0), 'pos', 'neg')"),
    ],
)
def test_precedence_and_associativity(text: str, tree: str) -> None:
    """Operators bind with the documented precedence, so models mean what they say."""
    assert show(parse(text)) == tree


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("2.5E-2", 0.025),
        (".5", 0.5),
        ("-9223372036854775808", -(2**63)),
        ("true", True),
        ("false", False),
        ("null", None),
        ("'it''s'", None),
        ('"a\\"b"', 'a"b'),
        ("'tab\\tnew\\nline\\\\'", "tab\tnew\nline\\"),
        ("'\\u00e9t\\u00e9'", "été"),
        ("'mixed \"quotes\"'", 'mixed "quotes"'),
    ],
)
def test_literals(text: str, value: object) -> None:
    """Literals of every kind parse to their values (escapes included)."""
    if text == "'it''s'":
        # Two adjacent strings are not one literal (no SQL-style quote doubling).
        with pytest.raises(ExprError, match="expected an operator before"):
            parse(text)
        return
    node = parse(text)
    assert isinstance(node, Literal)
    assert node.value == value
    assert type(node.value) is type(value)


def test_integer_literal_stays_integer() -> None:
    """An integer literal is an int (LONG), a literal with '.' or exponent is a float."""
    assert isinstance(parse("3").value, int)  # type: ignore[attr-defined]
    assert isinstance(parse("3.0").value, float)  # type: ignore[attr-defined]


def test_columns_and_text_point_into_source() -> None:
    """Nodes carry the 1-based column and source text that error messages quote."""
    node = parse("balance  +  amount * 2")
    assert isinstance(node, Binary)
    assert node.column == 10
    assert node.text == "balance  +  amount * 2"
    assert node.right.text == "amount * 2"
    assert node.right.column == 20
    assert node.left.column == 1


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("balance +", "expected a number after '+'", 9),
        ("balance + * 2", "expected a number after '+'", 9),
        ("a and", "expected a condition after 'and'", 3),
        ("a ==", "expected a value after '=='", 3),
        ("", "empty expression", 1),
        ("   ", "empty expression", 4),
        ("(a + b", "unclosed '('", 1),
        ("min(a, b", "unclosed '(' of min()", 4),
        ("min(a b)", "expected ',', ')' or an operator before 'b'", 7),
        ("(a b)", "expected ')' or an operator before 'b'", 4),
        ("a + b)", "unmatched ')'", 6),
        ("balance amount", "expected an operator before 'amount'", 9),
        ("a = 1", "'=' assigns; use '==' to compare", 3),
        ("a += 1", "'+=' is only allowed in an update, like 'balance += 1'", 3),
        ("a < b < c", "comparisons cannot be chained; write 'a < b and b < c'", 7),
        ("'abc", "unterminated string (missing closing ')", 1),
        ("a $ b", "unexpected character '$'", 3),
        ("a & b", "unexpected character '&'; use 'and'", 3),
        ("12abc", "invalid number '12abc'", 1),
        ("1.2.3", "invalid number '1.2.3'", 1),
        ("'bad \\q escape'", "unknown escape '\\q' in string", 6),
        ("'\\u12'", "'\\u' must be followed by 4 hex digits", 2),
        ("f(a,)", "expected an argument after ','", 4),
        ("1e999", "number 1e999 is too large for a DOUBLE", 1),
        ("a, b", "unexpected ',' outside a function call", 2),
        ("5(3)", "expected an operator before '('", 2),
        ("and b", "expected an expression", 1),
    ],
)
def test_syntax_errors_are_precise(text: str, message: str, column: int) -> None:
    """Syntax errors say what was expected and point at the right column."""
    with pytest.raises(ExprError) as info:
        parse(text)
    assert info.value.message.startswith(message), info.value.message
    assert info.value.column == column
    assert str(info.value) == f"{info.value.message} at column {column}"


def test_error_message_matches_documented_example() -> None:
    """The documented example message is exactly what users see."""
    with pytest.raises(ExprError) as info:
        parse("balance + ")
    assert str(info.value) == "expected a number after '+' at column 9"


def test_deep_nesting_is_a_clean_error() -> None:
    """Hostile nesting gives an ExprError, never a RecursionError traceback."""
    with pytest.raises(ExprError, match="too deeply nested"):
        parse("(" * 3000 + "1" + ")" * 3000)
    with pytest.raises(ExprError, match="too deeply nested"):
        parse(" + ".join(["a"] * 1000))
    with pytest.raises(ExprError, match="too deeply nested"):
        parse("-" * 1000 + "a")
    with pytest.raises(ExprError, match="too long"):
        parse("a + " * 5000 + "a")


@pytest.mark.parametrize(
    ("text", "target", "op", "value"),
    [
        ("balance += amount", "balance", "+=", "amount"),
        ("balance = 0", "balance", "=", "0"),
        ("x -= y * 2", "x", "-=", "(y * 2)"),
        ("x *= 1.5", "x", "*=", "1.5"),
        ("x /= 2", "x", "/=", "2"),
        ("plan = choice(['a', 'b'])", "plan", "=", "choice(['a', 'b'])"),
    ],
)
def test_parse_assignment(text: str, target: str, op: str, value: str) -> None:
    """Updates split into target, operator and value expression."""
    got_target, got_op, node = parse_assignment(text)
    assert (got_target, got_op, show(node)) == (target, op, value)


def test_assignment_value_columns_count_from_update_start() -> None:
    """Errors in an update's value point at columns of the whole update text."""
    with pytest.raises(ExprError) as info:
        parse_assignment("balance += amount +")
    assert info.value.column == 19


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty update"),
        ("1 = 2", "an update must start with the attribute to change"),
        ("balance == 1", "use '=' to assign in an update"),
        ("balance + 1", "expected one of = += -= *= /= after 'balance'"),
        ("balance", "expected one of = += -= *= /= after 'balance', got 'the end of the text'"),
        ("balance +=", "expected an expression after '+='"),
    ],
)
def test_bad_assignments(text: str, message: str) -> None:
    """Malformed updates are rejected with a hint of the expected shape."""
    with pytest.raises(ExprError) as info:
        parse_assignment(text)
    assert info.value.message.startswith(message), info.value.message


def test_expand_assignment() -> None:
    """`x op= v` expands to `x op v`; `=` keeps the value as is."""
    target, op, value = parse_assignment("balance -= fee * 2")
    assert show(expand_assignment(target, op, value)) == "(balance - (fee * 2))"
    target, op, value = parse_assignment("balance = 3")
    assert expand_assignment(target, op, value) is value


def test_names_used() -> None:
    """names_used lists variables read, not function names."""
    assert names_used(parse("balance + max(amount, fee) > if(ok, x, 0)")) == {
        "balance",
        "amount",
        "fee",
        "ok",
        "x",
    }
    assert names_used(parse("uniform(1, 2)")) == set()


@pytest.mark.parametrize(
    ("text", "constant"),
    [
        ("1 + 2 * 3", True),
        ("upper('a') + string(round(2.5))", True),
        ("choice([1, 2])", False),
        ("uniform(0, 1)", False),
        ("balance + 1", False),
        ("my_plugin(1)", False),
        ("hours(2)", True),
    ],
)
def test_is_constant(text: str, constant: bool) -> None:
    """is_constant: no names, no random draws, no plugin calls."""
    assert is_constant(parse(text)) is constant
