"""Exact distributions of expressions that take few values, and attributes that only ever hold
them: what lets the analysis evaluate a condition such as `level == 'free'` or `ok` (a var drawn
with `bernoulli(0.97)`) exactly instead of bounding it.

An expression has a finite distribution when it reads no name and is a constant, a `choice()`
of constants, `bernoulli(p)` or `randint(a, b)` over a short range, all with constant arguments.
An attribute is finite when its initial value and every update assigning it (`=`) have one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from connector.model import expr as ex
from connector.model.expr.ast import Call, ListLit, Node
from connector.model.validate import ValidatedModel

# (value, probability) pairs, values distinct, probabilities summing to 1.
Dist = tuple[tuple[Any, float], ...]
MAX_VALUES = 64  # more distinct values than this is not worth enumerating


def constant(node: Node) -> tuple[bool, Any]:
    """(True, value) when `node` reads no name and draws nothing; (False, None) otherwise."""
    if not ex.is_constant(node):
        return False, None
    try:
        checked = ex.check(node, ex.TypeEnv(names={}))
        value = ex.compile_expr(checked).evaluate(ex.EvalContext(size=1, columns={}))
    except (ex.ExprError, ValueError, TypeError, ArithmeticError):
        return False, None
    item = np.asarray(value).ravel()[0]
    return True, item.item() if hasattr(item, "item") else item


def distribution(node: Node) -> Dist | None:
    """The exact distribution of `node`'s value, or None when it is not finite (see module)."""
    known, value = constant(node)
    if known:
        return ((value, 1.0),)
    if not isinstance(node, Call):
        return None
    args = [constant(a) for a in node.args]
    if node.name == "bernoulli" and len(args) == 1 and args[0][0]:
        p = float(args[0][1])
        p = 0.0 if np.isnan(p) else min(max(p, 0.0), 1.0)
        return _merge([(True, p), (False, 1.0 - p)])
    if node.name == "randint" and len(args) == 2 and all(k for k, _ in args):
        lo, hi = sorted(int(v) for _, v in args)
        if hi - lo >= MAX_VALUES:
            return None
        return _merge([(v, 1.0 / (hi - lo + 1)) for v in range(lo, hi + 1)])
    if node.name == "choice":
        return _choice(node.args)
    return None


def _choice(args: Sequence[Node]) -> Dist | None:
    if not args or not isinstance(args[0], ListLit):
        return None
    options = [constant(item) for item in args[0].items]
    if not options or not all(known for known, _ in options):
        return None
    weights = [1.0] * len(options)
    if len(args) == 2:
        if not isinstance(args[1], ListLit) or len(args[1].items) != len(options):
            return None
        given = [constant(item) for item in args[1].items]
        if not all(known and isinstance(w, int | float) for known, w in given):
            return None
        weights = [max(float(w), 0.0) for _, w in given]
    total = sum(weights)
    if total <= 0 or not np.isfinite(total):
        return None
    return _merge([(v, w / total) for (_, v), w in zip(options, weights, strict=True)])


def _merge(pairs: list[tuple[Any, float]]) -> Dist | None:
    out: dict[Any, float] = {}
    for value, p in pairs:
        if p > 0:
            out[value] = out.get(value, 0.0) + p
    return tuple(out.items()) if 0 < len(out) <= MAX_VALUES else None


def finite_attributes(model: ValidatedModel) -> dict[str, tuple[Dist, tuple[Any, ...]]]:
    """Attributes that only ever hold a few known values: name -> (initial distribution, every
    value it can hold)."""
    initial = {name: distribution(c.node) for name, c in model.initial_values}
    support: dict[str, set[Any]] = {n: {v for v, _ in d} for n, d in initial.items() if d}
    for t in model.transitions:
        for name, op, checked in t.updates:
            if name not in support:
                continue
            d = distribution(checked.node) if op == "=" else None
            if d is None:
                del support[name]
            else:
                support[name].update(v for v, _ in d)
    types = {a.name: a.type for a in model.spec.attributes}
    out = {}
    for name, values in support.items():
        dist = initial[name]
        if dist is not None and len(values) <= MAX_VALUES:
            ordered = tuple(sorted(values, key=repr))
            out[name] = (_typed(dist, types[name]), tuple(_cast(v, types[name]) for v in ordered))
    return out


def _cast(value: Any, typ: ex.ExprType) -> Any:
    return np.array([value], dtype=typ.dtype)[0].item() if typ != ex.ExprType.STRING else value


def _typed(dist: Dist, typ: ex.ExprType) -> Dist:
    merged: dict[Any, float] = {}
    for v, p in dist:
        key = _cast(v, typ)
        merged[key] = merged.get(key, 0.0) + p
    return tuple(merged.items())
