"""Compiles a checked tree into nested closures once; evaluation is a few numpy calls per node.

No closure ever loops over rows, and the tree is not re-walked at evaluation time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import numpy as np

from connector.model.expr import ops, randoms
from connector.model.expr.checker import Checked
from connector.model.expr.env import FunctionSpec
from connector.model.expr.errors import PluginError
from connector.model.expr.typed import TApply, TChoice, TConst, TName, TNode, TPlugin, TRandom
from connector.model.expr.types import ExprType, Value

_Eval = Callable[["EvalContext"], Value]
_UTC = ZoneInfo("UTC")


def _no_rng(site: int) -> np.random.Generator:
    raise RuntimeError(f"random site {site} evaluated with a context that has no random streams")


def _no_sequence(name: str, size: int) -> np.ndarray:
    raise RuntimeError(f"sequence({name!r}) evaluated with a context that has no counters")


@attrs.frozen
class EvalContext:
    """The rows an expression is evaluated over.

    `columns` maps every name the expression uses to an array of length `size` or to one scalar
    value shared by all rows (e.g. `tick`); STRING columns are object arrays of str (other
    string dtypes are accepted), nullable names may hold None in object arrays. `rng(site)`
    returns the generator of a random call site for this batch; `tz` is the zone of the calendar
    functions. `functions`, when given, supplies the plugin implementations to call (by name)
    instead of those captured at check time. `sequence(name, size)` hands out the next `size`
    numbers of a named counter (one per row, in row order) for sequence().
    """

    size: int
    columns: Mapping[str, Any]
    rng: Callable[[int], np.random.Generator] = _no_rng
    tz: ZoneInfo = _UTC
    functions: Mapping[str, FunctionSpec] | None = None
    sequence: Callable[[str, int], np.ndarray] = _no_sequence


class Compiled:
    """A checked expression ready to evaluate; build once, evaluate every tick."""

    def __init__(self, checked: Checked) -> None:
        self.checked = checked
        self.type = checked.type
        self.nullable = checked.nullable
        self.sites = checked.sites
        self._fn = _build(checked.tree)
        # A bare name returns the caller's own column; copy it so callers may write the result.
        self._aliases_input = isinstance(checked.tree, TName)

    def evaluate(self, ctx: EvalContext) -> np.ndarray:
        """One value per row: int64 (LONG, TIMESTAMP), float64, bool, or object arrays of str;
        object arrays holding None when the expression may be null."""
        with np.errstate(all="ignore"):
            return self.evaluate_in_errstate(ctx)

    def evaluate_in_errstate(self, ctx: EvalContext) -> np.ndarray:
        """`evaluate` for hot loops that already run under `np.errstate(all="ignore")`."""
        value = self._fn(ctx)
        if self.nullable or self.type == ExprType.NULL:
            return _nullable_column(value, self.type, ctx.size)
        return _column(value, self.type, ctx.size, copy=self._aliases_input)


def compile_expr(checked: Checked) -> Compiled:
    return Compiled(checked)


def _column(value: Value, typ: ExprType, size: int, *, copy: bool) -> np.ndarray:
    dtype = typ.dtype
    if isinstance(value, np.ndarray) and value.ndim == 1:
        if value.shape[0] != size:
            raise RuntimeError(f"expression produced {value.shape[0]} values for {size} rows")
        if value.dtype != dtype:
            return value.astype(dtype)
        return value.copy() if copy else value
    out = np.empty(size, dtype=dtype)
    out[...] = value
    return out


def _nullable_column(value: Value, typ: ExprType, size: int) -> np.ndarray:
    out = np.empty(size, dtype=object)
    out[...] = ops.obj(value)
    if typ in (ExprType.LONG, ExprType.DOUBLE, ExprType.BOOLEAN, ExprType.TIMESTAMP):
        # Branches of one type may hold ints where the type is DOUBLE (or numpy scalars):
        # normalise the non-null items to the Python type of the declared dtype.
        present = ~np.asarray(ops.is_null(out), dtype=bool)
        if present.any():
            out[present] = out[present].astype(typ.dtype).astype(object)
    return out


def _build(node: TNode) -> _Eval:
    if isinstance(node, TConst):
        return _const(node.value)
    if isinstance(node, TName):
        return _name(node)
    if isinstance(node, TApply):
        return _apply(node)
    if isinstance(node, TRandom):
        return _random(node)
    if isinstance(node, TChoice):
        return _choice(node)
    if isinstance(node, TPlugin):
        return _plugin(node)
    raise TypeError(f"cannot compile {node!r}")


def _const(value: Value) -> _Eval:
    def const(ctx: EvalContext) -> Value:
        return value

    return const


def _name(node: TName) -> _Eval:
    name, typ, nullable = node.name, node.type, node.nullable
    dtype = typ.dtype

    def load(ctx: EvalContext) -> Value:
        try:
            value = ctx.columns[name]
        except KeyError:
            raise KeyError(f"no column for {name!r} in the evaluation context") from None
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]  # a 0-d array is a scalar shared by all rows
        if isinstance(value, np.ndarray):
            if value.shape != (ctx.size,):
                raise ValueError(
                    f"column {name!r} has shape {value.shape}, expected ({ctx.size},)"
                )
            if value.dtype == dtype or (nullable and value.dtype == object):
                return value
            return value.astype(dtype)
        if value is None:
            if not nullable:
                raise ValueError(f"column {name!r} is None but {name!r} is not nullable")
            return None
        if typ == ExprType.STRING:
            return str(value)
        return dtype.type(value)

    return load


def _apply(node: TApply) -> _Eval:
    fn = node.fn
    args = [_build(a) for a in node.args]
    if node.needs_ctx and not args:

        def apply_ctx0(ctx: EvalContext) -> Value:
            return fn(ctx)

        return apply_ctx0
    if node.needs_ctx:
        (a,) = args

        def apply_ctx(ctx: EvalContext) -> Value:
            return fn(ctx, a(ctx))

        return apply_ctx
    if len(args) == 1:
        (a,) = args

        def apply1(ctx: EvalContext) -> Value:
            return fn(a(ctx))

        return apply1
    if len(args) == 2:
        a, b = args

        def apply2(ctx: EvalContext) -> Value:
            return fn(a(ctx), b(ctx))

        return apply2

    def apply_n(ctx: EvalContext) -> Value:
        return fn(*[f(ctx) for f in args])

    return apply_n


def _random(node: TRandom) -> _Eval:
    fn, site = node.fn, node.site
    args = [_build(a) for a in node.args]

    def draw(ctx: EvalContext) -> Value:
        return fn(ctx.rng(site), ctx.size, *[f(ctx) for f in args])

    return draw


def _choice(node: TChoice) -> _Eval:
    site, cumulative = node.site, node.cumulative
    dtype = np.dtype(object) if node.nullable else node.type.dtype
    if all(isinstance(o, TConst) for o in node.options):
        table = np.empty(len(node.options), dtype=dtype)
        for i, o in enumerate(node.options):
            assert isinstance(o, TConst)
            table[i] = o.value

        def choose_const(ctx: EvalContext) -> Value:
            return table[randoms.choice_index(ctx.rng(site), ctx.size, cumulative)]

        return choose_const
    options = [_build(o) for o in node.options]

    def choose(ctx: EvalContext) -> Value:
        idx = randoms.choice_index(ctx.rng(site), ctx.size, cumulative)
        out = np.empty(ctx.size, dtype=dtype)
        for k, option in enumerate(options):
            value = option(ctx)
            np.copyto(out, ops.obj(value) if dtype.kind == "O" else value, where=idx == k)
        return out

    return choose


def _plugin(node: TPlugin) -> _Eval:
    captured: FunctionSpec = node.spec
    name, site = captured.name, node.site
    arg_types = [a.type for a in node.args]
    args = [_build(a) for a in node.args]

    def call(ctx: EvalContext) -> Value:
        spec = captured
        if ctx.functions is not None:
            spec = ctx.functions.get(name, captured)
            if (spec.arg_types, spec.return_type) != (captured.arg_types, captured.return_type):
                raise PluginError(
                    f"plugin function {name!r} has a different signature than when the "
                    "expression was checked"
                )
        cols = [_plugin_arg(f(ctx), t, ctx.size) for f, t in zip(args, arg_types, strict=True)]
        lead = [ctx.rng(site)] if site is not None else []
        try:
            out = spec.impl(*lead, *cols)
        except Exception as exc:
            raise PluginError(
                f"plugin function {name!r} failed: {type(exc).__name__}: {exc}"
            ) from exc
        return _plugin_result(name, out, spec.return_type, ctx.size, cols)

    return call


def _plugin_arg(value: Value, typ: ExprType, size: int) -> np.ndarray:
    col = _column(value, typ, size, copy=False)
    view = col.view()
    view.flags.writeable = False  # plugins get columns, not a way to change the caller's data
    return view


_KINDS = {
    ExprType.LONG: "iu",
    ExprType.TIMESTAMP: "iu",
    ExprType.DOUBLE: "f",
    ExprType.BOOLEAN: "b",
    ExprType.STRING: "OUT",
}


def _plugin_result(
    name: str, out: object, typ: ExprType, size: int, inputs: list[np.ndarray]
) -> np.ndarray:
    if not isinstance(out, np.ndarray):
        raise PluginError(
            f"plugin function {name!r} returned {type(out).__name__}, expected a numpy array"
        )
    if out.shape != (size,):
        raise PluginError(
            f"plugin function {name!r} returned shape {out.shape}, expected ({size},)"
        )
    if out.dtype.kind not in _KINDS[typ]:
        raise PluginError(
            f"plugin function {name!r} returned dtype {out.dtype}, expected {typ.dtype} "
            f"for {typ}"
        )
    if out.dtype != typ.dtype or any(np.may_share_memory(out, c) for c in inputs):
        return out.astype(typ.dtype)
    return out
