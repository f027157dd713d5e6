"""Static facts about a syntax tree that the model validator needs (no type environment)."""

from __future__ import annotations

from connector.model.expr.ast import Call, ListLit, Literal, Name, Node, walk
from connector.model.expr.functions import BUILTINS


def names_used(node: Node) -> set[str]:
    """Every variable/attribute name the expression reads (function names excluded)."""
    return {n.name for n in walk(node) if isinstance(n, Name)}


def is_constant(node: Node) -> bool:
    """True when the value is the same for every row and every tick: no names, no random draws,
    no counters (sequence()), no plugin calls (plugins are opaque, so treated as varying)."""
    for n in walk(node):
        if isinstance(n, Name):
            return False
        if isinstance(n, Call) and (n.name not in BUILTINS or BUILTINS[n.name].random
                                    or not BUILTINS[n.name].pure):
            return False
    return True


def possible_values(node: Node) -> frozenset[object] | None:
    """Every value the expression can take when it only ever picks among literals (a literal,
    choice of literals, if/coalesce over such); None when it can compute other values."""
    if isinstance(node, Literal):
        return frozenset({node.value})
    if not isinstance(node, Call):
        return None
    if node.name == "choice" and node.args and isinstance(node.args[0], ListLit):
        options: tuple[Node, ...] = node.args[0].items
    elif node.name == "if" and len(node.args) == 3:
        options = node.args[1:]
    elif node.name == "coalesce":
        options = node.args
    else:
        return None
    out: set[object] = set()
    for option in options:
        values = possible_values(option)
        if values is None:
            return None
        out |= values
    return frozenset(out)
