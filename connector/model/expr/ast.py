"""Syntax tree of an expression: immutable attrs nodes, each knowing its source text and column."""

from __future__ import annotations

import attrs


@attrs.frozen
class Node:
    """`column` is the 1-based position errors point at (the operator of a binary expression);
    `text` is the node's source text, quoted in error messages."""

    column: int
    text: str


@attrs.frozen
class Literal(Node):
    """A number, string, true/false or null; `value` is the Python value (None for null)."""

    value: int | float | str | bool | None


@attrs.frozen
class Name(Node):
    name: str


@attrs.frozen
class Unary(Node):
    """`op` is canonical ('not', '-', '+'); `spelled` is how the user wrote it ('!')."""

    op: str
    operand: Node
    spelled: str


@attrs.frozen
class Binary(Node):
    """`op` is canonical ('and' for '&&'); `spelled` is how the user wrote it."""

    op: str
    left: Node
    right: Node
    spelled: str


@attrs.frozen
class Call(Node):
    name: str
    args: tuple[Node, ...]


@attrs.frozen
class ListLit(Node):
    """`[a, b, ...]`: only meaningful as an argument of choice(); the checker enforces that."""

    items: tuple[Node, ...]


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, ListLit):
        return node.items
    return ()


def walk(node: Node) -> list[Node]:
    """Every node of the tree in pre-order (source order); iterative so depth is no concern."""
    out: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(children(current)))
    return out
