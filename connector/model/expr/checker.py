"""Type checker: syntax tree + TypeEnv -> typed tree with implementations and random sites."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import attrs
import numpy as np

from connector.model.expr import ops
from connector.model.expr.ast import Binary, Call, ListLit, Literal, Name, Node, Unary
from connector.model.expr.env import FunctionSpec, TypeEnv
from connector.model.expr.errors import ExprError
from connector.model.expr.functions import BUILTINS
from connector.model.expr.lexer import KEYWORDS
from connector.model.expr.messages import quote, require_value, unified
from connector.model.expr.operators import type_arithmetic, type_compare, type_null_compare
from connector.model.expr.parser import ARITHMETIC, COMPARISONS
from connector.model.expr.typed import TApply, TChoice, TConst, TName, TNode, TPlugin, sites_of
from connector.model.expr.types import B, D, ExprType, L, N, S, T

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class SiteCounter:
    """Hands out random call-site ids. Share one across all expressions of a model (checked in
    model order) or start one per expression at a stable base id; within one expression, sites
    are numbered in the order the random functions' names appear in the text."""

    def __init__(self, start: int = 0) -> None:
        self.next_site = start

    def take(self) -> int:
        site = self.next_site
        self.next_site += 1
        return site


@attrs.frozen
class Checked:
    """A type-checked expression: its type, whether it may be null, and its random sites."""

    node: Node
    tree: TNode
    type: ExprType
    nullable: bool
    sites: tuple[int, ...]


def check(
    node: Node,
    env: TypeEnv,
    sites: SiteCounter | None = None,
    *,
    expect: ExprType | None = None,
    nullable: bool = True,
) -> Checked:
    """Type-check `node` against `env`; raises ExprError naming what was expected.

    With `expect`, the result must have that type (a LONG is widened to DOUBLE). With
    `nullable=False`, a result that may be null is rejected.
    """
    tree = _Checker(env, sites if sites is not None else SiteCounter()).visit(node)
    if expect is not None and tree.type != expect:
        if expect == D and tree.type == L:
            # Nullable columns are object arrays; the evaluator converts their non-null items.
            if tree.nullable:
                tree = attrs.evolve(tree, type=D)
            else:
                tree = TApply(D, False, ops.f64, (tree,))
        elif tree.type == N and not nullable:
            raise ExprError(
                f"null is not allowed here; {_article(expect)} is required", node.column
            )
        elif tree.type != N:
            hint = ""
            if expect == L and tree.type == D:
                hint = "; use round(), floor() or long() to make a LONG"
            elif expect == S:
                hint = "; use string(x) to make a STRING"
            elif (expect, tree.type) == (T, L):
                hint = "; use timestamp(x) for epoch milliseconds"
            elif (expect, tree.type) == (L, T):
                hint = "; use long(t) for epoch milliseconds"
            raise ExprError(
                f"expected {_article(expect)} but {quote(node)} is {tree.type}{hint}",
                node.column,
            )
        else:
            tree = attrs.evolve(tree, type=expect)
    if tree.nullable and not nullable:
        raise ExprError(
            f"{quote(node)} may be null, but a value is required here; "
            f"use coalesce({node.text}, <default>)",
            node.column,
        )
    return Checked(node, tree, tree.type, tree.nullable, sites_of(tree))


def _article(t: ExprType) -> str:
    return f"a {t}"


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _Checker:
    def __init__(self, env: TypeEnv, sites: SiteCounter) -> None:
        self.env = env
        self.sites = sites

    def visit(self, node: Node) -> TNode:
        if isinstance(node, Literal):
            return self.literal(node)
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, ListLit):
            raise ExprError(
                "a list [...] is only allowed as an argument of choice()", node.column
            )
        raise TypeError(f"unknown node {node!r}")

    @staticmethod
    def literal(node: Literal) -> TNode:
        v = node.value
        if v is None:
            return TConst(N, True, None)
        if isinstance(v, bool):
            return TConst(B, False, np.bool_(v))
        if isinstance(v, int):
            if not _INT64_MIN <= v <= _INT64_MAX:
                raise ExprError(
                    f"integer {node.text} does not fit in a LONG (64 bits)", node.column
                )
            return TConst(L, False, np.int64(v))
        if isinstance(v, float):
            return TConst(D, False, np.float64(v))
        return TConst(S, False, v)

    def name(self, node: Name) -> TNode:
        typ = self.env.names.get(node.name)
        if typ is None:
            known = ", ".join(sorted(self.env.names)) or "(none)"
            lowered = node.name.lower()
            hint = (
                f" (did you mean {lowered!r}?)"
                if lowered in KEYWORDS
                else _suggest(node.name, self.env.names)
            )
            raise ExprError(
                f"unknown name {node.name!r}{hint}; known names: {known}", node.column
            )
        return TName(typ, node.name in self.env.nullable, node.name)

    def unary(self, node: Unary) -> TNode:
        operand = self.visit(node.operand)
        where = f"'{node.spelled}'"
        require_value(node.operand, operand.type, operand.nullable, where)
        if node.op == "not":
            if operand.type != B:
                raise ExprError(
                    f"{quote(node.operand)} is {operand.type} but {where} needs a BOOLEAN operand",
                    node.operand.column,
                )
            return TApply(B, False, np.logical_not, (operand,))
        if not operand.type.is_numeric:
            raise ExprError(
                f"{quote(node.operand)} is {operand.type} but {where} needs a number",
                node.operand.column,
            )
        if node.op == "+":
            return operand
        return TApply(operand.type, False, np.negative, (operand,))

    def binary(self, node: Binary) -> TNode:
        left, right = self.visit(node.left), self.visit(node.right)
        op, where = node.op, f"'{node.spelled}'"
        if op in COMPARISONS and N in (left.type, right.type):
            return type_null_compare(node, left, right)
        require_value(node.left, left.type, left.nullable, where)
        require_value(node.right, right.type, right.nullable, where)
        args = (left, right)
        if op in ("and", "or"):
            for side, t in ((node.left, left), (node.right, right)):
                if t.type != B:
                    raise ExprError(
                        f"{quote(side)} is {t.type} but {where} needs BOOLEAN operands",
                        side.column,
                    )
            fn = np.logical_and if op == "and" else np.logical_or
            return TApply(B, False, fn, args)
        if op in COMPARISONS:
            return type_compare(node, left, right)
        assert op in ARITHMETIC
        return type_arithmetic(node, left, right)

    def call(self, node: Call) -> TNode:
        builtin = BUILTINS.get(node.name)
        if builtin is None:
            spec = self.env.functions.get(node.name)
            if spec is None:
                known = sorted({*BUILTINS, *self.env.functions})
                raise ExprError(
                    f"unknown function {node.name!r}{_suggest(node.name, known)}; "
                    f"known functions: {', '.join(known)}",
                    node.column,
                )
            return self.plugin(node, spec)
        n = len(node.args)
        if n < builtin.min_args or (builtin.max_args is not None and n > builtin.max_args):
            raise ExprError(
                f"{node.name}() takes {builtin.arity_text()} ({builtin.usage}), got {n}",
                node.column,
            )
        # The site is taken before visiting arguments: site order is source order.
        site = self.sites.take() if builtin.random else None
        if builtin.build is None:
            assert site is not None
            return self.choice(node, site)
        args = tuple(self.visit(a) for a in node.args)
        if not builtin.accepts_null:
            for arg_node, arg in zip(node.args, args, strict=True):
                require_value(arg_node, arg.type, arg.nullable, f"{node.name}()")
        return builtin.build(node, args, site)

    def plugin(self, node: Call, spec: FunctionSpec) -> TNode:
        if len(node.args) != len(spec.arg_types):
            sig = ", ".join(str(t) for t in spec.arg_types)
            raise ExprError(
                f"{node.name}() takes {len(spec.arg_types)} argument"
                f"{'' if len(spec.arg_types) == 1 else 's'} ({node.name}({sig})), "
                f"got {len(node.args)}",
                node.column,
            )
        site = self.sites.take() if spec.uses_rng else None
        args: list[TNode] = []
        for i, (arg_node, want) in enumerate(zip(node.args, spec.arg_types, strict=True)):
            arg = self.visit(arg_node)
            require_value(arg_node, arg.type, arg.nullable, f"{node.name}()")
            if arg.type == L and want == D:
                arg = TApply(D, False, ops.f64, (arg,))
            elif arg.type != want:
                raise ExprError(
                    f"{node.name}() argument {i + 1} must be {want}, but {quote(arg_node)} "
                    f"is {arg.type}",
                    arg_node.column,
                )
            args.append(arg)
        return TPlugin(spec.return_type, False, spec, tuple(args), site)

    def choice(self, node: Call, site: int) -> TNode:
        values = node.args[0]
        if not isinstance(values, ListLit):
            raise ExprError(
                "choice() needs a list of values, like choice(['a', 'b']) or "
                f"choice([1, 2], [0.9, 0.1]); got {quote(values)}",
                values.column,
            )
        if not values.items:
            raise ExprError("choice() needs at least one value in its list", values.column)
        options = tuple(self.visit(item) for item in values.items)
        typ = unified(values.items, [o.type for o in options], "choice values")
        weights = self.weights(node, len(options))
        total = weights.sum()
        cumulative = np.cumsum(weights) / total
        nullable = any(o.nullable for o in options)
        return TChoice(typ, nullable, site, options, cumulative)

    @staticmethod
    def weights(node: Call, count: int) -> np.ndarray:
        if len(node.args) == 1:
            return np.ones(count)
        wnode = node.args[1]
        if not isinstance(wnode, ListLit):
            raise ExprError(
                f"choice weights must be a list of numbers like [0.9, 0.1]; got {quote(wnode)}",
                wnode.column,
            )
        out: list[float] = []
        for item in wnode.items:
            v = item.value if isinstance(item, Literal) else None
            if not isinstance(v, int | float) or isinstance(v, bool):
                raise ExprError(
                    f"choice weights must be number literals (got {item.text})", item.column
                )
            if v < 0:
                raise ExprError(
                    f"choice weights must be non-negative numbers (got {item.text})", item.column
                )
            out.append(float(v))
        if len(out) != count:
            raise ExprError(
                f"choice has {count} value{'s' if count != 1 else ''} but {len(out)} "
                f"weight{'s' if len(out) != 1 else ''}",
                wnode.column,
            )
        arr = np.asarray(out, dtype=np.float64)
        if not np.isfinite(arr.sum()):
            raise ExprError("choice weights are too large to add up", wnode.column)
        if arr.sum() <= 0:
            raise ExprError("choice weights must not all be zero", wnode.column)
        return arr

