"""Shards stepping through ticks: the vectorised hot path of the whole product.

Per tick each user stays or takes one outgoing transition of its state (cumulative chances,
time profiles applied); movers.py samples who moves with work in proportion to the movers. Only
users that moved get per-transition work, done as column operations over the movers of all the
shards stepped together (transition.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from connector.core.batch import EventColumns, Moves, TickBatch
from connector.engine import rng
from connector.engine.errors import TransitionValueError
from connector.engine.identity import run_fingerprint
from connector.engine.movers import by_transition, most_populous, pick_movers
from connector.engine.plan import EnginePlan
from connector.engine.population import Population
from connector.engine.rows import ShardRows, user_ids_of
from connector.engine.settings import SimulationSettings
from connector.engine.transition import LazyColumns, apply_transition
from connector.model import expr as ex
from connector.model.expr.errors import ValueLimitError

# The dominant state is recounted this often (its choice decides which numbers are drawn).
DOMINANT_REFRESH_TICKS = 32


class ShardEngine:
    """State and stepping of one shard; `tick` is the next tick to simulate."""

    def __init__(self, plan: EnginePlan, settings: SimulationSettings, shard: int) -> None:
        self.plan = plan
        self.settings = settings
        self.shard = shard
        self.tick = 0
        self._dominant = -1  # most populous state (movers.py), refreshed every few ticks
        # The rows in other states, kept up to date from the state writes rather than found by
        # a scan of all rows each tick: as of the last pick (None: unknown, scan), plus the
        # rows that left the dominant state since.
        self._others: np.ndarray | None = None
        self._entered: list[np.ndarray] = []
        self.sequences: dict[str, int] = {}  # sequence(name): how many numbers were handed out
        self._fingerprint = run_fingerprint(plan.model, settings)
        self._state_names = np.asarray(plan.state_names, dtype=object)
        n = settings.initial_users(shard)
        self.population = Population(plan.state_dtype, plan.attributes, plan.uses_sessions, n)
        self._create(n, tick=-1, state=None)

    # -- identity -------------------------------------------------------------------------
    def user_ids(self, rows: np.ndarray) -> np.ndarray:
        return user_ids_of(self.shard, self.settings.shards, rows)

    def column(self, name: str, rows: np.ndarray) -> np.ndarray:
        """An attribute or `state` (as names) of these rows; names derived from the user id are
        built by ShardRows."""
        pop = self.population
        values: np.ndarray
        if name in pop.attributes:
            values = pop.attributes[name][rows]
        elif name == "state":
            values = self._state_names[pop.state[rows]]
        else:
            raise KeyError(name)
        return values

    def take_sequence(self, name: str, count: int) -> np.ndarray:
        """The next `count` numbers of sequence `name`: gap-free per shard (k = 0, 1, 2, ...
        as handed out) and unique across shards, as user ids are: shard + shards * k."""
        k = self.sequences.get(name, 0)
        self.sequences[name] = k + count
        return self.shard + self.settings.shards * np.arange(k, k + count, dtype=np.int64)

    def open_sessions(self, rows: np.ndarray) -> np.ndarray:
        """The number of each row's open session, 0 where none is open."""
        session = self.population.session
        return np.zeros(rows.shape[0], dtype=np.int32) if session is None else session[rows]

    # -- stepping -------------------------------------------------------------------------
    def step(self, build_events: bool = True) -> TickBatch:
        """Simulate tick `self.tick` and advance; `build_events=False` replays silently."""
        return step_shards([self], build_events)[0]

    def pick_movers(self, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """This tick's movers: (rows, their states, their draws u), see movers.py."""
        states = self.population.state[:self.population.size]
        if self.tick % DOMINANT_REFRESH_TICKS == 0 or self._dominant < 0:
            dominant = most_populous(states, len(totals))
            if dominant != self._dominant:
                self._dominant, self._others = dominant, None
        others = self._others_now(states)
        gen = rng.stream(self.settings.seed, self.shard, rng.STEP, self.tick)
        moved, draws = pick_movers(gen, states, totals, self._dominant, ordered=False,
                                   others=others)
        return moved, states[moved], draws

    def _others_now(self, states: np.ndarray) -> np.ndarray:
        """The rows not in the dominant state, ascending (as np.flatnonzero would find them)."""
        others = self._others
        if others is None:
            others = np.flatnonzero(states != self._dominant)
        else:
            others = others[states[others] != self._dominant]  # those that went back
            if self._entered:
                others = np.sort(np.concatenate([others, *self._entered]))
        self._others, self._entered = others, []
        return others

    def set_state(self, rows: np.ndarray, state: int, transition: int) -> None:
        """Move these rows, all taking `transition`, to `state` (noting those that leave the
        dominant state: a row moves once per tick, so they were in it at the last pick)."""
        if self._others is not None and state != self._dominant:
            sources = self.plan.transition_sources[transition]
            if self._dominant in sources:
                self._entered.append(rows if len(sources) == 1 else
                                     rows[self.population.state[rows] == self._dominant])
        self.population.state[rows] = state

    def arrive(self, tick: int) -> None:
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
        if self._others is not None:
            self._entered.append(rows[pop.state[rows_slice] != self._dominant])
        fixed: dict[str, object] = {"tick": max(tick, 0), "user_id": self.user_ids(rows),
                                    "time": settings.tick_time_ms(max(tick, 0))}
        created = ShardRows([self], [rows])
        cols = LazyColumns(created, fixed)
        seed, shard = settings.seed, self.shard
        ctx = ex.EvalContext(size=count, columns=cols,
                             rng=lambda site: rng.stream(seed, shard, rng.CREATE, tick, site + 1),
                             tz=plan.timezone, sequence=created.sequence)
        with np.errstate(all="ignore"):  # also called outside step(), at start-up
            for name, compiled in plan.initial_values:
                pop.attributes[name][rows_slice] = compiled.evaluate_in_errstate(ctx)

    # -- snapshots ------------------------------------------------------------------------
    def snapshot(self) -> bytes:
        """The shard's whole state; `restore` of it continues with byte-identical output."""
        return self.population.to_bytes({"tick": self.tick, "shard": self.shard,
                                         "dominant": self._dominant,
                                         "fingerprint": self.fingerprint(),
                                         "sequences": self.sequences})

    def restore(self, data: bytes) -> None:
        meta = self.population.load_bytes(data)
        if meta.get("shard") != self.shard or meta.get("fingerprint") != self.fingerprint():
            raise ValueError(f"snapshot belongs to shard {meta.get('shard')} of another run")
        tick, dominant = meta["tick"], meta.get("dominant", -1)
        sequences = meta.get("sequences", {})
        assert isinstance(tick, int) and isinstance(dominant, int)
        assert isinstance(sequences, dict)
        self.tick, self._dominant = tick, dominant
        self._others, self._entered = None, []
        self.sequences = {str(k): int(v) for k, v in sequences.items()}

    def fingerprint(self) -> str:
        """Identifies (model, settings) so a snapshot is never restored into another run."""
        return self._fingerprint


def step_shards(engines: Sequence[ShardEngine], build_events: bool = True) -> list[TickBatch]:
    """Simulate one tick of shards that are all at that tick: one TickBatch for them all (none
    without shards) whose rows of each shard (`TickBatch.of_shard`) are the same as stepping
    that shard alone. Each transition is applied once over the movers of all the shards (its
    Python cost paid once) and emits one set of columns for them, except those calling plugin
    functions: a plugin sees whole columns, so it only ever gets one shard's rows."""
    if not engines:
        return []
    plan, settings, tick = engines[0].plan, engines[0].settings, engines[0].tick
    if any(e.tick != tick or e.plan is not plan or
           (e.settings is not settings and e.settings != settings) for e in engines):
        raise ValueError("step_shards needs shards of one run at the same tick")
    time_ms = settings.tick_time_ms(tick)
    events: list[EventColumns] = []
    moves: list[Moves] = []
    # One error-state context per step rather than one per expression evaluated in it.
    with np.errstate(all="ignore"):
        cum, totals = plan.thresholds(time_ms)
        picked = [engine.pick_movers(totals) for engine in engines]
        for index, parts in by_transition(cum, plan.slot_transition, picked):
            t = plan.transitions[index]
            groups = [parts] if t.row_wise else [[p] for p in parts]
            for group in groups:
                together = ShardRows([engines[k] for k, _ in group], [r for _, r in group])
                try:
                    apply_transition(t, together, tick, time_ms, build_events, events, moves)
                except ValueLimitError as exc:
                    spec = plan.model.spec
                    raise TransitionValueError(str(exc), transition=t.name, file=spec.file,
                                               path=spec.transitions[t.index].path) from None
        for engine in engines:
            engine.arrive(tick)
            engine.tick = tick + 1
    return [TickBatch(tuple(e.shard for e in engines), tick, tuple(events), tuple(moves))]
