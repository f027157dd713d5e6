"""Pratt parser: expression text -> syntax tree, with errors that say what was expected where."""

from __future__ import annotations

from connector.model.expr.ast import Binary, Call, ListLit, Literal, Name, Node, Unary, children
from connector.model.expr.errors import ExprError
from connector.model.expr.lexer import Token, tokenize

MAX_LENGTH = 10_000
# Parser recursion (parentheses, prefix operators) and final tree depth are both bounded so a
# hostile config cannot exhaust the Python stack in the parser, checker or evaluator.
MAX_NESTING = 100
MAX_TREE_DEPTH = 200

COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
ARITHMETIC = frozenset({"+", "-", "*", "/", "//", "%", "**"})
ASSIGN_OPS = ("=", "+=", "-=", "*=", "/=")
# Binding power of each binary operator (higher binds tighter); '**' is right-associative.
_BINARY = {"or": 1, "and": 2, **dict.fromkeys(COMPARISONS, 4), "+": 5, "-": 5}
_BINARY.update({"*": 6, "/": 6, "//": 6, "%": 6, "**": 8})
_NOT_BP = 3
_NEG_BP = 7

_Parsed = tuple[Node, int, int]  # node, start offset, end offset in the source


def parse(text: str) -> Node:
    """Parse one expression; raises ExprError with the column of the first problem."""
    return _Parser(text).whole(0)


def parse_assignment(text: str) -> tuple[str, str, Node]:
    """Parse an update like `balance += amount` into (target, op, value expression).

    op is one of = += -= *= /=; columns in the value node count from the start of `text`.
    """
    p = _Parser(text)
    first = p.tokens[0]
    if first.kind == "eof":
        raise ExprError("empty update; expected something like 'balance += amount'", 1)
    second = p.tokens[1]
    if first.kind != "name":
        raise ExprError(
            f"an update must start with the attribute to change, like 'balance += amount'; "
            f"got {first.text!r}",
            first.column,
        )
    if second.op == "==":
        raise ExprError("use '=' to assign in an update ('==' compares)", second.column)
    if second.op not in ASSIGN_OPS:
        raise ExprError(
            f"expected one of = += -= *= /= after {first.text!r}, got "
            f"{second.text or 'the end of the text'!r}",
            second.column,
        )
    return first.text, second.op, p.whole(2, after=second)


def expand_assignment(target: str, op: str, value: Node) -> Node:
    """The expression computing the new value: `balance += amount` -> `balance + amount`."""
    if op == "=":
        return value
    if op not in ASSIGN_OPS:
        raise ValueError(f"not an assignment operator: {op!r}")
    bop = op[0]
    return Binary(
        value.column,
        f"{target} {bop} {value.text}",
        bop,
        Name(1, target, target),
        value,
        bop,
    )


def _tree_depth(node: Node) -> int:
    deepest = 0
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((c, depth + 1) for c in children(current))
    return deepest


def _describe_expected(after: Token | None) -> str:
    if after is None:
        return "an expression"
    op = after.op
    if op in ARITHMETIC:
        return f"a number after {after.text!r}"
    if op in ("and", "or", "not"):
        return f"a condition after {after.text!r}"
    if op in COMPARISONS:
        return f"a value after {after.text!r}"
    if op == ",":
        return "an argument after ','"
    return f"an expression after {after.text!r}"


class _Parser:
    def __init__(self, text: str) -> None:
        if len(text) > MAX_LENGTH:
            raise ExprError(
                f"expression is too long ({len(text)} characters; at most {MAX_LENGTH})", 1
            )
        self.src = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.nesting = 0

    @property
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind != "eof":
            self.pos += 1
        return tok

    def whole(self, pos: int, after: Token | None = None) -> Node:
        self.pos = pos
        node, _, _ = self.expr(0, after)
        tok = self.peek
        if tok.kind != "eof":
            raise ExprError(self._trailing(tok), tok.column)
        if _tree_depth(node) > MAX_TREE_DEPTH:
            raise ExprError(
                f"expression is too deeply nested (more than {MAX_TREE_DEPTH} levels)", 1
            )
        return node

    @staticmethod
    def _trailing(tok: Token) -> str:
        if tok.op in (")", "]"):
            return f"unmatched {tok.text!r}"
        if tok.op == "=":
            return "'=' assigns; use '==' to compare"
        if tok.op in ASSIGN_OPS:
            return f"{tok.text!r} is only allowed in an update, like 'balance {tok.text} 1'"
        if tok.op == ",":
            return "unexpected ',' outside a function call"
        return f"expected an operator before {tok.text!r}"

    def expr(self, min_bp: int, after: Token | None) -> _Parsed:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise ExprError(
                f"expression is too deeply nested (more than {MAX_NESTING} levels)",
                self.peek.column,
            )
        left, start, end = self.nud(after)
        chained = False
        while True:
            tok = self.peek
            op = tok.op if tok.kind in ("op", "keyword") else ""
            bp = _BINARY.get(op)
            if bp is None or bp <= min_bp:
                break
            if chained and op in COMPARISONS:
                raise ExprError(
                    "comparisons cannot be chained; write 'a < b and b < c'", tok.column
                )
            self.advance()
            right, _, end = self.expr(bp - 1 if op == "**" else bp, tok)
            left = Binary(tok.column, self.src[start:end], op, left, right, tok.text)
            chained = op in COMPARISONS
        self.nesting -= 1
        return left, start, end

    def nud(self, after: Token | None) -> _Parsed:
        tok = self.advance()
        start, end = tok.start, tok.end
        if tok.kind in ("int", "float", "string"):
            return Literal(tok.column, tok.text, tok.value), start, end
        if tok.kind == "keyword" and tok.op in ("true", "false", "null"):
            constant = {"true": True, "false": False, "null": None}[tok.op]
            return Literal(tok.column, tok.text, constant), start, end
        if tok.op == "not":
            operand, _, end = self.expr(_NOT_BP, tok)
            return Unary(tok.column, self.src[start:end], "not", operand, tok.text), start, end
        if tok.op in ("-", "+"):
            operand, _, end = self.expr(_NEG_BP, tok)
            text = self.src[start:end]
            # Fold a sign into a number literal: '-9223372036854775808' fits and choice
            # weights can report "got -1".
            if isinstance(operand, Literal) and type(operand.value) in (int, float):
                assert isinstance(operand.value, int | float)
                value = -operand.value if tok.op == "-" else operand.value
                return Literal(tok.column, text, value), start, end
            return Unary(tok.column, text, tok.op, operand, tok.text), start, end
        if tok.op == "(":
            inner, _, _ = self.expr(0, tok)
            close = self.advance()
            if close.op != ")":
                self._unclosed(tok, close, "')'")
            return inner, start, close.end
        if tok.op == "[":
            items, end = self.sequence(tok, "]")
            return ListLit(tok.column, self.src[start:end], tuple(items)), start, end
        if tok.kind == "name":
            if self.peek.op == "(":
                args, end = self.sequence(self.advance(), ")", f" of {tok.text}()")
                return Call(tok.column, self.src[start:end], tok.text, tuple(args)), start, end
            return Name(tok.column, tok.text, tok.text), start, end
        if tok.kind == "eof" and after is None:
            raise ExprError("empty expression", tok.column)
        bad = tok if after is None else after
        raise ExprError(f"expected {_describe_expected(after)}", bad.column)

    def sequence(self, open_tok: Token, close: str, what: str = "") -> tuple[list[Node], int]:
        """Comma-separated items after `open_tok` up to `close`; returns items and end offset."""
        items: list[Node] = []
        if self.peek.op == close:
            return items, self.advance().end
        after = open_tok
        while True:
            item, _, _ = self.expr(0, after)
            items.append(item)
            tok = self.advance()
            if tok.op == close:
                return items, tok.end
            if tok.op != ",":
                self._unclosed(open_tok, tok, f"',', '{close}'", what)
            after = tok

    @staticmethod
    def _unclosed(open_tok: Token, got: Token, expected: str, what: str = "") -> None:
        if got.kind == "eof":
            raise ExprError(f"unclosed {open_tok.text!r}{what}", open_tok.column)
        raise ExprError(f"expected {expected} or an operator before {got.text!r}", got.column)
