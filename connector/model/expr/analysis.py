"""Static facts about a syntax tree that the model validator needs (no type environment)."""

from __future__ import annotations

from connector.model.expr.ast import Call, Name, Node, walk
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
