"""What a builtin function is to the checker: its arity, its builder and argument checks.

Shared by the function tables (functions.py, valuefns.py) so each table module stays small.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from connector.model.expr.ast import Call, Literal
from connector.model.expr.errors import ExprError
from connector.model.expr.messages import quote
from connector.model.expr.typed import TNode
from connector.model.expr.types import D, ExprType, L

NUMBERS = frozenset({L, D})

Builder = Callable[[Call, tuple[TNode, ...], "int | None"], TNode]


@attrs.frozen
class Builtin:
    name: str
    usage: str  # shown when the argument count is wrong
    min_args: int
    max_args: int | None
    build: Builder | None  # None: the checker builds it (choice)
    random: bool = False
    accepts_null: bool = False  # arguments may be null (if, coalesce)
    # False for functions whose value is not a function of their arguments alone (sequence()).
    pure: bool = True

    def arity_text(self) -> str:
        lo, hi = self.min_args, self.max_args
        if hi is None:
            return f"at least {lo} arguments"
        if lo == hi:
            return f"{lo} argument" + ("" if lo == 1 else "s")
        return f"{lo} or {hi} arguments" if hi == lo + 1 else f"{lo} to {hi} arguments"


def need(
    call: Call,
    args: tuple[TNode, ...],
    i: int,
    allowed: frozenset[ExprType],
    what: str,
    *,
    hint: str = "",
) -> None:
    """Raise unless argument i has one of the allowed types."""
    if args[i].type not in allowed:
        node = call.args[i]
        raise ExprError(
            f"{call.name}() needs {what}, but {quote(node)} is {args[i].type}{hint}", node.column
        )


class LiteralTextError(ValueError):
    """A mistake inside a literal argument's text (a pattern, a template); `position` is its
    0-based offset in that text."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message, self.position = message, position


def literal_text(call: Call, i: int, what: str, example: str) -> str:
    """Argument i, which must be a string literal (read at validation time, like a pattern)."""
    node = call.args[i]
    if not isinstance(node, Literal) or not isinstance(node.value, str):
        raise ExprError(
            f"{call.name}() needs {what} as a string literal, like {example}; got {quote(node)}",
            node.column,
        )
    return node.value
