"""One shard stepping through ticks: the vectorised hot path of the whole product.

Per tick: one uint32 draw per user picks "stay" or one outgoing transition (cumulative chances,
time profiles applied); only users that moved get per-transition work, done as column operations.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from connector.engine import rng
from connector.engine.batch import EventColumns, TickBatch
from connector.engine.identity import run_fingerprint
from connector.engine.plan import (
    FIELD_DTYPES,
    ONE,
    SESSION_CLOSE,
    SESSION_OPEN,
    CompiledTransition,
    EnginePlan,
)
from connector.engine.population import Population
from connector.engine.settings import SimulationSettings
from connector.model import expr as ex
from connector.model.expr.ast import Name


class _Columns(Mapping[str, object]):
    """Names visible to expressions for a set of rows, gathered only when an expression asks."""

    def __init__(self, shard: ShardEngine, rows: np.ndarray, fixed: dict[str, object]) -> None:
        self._shard = shard
        self._rows = rows
        self._values: dict[str, object] = dict(fixed)

    def __getitem__(self, name: str) -> object:
        if name not in self._values:
            self._values[name] = self._shard.gather(name, self._rows)
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def set(self, name: str, value: object) -> None:
        self._values[name] = value


class ShardEngine:
    """State and stepping of one shard; `tick` is the next tick to simulate."""

    def __init__(self, plan: EnginePlan, settings: SimulationSettings, shard: int) -> None:
        self.plan = plan
        self.settings = settings
        self.shard = shard
        self.tick = 0
        self._dominant = -1  # most populous state, refreshed now and then (speed only)
        self._fingerprint = run_fingerprint(plan.model, settings)
        n = settings.initial_users(shard)
        self.population = Population(plan.state_dtype, plan.attributes, plan.uses_sessions, n)
        self._create(n, tick=-1, state=None)

    # -- identity -------------------------------------------------------------------------
    def user_ids(self, rows: np.ndarray) -> np.ndarray:
        return (self.shard + self.settings.shards * rows.astype(np.int64)).astype(np.int64)

    def gather(self, name: str, rows: np.ndarray) -> object:
        pop = self.population
        if name in pop.attributes:
            return pop.attributes[name][rows]
        if name == "user_id":
            return self.user_ids(rows)
        if name == "state":
            return np.asarray(self.plan.state_names, dtype=object)[pop.state[rows]]
        if name == "session_id":
            return self._session_ids(rows, None)
        if name == "user_key":
            return np.array([str(u) for u in self.user_ids(rows).tolist()], dtype=object)
        raise KeyError(name)

    def _session_ids(self, rows: np.ndarray, numbers: np.ndarray | None) -> np.ndarray:
        """`"<user>-<n>"` for the given session numbers (default: the open one), None if none."""
        pop = self.population
        if pop.session is None:
            return np.full(rows.shape[0], None, dtype=object)
        if numbers is None:
            numbers = pop.session[rows]
        users = self.user_ids(rows)
        out = np.full(rows.shape[0], None, dtype=object)
        has = numbers > 0
        if has.any():
            text = np.char.add(np.char.add(users[has].astype(str), "-"), numbers[has].astype(str))
            out[has] = text.astype(object)
        return out

    # -- stepping -------------------------------------------------------------------------
    def step(self, build_events: bool = True) -> TickBatch:
        """Simulate tick `self.tick` and advance; `build_events=False` replays silently."""
        # One error-state context per step rather than one per expression evaluated in it.
        with np.errstate(all="ignore"):
            return self._step(build_events)

    def _step(self, build_events: bool) -> TickBatch:
        plan, settings, pop = self.plan, self.settings, self.population
        tick = self.tick
        time_ms = settings.tick_time_ms(tick)
        cum, totals = plan.thresholds(time_ms)
        n = pop.size
        draws = rng.uniform_u32(rng.stream(settings.seed, self.shard, rng.STEP, tick), n)
        states = pop.state[:n]
        if tick % 32 == 0 or self._dominant < 0:
            self._dominant = int(np.argmax(np.bincount(states, minlength=len(totals))))
        moved = _movers(draws, states, totals, self._dominant)
        events: list[EventColumns] = []
        if moved.size:
            moved_states = states[moved]
            slot = (draws[moved][:, None] >= cum[moved_states]).sum(axis=1)
            chosen = plan.slot_transition[moved_states, slot]
            order = np.argsort(chosen, kind="stable")
            chosen_sorted = chosen[order]
            bounds = np.flatnonzero(np.diff(chosen_sorted)) + 1
            for group in np.split(order, bounds):
                transition = plan.transitions[int(chosen[group[0]])]
                self._apply(transition, moved[group], tick, time_ms, build_events, events)
        self._arrivals(tick)
        self.tick = tick + 1
        return TickBatch(self.shard, tick, tuple(events))

    def _times(self, transition: CompiledTransition, tick: int, time_ms: int,
               count: int) -> np.ndarray | int:
        if not self.plan.model.spec.jitter:
            return time_ms
        gen = rng.stream(self.settings.seed, self.shard, rng.JITTER, tick, transition.index)
        return time_ms + gen.integers(0, self.plan.tick_ms, size=count, dtype=np.int64)

    def _context(self, columns: Mapping[str, object], size: int, tick: int) -> ex.EvalContext:
        seed, shard = self.settings.seed, self.shard
        return ex.EvalContext(
            size=size, columns=columns,
            rng=lambda site: rng.stream(seed, shard, rng.SITE, tick, site),
            tz=self.plan.timezone)

    def _apply(self, t: CompiledTransition, rows: np.ndarray, tick: int, time_ms: int,
               build_events: bool, events: list[EventColumns]) -> None:
        pop = self.population
        times = self._times(t, tick, time_ms, rows.shape[0])
        fixed: dict[str, object] = {"tick": tick, "time": times, "transition": t.name}
        cols = _Columns(self, rows, fixed)
        ctx = self._context(cols, rows.shape[0], tick)
        variables: dict[str, np.ndarray] = {}
        for name, compiled in t.variables:
            variables[name] = compiled.evaluate_in_errstate(ctx)
            cols.set(name, variables[name])
        if t.condition is not None:
            allowed = np.asarray(t.condition.evaluate_in_errstate(ctx), dtype=bool)
            if not allowed.all():
                rows = rows[allowed]
                if not rows.size:
                    return
                variables = {k: v[allowed] for k, v in variables.items()}
                if not isinstance(times, int):
                    times = times[allowed]
                fixed["time"] = times
                cols = _Columns(self, rows, {**fixed, **variables})
                ctx = self._context(cols, rows.shape[0], tick)
        # Updates see pre-transition values: evaluate all, then write.
        new_values = [(name, compiled.evaluate_in_errstate(ctx)) for name, compiled in t.updates]
        for name, values in new_values:
            pop.attributes[name][rows] = values
        if t.target >= 0:
            pop.state[rows] = t.target
        closing = None
        if t.session == SESSION_OPEN and pop.session is not None and pop.session_count is not None:
            pop.session_count[rows] += 1
            pop.session[rows] = pop.session_count[rows]
        elif t.session == SESSION_CLOSE and pop.session is not None:
            closing = pop.session[rows].copy()
            pop.session[rows] = 0
        if not build_events or not t.emits:
            return
        count = rows.shape[0]
        timestamps = (np.full(count, times, dtype=np.int64) if isinstance(times, int)
                      else times.astype(np.int64))
        # Columns rather than scalars, so record fields that are bare names need no evaluation.
        after = _Columns(self, rows, {**fixed, **variables, "time": timestamps,
                                      "transition": np.full(count, t.name, dtype=object)})
        if closing is not None:
            after.set("session_id", self._session_ids(rows, closing))
        ctx = self._context(after, rows.shape[0], tick)
        user_ids = self.user_ids(rows)
        after.set("user_id", user_ids)
        # Emits of one transition often share fields (user id, time, balance): evaluate each
        # distinct expression once, unless it draws random numbers (each draw is its own site).
        shared: dict[int, np.ndarray] = {}
        for emit in t.emits:
            fields = {}
            for f, compiled, key in emit.fields:
                cached = shared.get(key) if key is not None else None
                if cached is not None:
                    values = cached
                else:
                    values = _as_field(_evaluate(compiled, after, ctx), f.value_type, f.nullable)
                    if key is not None:
                        shared[key] = values
                fields[f.name] = values
            events.append(EventColumns(emit.topic, t.name, user_ids, timestamps, fields))

    def _arrivals(self, tick: int) -> None:
        rate = self.plan.arrivals_per_tick / self.settings.shards
        if rate <= 0:
            return
        gen = rng.stream(self.settings.seed, self.shard, rng.ARRIVALS, tick)
        count = int(gen.poisson(rate))
        if count:
            self._create(count, tick=tick, state=self.plan.arrival_state)

    def _create(self, count: int, tick: int, state: int | None) -> None:
        """Append `count` users with initial states and attribute values drawn for this tick."""
        pop, settings, plan = self.population, self.settings, self.plan
        rows_slice = pop.grow(count)
        if count == 0:
            return
        rows = np.arange(rows_slice.start, rows_slice.stop)
        if state is None:
            gen = rng.stream(settings.seed, self.shard, rng.CREATE, tick, 0)
            pick = np.searchsorted(plan.initial_weights, gen.random(count), side="right")
            pick = np.minimum(pick, len(plan.initial_states) - 1)
            pop.state[rows_slice] = plan.initial_states[pick]
        else:
            pop.state[rows_slice] = state
        fixed: dict[str, object] = {"tick": max(tick, 0), "user_id": self.user_ids(rows),
                                    "time": settings.tick_time_ms(max(tick, 0))}
        cols = _Columns(self, rows, fixed)
        seed, shard = settings.seed, self.shard
        ctx = ex.EvalContext(size=count, columns=cols,
                             rng=lambda site: rng.stream(seed, shard, rng.CREATE, tick, site + 1),
                             tz=plan.timezone)
        with np.errstate(all="ignore"):  # also called outside step(), at start-up
            for name, compiled in plan.initial_values:
                pop.attributes[name][rows_slice] = compiled.evaluate_in_errstate(ctx)

    # -- snapshots ------------------------------------------------------------------------
    def snapshot(self) -> bytes:
        """The shard's whole state; `restore` of it continues with byte-identical output."""
        return self.population.to_bytes({"tick": self.tick, "shard": self.shard,
                                         "fingerprint": self.fingerprint()})

    def restore(self, data: bytes) -> None:
        meta = self.population.load_bytes(data)
        if meta.get("shard") != self.shard or meta.get("fingerprint") != self.fingerprint():
            raise ValueError(f"snapshot belongs to shard {meta.get('shard')} of another run")
        tick = meta["tick"]
        assert isinstance(tick, int)
        self.tick = tick

    def fingerprint(self) -> str:
        """Identifies (model, settings) so a snapshot is never restored into another run."""
        return self._fingerprint


def _evaluate(compiled: ex.Compiled, columns: _Columns, ctx: ex.EvalContext) -> np.ndarray:
    """Evaluate, taking a bare name's column directly (most record fields are bare names)."""
    node = compiled.checked.node
    if isinstance(node, Name) and not compiled.nullable:
        value = columns[node.name]
        if isinstance(value, np.ndarray) and value.dtype == compiled.type.dtype:
            return value
    return compiled.evaluate_in_errstate(ctx)


def _movers(draws: np.ndarray, states: np.ndarray, totals: np.ndarray,
            dominant: int) -> np.ndarray:
    """Rows whose draw falls under their state's total chance (i.e. that take a transition).

    Exact for any `dominant`; choosing the most populous state makes it cheap: one pass compares
    every draw with that state's total, and only users in other states need a gather.
    """
    total = int(totals[dominant])
    if total >= ONE:  # 100 %: every user in the dominant state moves
        candidates = np.flatnonzero(states == dominant)
    elif total > 0:
        candidates = np.flatnonzero(draws < np.uint32(total))
        candidates = candidates[states[candidates] == dominant]
    else:
        candidates = np.empty(0, dtype=np.intp)
    others = np.flatnonzero(states != dominant)
    if others.size:
        others = others[draws[others] < np.take(totals, states[others])]
        if others.size:
            return np.sort(np.concatenate((candidates, others)))
    return candidates


def _as_field(values: np.ndarray, value_type: str, nullable: bool) -> np.ndarray:
    """Cast an evaluated column to the dtype the encoder expects for the Avro field."""
    dtype = FIELD_DTYPES[value_type]
    if values.dtype == object and (nullable or dtype is object):
        return values
    return values.astype(dtype, copy=False)
