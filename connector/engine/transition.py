"""One transition taken by a set of rows in one tick: condition, hook, updates, sessions, events.

The rows may span several shards (see rows.py); every random draw and every result is per
shard, so the outcome for a shard is the same as if it were stepped alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

import attrs
import numpy as np

from connector.core.batch import EventColumns, Moves
from connector.core.columns import Column, DecimalTextColumn
from connector.core.types import ValueType
from connector.engine import rng
from connector.engine.errors import TransitionValueError
from connector.engine.fields import fit_field
from connector.engine.fill import Overlay, ScalarBuilder, Scope
from connector.engine.hooks import Movers, run_hook
from connector.engine.plan import (
    SESSION_CLOSE,
    SESSION_OPEN,
    CompiledEmit,
    CompiledTransition,
    EnginePlan,
)
from connector.engine.rows import ShardRows, session_ids
from connector.model import expr as ex
from connector.model.avro import FieldSpec
from connector.model.expr.ast import Name

if TYPE_CHECKING:
    from connector.engine.shard import ShardEngine


class LazyColumns(Mapping[str, object]):
    """Names visible to expressions for a set of rows, gathered only when an expression asks."""

    def __init__(self, rows: ShardRows, fixed: dict[str, object]) -> None:
        self._rows = rows
        self._values: dict[str, object] = dict(fixed)

    def __getitem__(self, name: str) -> object:
        if name not in self._values:
            self._values[name] = self._rows.gather(name)
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def set(self, name: str, value: object) -> None:
        self._values[name] = value


def apply_transition(t: CompiledTransition, rows: ShardRows, tick: int, time_ms: int,
                     build_events: bool, events: list[EventColumns], moves: list[Moves]) -> None:
    """Apply `t` to `rows`; the users that took it go to `moves`, their events (when building
    them) to `events`, one set of columns per emit for all the shards (grouped by shard)."""
    engine = rows.engines[0]
    plan = engine.plan
    times: np.ndarray | int = time_ms
    if plan.model.spec.jitter:
        times = time_ms + rows.stream(rng.JITTER, tick, t.index).integers(
            0, plan.tick_ms, size=rows.size, dtype=np.int64)
    fixed: dict[str, object] = {"tick": tick, "time": times, "transition": t.name}
    if t.target >= 0:
        fixed["to_state"] = plan.state_names[t.target]
    cols = LazyColumns(rows, fixed)
    ctx = _context(rows, cols, tick)
    variables: dict[str, np.ndarray] = {}
    for name, compiled in t.variables:
        variables[name] = compiled.evaluate_in_errstate(ctx)
        cols.set(name, variables[name])
    checks: list[Callable[[], np.ndarray | None]] = []
    if t.condition is not None:
        condition = t.condition
        checks.append(lambda: np.asarray(condition.evaluate_in_errstate(ctx), dtype=bool))
    hook = plan.hooks.get(t.index)
    if hook is not None:
        checks.append(lambda: run_hook(hook, Movers(t.name, tick, time_ms, rows.user_ids())))
    for check in checks:  # the condition first: a hook sees only the users it let through
        allowed = check()
        if allowed is None or allowed.all():
            continue
        rows = rows.keep(allowed)
        if not rows.size:
            return
        variables = {k: v[allowed] for k, v in variables.items()}
        if not isinstance(times, int):
            times = times[allowed]
        fixed["time"] = times
        cols = LazyColumns(rows, {**fixed, **variables})
        ctx = _context(rows, cols, tick)
    # Updates see pre-transition values: evaluate all, then write.
    new_values = [(name, compiled.evaluate_in_errstate(ctx)) for name, compiled in t.updates]
    left = rows.gather("state") if t.emits_from_state and build_events else None
    closing = _write(t, rows, new_values)
    user_ids = rows.user_ids()
    shards = tuple(e.shard for e in rows.engines)
    bounds = tuple(rows.bounds) if len(shards) > 1 else ()
    moves.append(Moves(t.name, user_ids, shards, bounds))
    if not build_events:
        for emit in t.emits:  # a silent replay still hands out what the fields would take
            for name in emit.sequences:
                rows.sequence(name, rows.size)
        return
    if not t.emits:
        return
    count = rows.size
    timestamps = (np.full(count, times, dtype=np.int64) if isinstance(times, int)
                  else times.astype(np.int64))
    # Columns rather than scalars, so record fields that are bare names need no evaluation.
    names = np.empty(count, dtype=object)
    names.fill(t.name)  # np.full would convert t.name to a new str per row
    after = LazyColumns(rows, {**fixed, **variables, "time": timestamps, "user_id": user_ids,
                            "transition": names})
    attributes = engine.population.attributes
    for name, values in new_values:  # just written: gathering them again would read the same
        if name not in variables and values.dtype == attributes[name].dtype:
            after.set(name, values)
    if closing is not None:
        after.set("session_id", session_ids(user_ids, closing))
    if left is not None:
        after.set("from_state", left)
        if t.target < 0:
            after.set("to_state", left)
    ctx = _context(rows, after, tick)
    # Emits of one transition often share fields (user id, time, balance): evaluate each
    # distinct expression once, unless it draws random numbers (each draw is its own site).
    shared: dict[int, np.ndarray] = {}
    scope = Scope(count, after, rows.bounds,
                  lambda site, bounds: rows.stream(rng.SITE, tick, site, bounds), plan.timezone,
                  rows.sequence)
    id_texts: Column | None = None  # the same for every emit of the transition
    for emit in t.emits:
        fields: dict[str, Column] = {}
        raw: dict[str, np.ndarray] = {}  # scalar fields as evaluated, for the key and headers
        extras = emit.key is not None or bool(emit.headers)
        for f, compiled, key in emit.fields:
            if f.name in emit.id_text:  # the ids' text, written by the encoders from the ids
                if id_texts is None:
                    id_texts = DecimalTextColumn(user_ids)
                fields[f.name] = id_texts
                if extras:
                    raw[f.name] = _evaluate(compiled, after, ctx)
                continue
            scalar = shared.get(key) if key is not None else None
            if scalar is None:
                assert f.value_type is not None  # validation fills scalar fields only
                scalar = _as_field(_evaluate(compiled, after, ctx), f.value_type, f.nullable)
                if key is not None:
                    shared[key] = scalar
            if f.name in emit.fitted:
                scalar = _fit(scalar, f, t, emit, plan)
            fields[f.name] = scalar
            if extras:
                raw[f.name] = scalar
        for f, build in emit.shaped:
            try:
                if isinstance(build, ScalarBuilder):
                    raw[f.name] = build.raw(scope)
                    column = build.column(raw[f.name])
                else:
                    column = build(scope)
            except ValueError as exc:  # a value its type cannot hold (decimals, timestamps)
                raise TransitionValueError(str(exc), transition=t.name, file=plan.model.spec.file,
                                           path=emit.path, topic=emit.topic, field=f.name) from None
            fields[f.name] = column
        keys, headers = _keys_and_headers(emit, attrs.evolve(scope, columns=Overlay(
            after, raw))) if extras else (None, ())
        events.append(EventColumns(emit.topic, t.name, user_ids, timestamps, fields, keys,
                                   headers, shards, bounds))


def _keys_and_headers(emit: CompiledEmit, scope: Scope
                      ) -> tuple[Column | None, tuple[tuple[str, np.ndarray], ...]]:
    """The emit's key column (None: the user id) and header columns."""
    keys: Column | None = None
    key = emit.key
    if key is not None:
        if key.expression is not None:
            keys = key.expression.evaluate_in_errstate(scope.context())
        elif key.record is not None:
            keys = key.record(scope)
        else:  # key: null
            keys = np.full(scope.size, None, dtype=object)
    headers = tuple((name, compiled.evaluate_in_errstate(scope.context()))
                    for name, compiled in emit.headers)
    return keys, headers


def _write(t: CompiledTransition, rows: ShardRows,
           new_values: list[tuple[str, np.ndarray]]) -> np.ndarray | None:
    """Write updates, the target state and session changes; returns the numbers of the sessions
    this transition closes (None if it closes none)."""
    closing: list[np.ndarray] = []

    def write(engine: ShardEngine, mine: np.ndarray, part: slice) -> None:
        pop = engine.population
        for name, values in new_values:
            pop.attributes[name][mine] = values[part]
        if t.target >= 0:
            engine.set_state(mine, t.target, t.index)
        if t.session == SESSION_OPEN and pop.session is not None and \
                pop.session_count is not None:
            pop.session_count[mine] += 1
            pop.session[mine] = pop.session_count[mine]
        elif t.session == SESSION_CLOSE and pop.session is not None:
            closing.append(pop.session[mine].copy())
            pop.session[mine] = 0

    rows.scatter(write)
    return rows.concat(closing) if closing else None


def _fit(values: np.ndarray, f: FieldSpec, t: CompiledTransition, emit: CompiledEmit,
         plan: EnginePlan) -> np.ndarray:
    try:
        return fit_field(values, f)
    except ValueError as exc:
        raise TransitionValueError(str(exc), transition=t.name, file=plan.model.spec.file,
                                   path=emit.path, topic=emit.topic, field=f.name) from None


def _context(rows: ShardRows, columns: Mapping[str, object], tick: int) -> ex.EvalContext:
    return ex.EvalContext(size=rows.size, columns=columns,
                          rng=lambda site: rows.stream(rng.SITE, tick, site),
                          tz=rows.engines[0].plan.timezone, sequence=rows.sequence)


def _evaluate(compiled: ex.Compiled, columns: LazyColumns, ctx: ex.EvalContext) -> np.ndarray:
    """Evaluate, taking a bare name's column directly (most record fields are bare names)."""
    node = compiled.checked.node
    if isinstance(node, Name) and not compiled.nullable:
        value = columns[node.name]
        if isinstance(value, np.ndarray) and value.dtype == compiled.type.dtype:
            return value
    return compiled.evaluate_in_errstate(ctx)


def _as_field(values: np.ndarray, value_type: ValueType, nullable: bool) -> np.ndarray:
    """Cast an evaluated column to the dtype the encoder expects for the Avro field."""
    dtype = value_type.dtype
    if values.dtype == object and (nullable or dtype.kind == "O"):
        return values
    return values.astype(dtype, copy=False)
