"""Wording helpers so every error quotes the user's own text the same way."""

from __future__ import annotations

from connector.model.expr.ast import Literal, Node
from connector.model.expr.errors import ExprError
from connector.model.expr.types import ExprType

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
