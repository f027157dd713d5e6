"""The checked tree: every node carries its static type and the numpy implementation chosen for it.

The checker builds it once; the evaluator turns it into closures. Nothing here walks rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from connector.model.expr.types import ExprType, Value


@attrs.frozen
class TNode:
    type: ExprType
    nullable: bool


@attrs.frozen
class TConst(TNode):
    """A literal, already as a numpy scalar (str for STRING, None for null)."""

    value: Value


@attrs.frozen
class TName(TNode):
    name: str


@attrs.frozen
class TApply(TNode):
    """`fn(*arg_values)`; with `needs_ctx`, `fn(ctx, *arg_values)` (time zone, size)."""

    fn: Callable[..., Value]
    args: tuple[TNode, ...]
    needs_ctx: bool = False


@attrs.frozen
class TRandom(TNode):
    """A random draw at call site `site`: `fn(generator, size, *arg_values)`."""

    site: int
    fn: Callable[..., Value]
    args: tuple[TNode, ...]


@attrs.frozen
class TChoice(TNode):
    """choice(): one uniform per row against cumulative weights selects among `options`."""

    site: int
    options: tuple[TNode, ...]
    cumulative: npt.NDArray[np.float64]


@attrs.frozen
class TPlugin(TNode):
    """A call of an operator-installed function (spec is an env.FunctionSpec)."""

    spec: Any
    args: tuple[TNode, ...]
    site: int | None


def nodes(node: TNode) -> list[TNode]:
    """Every node of the tree, in source order."""
    out: list[TNode] = []
    stack = [node]
    while stack:
        n = stack.pop()
        out.append(n)
        kids: tuple[TNode, ...] = ()
        if isinstance(n, TApply | TRandom | TPlugin):
            kids = n.args
        elif isinstance(n, TChoice):
            kids = n.options
        stack.extend(reversed(kids))
    return out


def sites_of(node: TNode) -> tuple[int, ...]:
    """Random call sites in the tree, in source order."""
    sites = (getattr(n, "site", None) for n in nodes(node))
    return tuple(sorted(s for s in sites if s is not None))


def calls_plugin(node: TNode) -> bool:
    """Whether the tree calls a plugin function (which sees whole columns, not single rows)."""
    return any(isinstance(n, TPlugin) for n in nodes(node))
