"""The builtin function table: arity, type rule and numpy implementation of each function.

A builder receives the call's syntax node, its already-checked arguments and (for random
functions) the call's site id, and returns the typed node; it raises ExprError naming the
argument at fault. choice() takes list literals, so the checker handles it itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from types import MappingProxyType
from typing import Any

import attrs
import numpy as np

from connector.model.expr import ops, randoms, timefns
from connector.model.expr.ast import Call
from connector.model.expr.callspec import NUMBERS, Builder, Builtin, need
from connector.model.expr.errors import ExprError
from connector.model.expr.messages import quote, unified
from connector.model.expr.typed import TApply, TNode, TRandom
from connector.model.expr.types import B, D, ExprType, L, S, T, Value, unify
from connector.model.expr.valuefns import VALUE_BUILTINS


def _numeric_type(args: tuple[TNode, ...]) -> ExprType:
    return L if all(a.type == L for a in args) else D


def _relabel(node: TNode, typ: ExprType) -> TNode:
    """Same values, other static type (LONG <-> TIMESTAMP share int64)."""
    return attrs.evolve(node, type=typ)


def _if(call: Call, args: tuple[TNode, ...], _: int | None) -> TNode:
    cond, a, b = args
    need(call, args, 0, frozenset({B}), "a BOOLEAN condition first")
    if cond.nullable:
        raise ExprError(
            f"the condition of if() may be null; use coalesce({call.args[0].text}, false)",
            call.args[0].column,
        )
    typ = unify(a.type, b.type)
    if typ is None:
        raise ExprError(
            f"the branches of if() must have the same type, but {quote(call.args[1])} is "
            f"{a.type} and {quote(call.args[2])} is {b.type}",
            call.args[2].column,
        )
    return TApply(typ, a.nullable or b.nullable, ops.where, args)


def _unified(call: Call, args: tuple[TNode, ...], what: str) -> ExprType:
    return unified(call.args, [a.type for a in args], what)


def _coalesce(call: Call, args: tuple[TNode, ...], _: int | None) -> TNode:
    typ = _unified(call, args, "the arguments of coalesce()")
    nullable = all(a.nullable for a in args)
    if nullable:
        return TApply(typ, True, ops.coalesce, args)
    return TApply(typ, False, partial(ops.coalesce_as, typ.dtype), args)


def _ordered(call: Call, args: tuple[TNode, ...]) -> ExprType:
    """min/max/clip: all numbers, or all TIMESTAMPs."""
    if all(a.type == T for a in args):
        return T
    for i in range(len(args)):
        need(call, args, i, NUMBERS, "numbers (or only TIMESTAMPs)")
    return _numeric_type(args)


def _minmax(fn: Callable[[Value, Value], Value]) -> Builder:
    def build(call: Call, args: tuple[TNode, ...], _: int | None) -> TNode:
        return TApply(_ordered(call, args), False, partial(ops.fold, fn), args)

    return build


def _clip(call: Call, args: tuple[TNode, ...], _: int | None) -> TNode:
    return TApply(_ordered(call, args), False, ops.clip, args)


def _abs(call: Call, args: tuple[TNode, ...], _: int | None) -> TNode:
    need(call, args, 0, NUMBERS, "a number")
    return TApply(args[0].type, False, np.abs, args)


def _round(call: Call, args: tuple[TNode, ...], _: int | None) -> TNode:
    need(call, args, 0, NUMBERS, "a number")
    if len(args) == 2:
        need(call, args, 1, frozenset({L}), "a LONG number of digits second")
        return TApply(D, False, ops.round_digits, args)
    if args[0].type == L:
        return args[0]
    return TApply(L, False, ops.round_long, args)


def _to_long_via(fn: Callable[[Value], Value]) -> Builder:
    def build(call: Call, args: tuple[TNode, ...], _: int | None) -> TNode:
        need(call, args, 0, NUMBERS, "a number")
        if args[0].type == L:
            return args[0]
        return TApply(L, False, partial(ops.long_of, fn), args)

    return build


def _long(call: Call, args: tuple[TNode, ...], _: int | None) -> TNode:
    need(call, args, 0, frozenset({L, D, B, T}), "a number, BOOLEAN or TIMESTAMP")
    typ = args[0].type
    if typ in (L, T):
        return _relabel(args[0], L)
    if typ == B:
        return TApply(L, False, ops.as_int64, args)
    return TApply(L, False, ops.to_long, args)


def _double(call: Call, args: tuple[TNode, ...], _: int | None) -> TNode:
    need(call, args, 0, frozenset({L, D, B, T}), "a number, BOOLEAN or TIMESTAMP")
    return args[0] if args[0].type == D else TApply(D, False, ops.f64, args)


def _string(call: Call, args: tuple[TNode, ...], _: int | None) -> TNode:
    kind = args[0].type
    if kind == S:
        return args[0]
    need(call, args, 0, frozenset({L, D, B, T}), "a value")
    return TApply(S, False, partial(ops.to_string, kind.value), args)


def _timestamp(call: Call, args: tuple[TNode, ...], _: int | None) -> TNode:
    hint = " (use round() to make a LONG)" if args[0].type == D else ""
    need(call, args, 0, frozenset({L, T}), "a LONG of epoch milliseconds", hint=hint)
    return _relabel(args[0], T)


def _text(fn: Callable[[Value], Value], result: ExprType) -> Builder:
    def build(call: Call, args: tuple[TNode, ...], _: int | None) -> TNode:
        need(call, args, 0, frozenset({S}), "a STRING", hint=" (use string(x) to convert)")
        return TApply(result, False, fn, args)

    return build


def _calendar(fn: Callable[[Value, Any], Value]) -> Builder:
    def build(call: Call, args: tuple[TNode, ...], _: int | None) -> TNode:
        hint = " (use timestamp(x) for epoch milliseconds)" if args[0].type == L else ""
        need(call, args, 0, frozenset({T}), "a TIMESTAMP", hint=hint)
        return TApply(L, False, partial(timefns.in_zone_of, fn), args, needs_ctx=True)

    return build


def _duration(millis: int) -> Builder:
    def build(call: Call, args: tuple[TNode, ...], _: int | None) -> TNode:
        need(call, args, 0, NUMBERS, "a number")
        scale = ops.scale_long if args[0].type == L else ops.scale_double
        return TApply(L, False, partial(scale, millis), args)

    return build


def _draw(
    fn: Callable[..., Value], result: ExprType, params: frozenset[ExprType], what: str
) -> Builder:
    def build(call: Call, args: tuple[TNode, ...], site: int | None) -> TNode:
        for i in range(len(args)):
            need(call, args, i, params, what)
        assert site is not None
        return TRandom(result, False, site, fn, args)

    return build


def _table(*entries: Builtin) -> Mapping[str, Builtin]:
    return MappingProxyType({b.name: b for b in entries})


_NUM = "numbers"
_LONGS = frozenset({L})
BUILTINS: Mapping[str, Builtin] = _table(
    Builtin("if", "if(condition, then, else)", 3, 3, _if, accepts_null=True),
    Builtin("coalesce", "coalesce(x, default, ...)", 2, None, _coalesce, accepts_null=True),
    Builtin("min", "min(a, b, ...)", 2, None, _minmax(np.minimum)),
    Builtin("max", "max(a, b, ...)", 2, None, _minmax(np.maximum)),
    Builtin("clip", "clip(x, lo, hi)", 3, 3, _clip),
    Builtin("abs", "abs(x)", 1, 1, _abs),
    Builtin("round", "round(x) or round(x, digits)", 1, 2, _round),
    Builtin("floor", "floor(x)", 1, 1, _to_long_via(np.floor)),
    Builtin("ceil", "ceil(x)", 1, 1, _to_long_via(np.ceil)),
    Builtin("long", "long(x)", 1, 1, _long),
    Builtin("double", "double(x)", 1, 1, _double),
    Builtin("string", "string(x)", 1, 1, _string),
    Builtin("timestamp", "timestamp(epoch_millis)", 1, 1, _timestamp),
    Builtin("len", "len(s)", 1, 1, _text(ops.str_len, L)),
    Builtin("lower", "lower(s)", 1, 1, _text(ops.str_lower, S)),
    Builtin("upper", "upper(s)", 1, 1, _text(ops.str_upper, S)),
    Builtin("hour", "hour(t)", 1, 1, _calendar(timefns.hour)),
    Builtin("minute", "minute(t)", 1, 1, _calendar(timefns.minute)),
    Builtin("second", "second(t)", 1, 1, _calendar(timefns.second)),
    Builtin("weekday", "weekday(t)", 1, 1, _calendar(timefns.weekday)),
    Builtin("day", "day(t)", 1, 1, _calendar(timefns.day)),
    Builtin("month", "month(t)", 1, 1, _calendar(timefns.month)),
    Builtin("year", "year(t)", 1, 1, _calendar(timefns.year)),
    Builtin("day_of_year", "day_of_year(t)", 1, 1, _calendar(timefns.day_of_year)),
    Builtin("seconds", "seconds(n)", 1, 1, _duration(1000)),
    Builtin("minutes", "minutes(n)", 1, 1, _duration(60_000)),
    Builtin("hours", "hours(n)", 1, 1, _duration(3_600_000)),
    Builtin("days", "days(n)", 1, 1, _duration(86_400_000)),
    # Random draws: the checker gives each call its own site id.
    Builtin("uniform", "uniform(low, high)", 2, 2, _draw(randoms.uniform, D, NUMBERS, _NUM), True),
    Builtin("randint", "randint(low, high)", 2, 2, _draw(randoms.randint, L, _LONGS, "LONGs"),
            True),
    Builtin("normal", "normal(mean, sd)", 2, 2, _draw(randoms.normal, D, NUMBERS, _NUM), True),
    Builtin("lognormal", "lognormal(mu, sigma)", 2, 2, _draw(randoms.lognormal, D, NUMBERS, _NUM),
            True),
    Builtin("exponential", "exponential(mean)", 1, 1,
            _draw(randoms.exponential, D, NUMBERS, "a number"), True),
    Builtin("poisson", "poisson(mean)", 1, 1, _draw(randoms.poisson, L, NUMBERS, "a number"), True),
    Builtin("bernoulli", "bernoulli(p)", 1, 1, _draw(randoms.bernoulli, B, NUMBERS, "a number"),
            True),
    Builtin("choice", "choice([values]) or choice([values], [weights])", 1, 2, None, True, True),
    *VALUE_BUILTINS,
)  # fmt: skip
