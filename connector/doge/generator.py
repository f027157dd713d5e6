"""`DataOnlineGenerator` with DOGE 1.0.4's signature and semantics, stepped by our engine.

Each tick the vectorised engine picks which users move and along which transition (probability
in percent per tick, at most one move per user per tick, the rest stay). Only for those users
is Python called: the transition's callback (which may change the subject and veto the move by
returning False) and then its sinks, per user, in DOGE's order. Built-in sinks commit what they
collected once per tick through our destinations (Kafka: one transaction per tick).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any, Generic

import numpy as np
import numpy.typing as npt

from connector.api.model import Model
from connector.api.values import CallSite, call_site, user_errors
from connector.doge.core import (
    DogeError,
    EventSink,
    RunInfo,
    Subject,
    SubjectFactory,
    TickCommitter,
    Transition,
)
from connector.doge.subjects import SubjectStore
from connector.engine.hooks import MoverHook, Movers
from connector.engine.plan import build_plan, with_hooks
from connector.engine.settings import SimulationSettings
from connector.engine.shard import ShardEngine, step_shards

STAY_TRIGGER = "__stay"  # DOGE's name for "no move"; reserved here too


class DataOnlineGenerator(Generic[Subject]):
    """A state machine walked by `subjects_num` subjects for `ticks_num` ticks of `tick_ms`.

    As DOGE: probabilities are percent per tick, those out of one state sum to at most 100 and
    the rest is "stay". `seed` (an addition) fixes the engine's draws; callbacks that draw from
    Python's `random` are reproducible only if the script seeds it too. What a callback changes
    in its subject is kept (also when it vetoes); what a sink changes is not."""

    @user_errors
    def __init__(self, states: list[str], initial_state: str,
                 subject_factory: SubjectFactory[Subject], subjects_num: int, tick_ms: int,
                 ticks_num: int, timestamp_start: int = 0,
                 *, seed: int | None = None) -> None:
        self._site = call_site()
        if not isinstance(states, list | tuple) or not all(isinstance(s, str) for s in states):
            raise DogeError(self._site, "states", f"expected a list of state names (strings), "
                            f"got {states!r}")
        self.states = list(states)
        self._check_state(initial_state, "initial_state", self._site)
        for name, value in (("subjects_num", subjects_num), ("tick_ms", tick_ms),
                            ("ticks_num", ticks_num), ("timestamp_start", timestamp_start)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise DogeError(self._site, name, f"expected a whole number >= 0, got {value!r}")
        if tick_ms < 1:
            raise DogeError(self._site, "tick_ms", f"expected a whole number >= 1, got {tick_ms}")
        self.initial_state = initial_state
        self.subject_factory = subject_factory
        self.subjects_num = subjects_num
        self.tick_ms = tick_ms
        self.ticks_num = ticks_num
        self.timestamp = timestamp_start
        self.seed = secrets.randbits(63) if seed is None else seed
        self.transition_matrix: dict[str, dict[str, Transition]] = {s: {} for s in self.states}
        self.probability_matrix: dict[str, dict[str, float]] = {s: {} for s in self.states}
        self.sinks: set[EventSink] = set()
        self._sites: dict[tuple[str, str], CallSite] = {}

    @user_errors
    def add_transition(self, trigger: str, from_state: str, to_state: str, probability: float,
                       action_callback: Callable[[Any, Transition], bool] | None = None,
                       event_sinks: Sequence[EventSink] | None = None) -> None:
        """A transition taken with `probability` percent per tick by subjects in `from_state`.

        `action_callback(subject, transition)` runs first and may change the subject; a falsy
        result blocks the move (no state change, no events). Then each sink's `collect` runs.
        A trigger already defined out of `from_state` is replaced, as in DOGE."""
        site = call_site()
        self._check_state(from_state, "from_state", site)
        self._check_state(to_state, "to_state", site)
        if not isinstance(trigger, str) or not trigger or trigger == STAY_TRIGGER:
            raise DogeError(site, "trigger", f"expected a transition name, got {trigger!r}")
        if isinstance(probability, bool) or not isinstance(probability, int | float) \
                or not 0 <= probability <= 100:
            raise DogeError(site, "probability", f"expected a percentage from 0 to 100, got "
                            f"{probability!r}")
        if action_callback is not None and not callable(action_callback):
            raise DogeError(site, "action_callback", f"expected a function, got "
                            f"{action_callback!r}")
        sinks = list(event_sinks or [])
        for sink in sinks:
            if not isinstance(sink, EventSink):
                raise DogeError(site, "event_sinks", f"expected EventSink objects, got {sink!r}")
        self.sinks.update(sinks)
        transition = Transition(trigger, from_state, to_state, probability, action_callback, sinks)
        self.transition_matrix[from_state][trigger] = transition
        self.probability_matrix[from_state][trigger] = float(probability)
        self._sites[(from_state, trigger)] = site
        total = sum(self.probability_matrix[from_state].values())
        if total > 100 + 1e-9:
            raise DogeError(site, "probability", f"sum of probabilities for state {from_state} "
                            f"have exceeded 100% ({total:g} %)")

    @user_errors
    def start(self) -> None:
        """Create the subjects, simulate every tick, then close the sinks."""
        store = SubjectStore([self.subject_factory.create() for _ in range(self.subjects_num)],
                             self._site)
        engine = self._engine(store)
        committers = _committers(self.sinks)
        run = RunInfo(self.seed, self.timestamp, self.tick_ms, self.ticks_num)
        try:
            for committer in committers:
                committer.open(run)
            for tick in range(self.ticks_num):
                step_shards([engine], build_events=False)
                for committer in committers:
                    committer.commit(tick)
                self.timestamp += self.tick_ms
            for sink in self.sinks:
                sink.close()
        finally:
            for committer in committers:
                committer.close()

    # -- details ------------------------------------------------------------------------------
    def _engine(self, store: SubjectStore) -> ShardEngine:
        """One shard of all users (user i is the i-th subject created) with the callbacks and
        sinks as hooks of the transitions that have them."""
        model = Model(self.states, initial=self.initial_state, name="doge-datagen")
        hooks: dict[str, MoverHook] = {}
        for state, transitions in self.transition_matrix.items():
            for trigger, t in transitions.items():
                name = f"{state}/{trigger}"  # unique whatever the triggers are called
                model.transition(name, state, t.to_state, chance=t.probability)
                if t.action_callback is not None or t.event_sinks:
                    hooks[name] = _TransitionHook(store, t)
        plan = with_hooks(build_plan(model._validated(), self.tick_ms), hooks)
        settings = SimulationSettings(users=self.subjects_num, shards=1, seed=self.seed,
                                      tick_ms=self.tick_ms, start_ms=self.timestamp)
        return ShardEngine(plan, settings, 0)

    def _check_state(self, state: Any, what: str, site: CallSite) -> None:
        if state not in self.states:
            raise DogeError(site, what, f"state {state!r} is not present in machine states "
                            f"{self.states}")


class _TransitionHook:
    """A transition's callback and sinks, called for each of its movers in user order."""

    def __init__(self, store: SubjectStore, transition: Transition) -> None:
        self.store = store
        self.transition = transition

    def __call__(self, movers: Movers) -> npt.NDArray[np.bool_] | None:
        user_ids = movers.user_ids
        subjects = self.store.objects(user_ids)
        t, timestamp = self.transition, movers.time_ms
        callback, sinks = t.action_callback, t.event_sinks
        allowed = None
        if callback is None:
            for subject in subjects:
                for sink in sinks:
                    sink.collect(timestamp, subject, t)
        else:
            allowed = np.ones(len(subjects), dtype=bool)
            for k, subject in enumerate(subjects):
                if callback(subject, t):
                    for sink in sinks:
                        sink.collect(timestamp, subject, t)
                else:
                    allowed[k] = False
            # Vetoed subjects keep what their callback changed, as in DOGE.
            self.store.write_back(user_ids, subjects)
        return allowed


def _committers(sinks: set[EventSink]) -> list[TickCommitter]:
    """The distinct destinations behind the sinks, in a stable order."""
    out: list[TickCommitter] = []
    for sink in sorted(sinks, key=id):
        committer = sink.committer()
        if committer is not None and all(committer is not c for c in out):
            out.append(committer)
    return out
