"""Compile a validated model into what one tick needs: chance tables and compiled expressions."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

from connector.engine.fields import needs_fitting
from connector.engine.fill import Builder, compile_fill
from connector.engine.hooks import MoverHook
from connector.errors import Problem, UserError
from connector.model import expr as ex
from connector.model.avro import FieldSpec
from connector.model.avrotypes import Kind
from connector.model.emits import CheckedEmit, emit_expressions
from connector.model.expr.ast import Name
from connector.model.expr.typed import calls_plugin
from connector.model.expr.valuefns import sequences_of
from connector.model.limits import MAX_ARRIVALS_PER_TICK
from connector.model.spec import SELF, KeyKind
from connector.model.state_checks import check_chances_for_tick
from connector.model.validate import CheckedTransition, ValidatedModel

SESSION_NONE, SESSION_OPEN, SESSION_CLOSE = 0, 1, 2
ONE = 1 << 32  # chances are compared against uint32 draws scaled to 2**32


@attrs.frozen
class CompiledKey:
    """How an emit makes its records' keys (no CompiledKey: the user id)."""

    null: bool = False  # `key: null`
    expression: ex.Compiled | None = None
    record: Builder | None = None  # an Avro record key


@attrs.frozen
class CompiledEmit:
    topic: str
    # (field, expression, share key): fields of one transition with the same key hold the same
    # values (same deterministic expression and field type), so they are evaluated once.
    fields: tuple[tuple[FieldSpec, ex.Compiled, int | None], ...]
    path: str  # the emit's place in the model file, for errors
    fitted: frozenset[str] = frozenset()  # fields whose values fields.fit_field checks
    # Plain string fields that are the user id as text: held as a DecimalTextColumn of the ids.
    id_text: frozenset[str] = frozenset()
    # sequence() names its fields take numbers from, once per call: a silent replay takes them
    # too, so counters continue the same after a restart.
    sequences: tuple[str, ...] = ()
    # Records, arrays, maps, unions, converted scalars (engine/fill.py builds them).
    shaped: tuple[tuple[FieldSpec, Builder], ...] = ()
    key: CompiledKey | None = None
    headers: tuple[tuple[str, ex.Compiled], ...] = ()


@attrs.frozen
class CompiledTransition:
    index: int
    name: str
    target: int  # -1: stay in the source state (`to: self`)
    session: int
    variables: tuple[tuple[str, ex.Compiled], ...]
    condition: ex.Compiled | None
    updates: tuple[tuple[str, ex.Compiled], ...]
    emits: tuple[CompiledEmit, ...]

    row_wise: bool  # no plugin calls: movers of several shards may go through it together
    emits_from_state: bool  # an emitted field reads the state left (from_state, or to_state
    # of a `to: self` transition), so it is kept before the transition writes the new state


@attrs.frozen
class EnginePlan:
    model: ValidatedModel
    tick_ms: int
    state_names: tuple[str, ...]
    state_dtype: type
    initial_states: np.ndarray  # state index per outcome of the initial distribution
    initial_weights: np.ndarray  # cumulative probabilities of that distribution
    arrival_state: int
    attributes: tuple[tuple[str, np.dtype[Any]], ...]
    initial_values: tuple[tuple[str, ex.Compiled], ...]
    transitions: tuple[CompiledTransition, ...]
    base_chance: np.ndarray  # (states, max_out) per-tick probability of each outgoing slot
    slot_transition: np.ndarray  # (states, max_out) transition index, -1 for empty slots
    slot_profile: np.ndarray  # (states, max_out) profile index, -1 for none
    profiles: tuple[tuple[tuple[float, ...], tuple[float, ...], zoneinfo.ZoneInfo], ...]
    timezone: zoneinfo.ZoneInfo
    uses_sessions: bool
    arrivals_per_tick: float
    # Python code run for a transition's movers (hooks.py), by transition index; in-process only.
    hooks: Mapping[int, MoverHook] = attrs.field(factory=dict, eq=False)
    _last_thresholds: list[Any] = attrs.field(factory=list, eq=False, repr=False)
    # The states each transition leaves from, by transition index (derived, once per plan).
    transition_sources: tuple[frozenset[int], ...] = attrs.field(
        init=False, eq=False, repr=False, default=attrs.Factory(
            lambda self: tuple(frozenset(np.flatnonzero((self.slot_transition == i).any(axis=1))
                                         .tolist()) for i in range(len(self.transitions))),
            takes_self=True))

    def thresholds(self, time_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """Cumulative uint32-scaled thresholds (states, max_out) and their totals at this time.

        The last answer is kept: every shard asks for the same tick, and without profiles the
        answer is the same at any time."""
        key = time_ms if self.profiles else None
        cached = self._last_thresholds
        if cached and cached[0] == key:
            hit: tuple[np.ndarray, np.ndarray] = cached[1]
            return hit
        result = self._thresholds(time_ms)
        cached[:] = [key, result]
        return result

    def chances(self, time_ms: int) -> np.ndarray:
        """Per-tick probability of each (state, slot) at this time: the base chance times its
        profile's multiplier for the local hour and weekday, at most 1."""
        chance = self.base_chance
        if self.profiles:
            mult = np.ones_like(chance)
            when = dt.datetime.fromtimestamp(time_ms / 1000, tz=dt.UTC)
            for i, (hours, weekdays, tz) in enumerate(self.profiles):
                local = when.astimezone(tz)
                mult[self.slot_profile == i] = hours[local.hour] * weekdays[local.weekday()]
            chance = np.minimum(chance * mult, 1.0)
        return chance

    def _thresholds(self, time_ms: int) -> tuple[np.ndarray, np.ndarray]:
        chance = self.chances(time_ms)
        cum = np.rint(np.cumsum(chance, axis=1) * ONE).astype(np.int64)
        np.minimum(cum, ONE, out=cum)
        # Empty slots must never be chosen: push them past any draw.
        cum[self.slot_transition < 0] = ONE + 1
        totals = np.where(self.slot_transition >= 0, cum, 0).max(axis=1)
        return cum, totals


def with_hooks(plan: EnginePlan, hooks: Mapping[str, MoverHook]) -> EnginePlan:
    """The plan with `hooks` attached to the transitions of those names."""
    index = {t.name: t.index for t in plan.transitions}
    unknown = sorted(set(hooks) - set(index))
    if unknown:
        raise ValueError(f"hooks for unknown transitions: {', '.join(unknown)}")
    return attrs.evolve(plan, hooks={index[name]: hook for name, hook in hooks.items()},
                        last_thresholds=[])


def build_plan(model: ValidatedModel, tick_ms: int) -> EnginePlan:
    """Tables for one connector's tick length; raises UserError if chances exceed 100 %."""
    spec = model.spec
    over = check_chances_for_tick(spec, tick_ms)
    if over:
        raise UserError([Problem(m, file=spec.file, path="transitions") for m in over])
    arrivals = spec.population.arrivals_per_ms * tick_ms
    if arrivals > MAX_ARRIVALS_PER_TICK:
        raise UserError([Problem(f"{arrivals:.3g} users arrive per tick of {tick_ms} ms; at "
                                 f"most {MAX_ARRIVALS_PER_TICK:,} can", file=spec.file,
                                 path="population.arrivals")])
    states = spec.states
    index = {s: i for i, s in enumerate(states)}
    profile_index = {p.name: i for i, p in enumerate(spec.profiles)}
    outgoing: list[list[int]] = [[] for _ in states]
    for i, t in enumerate(spec.transitions):
        for source in t.sources:
            outgoing[index[source]].append(i)
    max_out = max(1, *(len(o) for o in outgoing)) if states else 1
    base = np.zeros((len(states), max_out))
    slot_t = np.full((len(states), max_out), -1, dtype=np.int32)
    slot_p = np.full((len(states), max_out), -1, dtype=np.int32)
    for s, trans in enumerate(outgoing):
        for j, ti in enumerate(trans):
            t = spec.transitions[ti]
            base[s, j] = t.chance_per_tick(tick_ms)
            slot_t[s, j] = ti
            slot_p[s, j] = profile_index[t.profile] if t.profile else -1
    weights = np.array([w for _, w in spec.initial], dtype=np.float64)
    return EnginePlan(
        model=model,
        tick_ms=tick_ms,
        state_names=states,
        state_dtype=np.int8 if len(states) < 127 else np.int16 if len(states) < 32767 else np.int32,
        initial_states=np.array([index[s] for s, _ in spec.initial], dtype=np.int32),
        initial_weights=np.cumsum(weights) / weights.sum(),
        arrival_state=index[spec.population.arrival_state],
        attributes=tuple((a.name, a.type.dtype) for a in spec.attributes),
        initial_values=tuple((n, ex.compile_expr(c)) for n, c in model.initial_values),
        transitions=tuple(_compile_transition(i, t, index)
                          for i, t in enumerate(model.transitions)),
        base_chance=base,
        slot_transition=slot_t,
        slot_profile=slot_p,
        profiles=tuple((p.hours, p.weekdays, zoneinfo.ZoneInfo(p.timezone)) for p in spec.profiles),
        timezone=zoneinfo.ZoneInfo(spec.timezone),
        uses_sessions=any(t.session for t in spec.transitions),
        arrivals_per_tick=spec.population.arrivals_per_ms * tick_ms,
    )


def _compile_transition(i: int, t: CheckedTransition, index: dict[str, int]
                        ) -> CompiledTransition:
    session = {None: SESSION_NONE, "open": SESSION_OPEN, "close": SESSION_CLOSE}[t.spec.session]
    keys: dict[object, int] = {}
    checked = [c for _, c in t.variables] + [c for _, _, c in t.updates] + \
        [c for e in t.emits for c in emit_expressions(e)] + ([t.condition] if t.condition else [])
    return CompiledTransition(
        index=i,
        name=t.spec.name,
        target=-1 if t.spec.target == SELF else index[t.spec.target],
        session=session,
        variables=tuple((n, ex.compile_expr(c)) for n, c in t.variables),
        condition=ex.compile_expr(t.condition) if t.condition is not None else None,
        updates=tuple((a, ex.compile_expr(c)) for a, _, c in t.updates),
        emits=tuple(_compile_emit(e, spec.path, keys)
                    for e, spec in zip(t.emits, t.spec.emits, strict=True)),
        row_wise=not any(calls_plugin(c.tree) for c in checked),
        emits_from_state=bool({"from_state", "to_state"} & {
            name for e in t.emits for _, c in e.fields for name in ex.names_used(c.node)}),
    )


def _compile_emit(e: CheckedEmit, path: str, keys: dict[object, int]) -> CompiledEmit:
    key = None
    if e.key is not None:
        key = CompiledKey(null=e.key.kind is KeyKind.NULL,
                          expression=ex.compile_expr(e.key.expression)
                          if e.key.expression is not None else None,
                          record=compile_fill(e.key.record) if e.key.record else None)
    return CompiledEmit(
        e.topic,
        tuple((f, ex.compile_expr(c), _share_key(keys, f, c)) for f, c in e.fields),
        path,
        fitted=frozenset(f.name for f, c in e.fields if needs_fitting(f, c)),
        id_text=frozenset(f.name for f, c in e.fields if _is_id_text(f, c)),
        sequences=tuple(n for c in emit_expressions(e) for n in sequences_of(c.tree)),
        shaped=tuple((f, compile_fill(fill)) for f, fill in e.shaped),
        key=key,
        headers=tuple((name, ex.compile_expr(c)) for name, c in e.headers),
    )


def _is_id_text(f: FieldSpec, checked: ex.Checked) -> bool:
    """Whether a field is exactly `user_key` (the default of a string `user_id`) in a plain
    string: its text is the ids' decimal digits, which encoders write without a `str` each."""
    node = checked.node
    return (isinstance(node, Name) and node.name == "user_key" and not f.nullable
            and f.type.kind is Kind.STRING and f.logical_type is None
            and not needs_fitting(f, checked))


def _share_key(keys: dict[object, int], f: FieldSpec, checked: ex.Checked) -> int | None:
    """Same key for the same deterministic expression into the same field type; None if random
    or taking sequence numbers (each call takes its own)."""
    if checked.sites or sequences_of(checked.tree):
        return None
    return keys.setdefault((checked.node, f.value_type, f.nullable), len(keys))
