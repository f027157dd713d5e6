"""Wording helpers so every error quotes the user's own text the same way."""

from __future__ import annotations

from collections.abc import Sequence

from connector.model.expr.ast import Literal, Node
from connector.model.expr.errors import ExprError
from connector.model.expr.types import ExprType, unify

_MAX_QUOTE = 40


def quote(node: Node) -> str:
    """The node's source text in quotes, shortened if long: 'balance + 1'."""
    text = node.text if len(node.text) <= _MAX_QUOTE else node.text[: _MAX_QUOTE - 3] + "..."
    return f'"{text}"' if "'" in text else f"'{text}'"


def require_value(node: Node, typ: ExprType, nullable: bool, where: str) -> None:
    """Reject null/nullable operands where a value is needed (`where` names the operator)."""
    if typ == ExprType.NULL and isinstance(node, Literal):
        raise ExprError(f"null cannot be used with {where}", node.column)
    if nullable:
        raise ExprError(
            f"{quote(node)} may be null, so it cannot be used with {where}; "
            f"use coalesce({node.text}, <default>)",
            node.column,
        )


def unified(nodes: Sequence[Node], types: Sequence[ExprType], what: str) -> ExprType:
    """The common type of values that must share one (if, choice, coalesce), or an error
    naming the first one that does not fit; `what` names them ("choice values")."""
    typ = types[0]
    for i, other in enumerate(types[1:], start=1):
        joined = unify(typ, other)
        if joined is None:
            raise ExprError(f"{what} must share one type, but {quote(nodes[0])} is {types[0]} "
                            f"and {quote(nodes[i])} is {other}", nodes[i].column)
        typ = joined
    return typ
