"""`analyze()`: every figure of `doge analyze`, from the model alone (expected values, no draws)."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from connector.analysis.chain import Chain, ConditionNote, Verdict, build_chain
from connector.analysis.sizes import record_size
from connector.analysis.steady import long_run_share, mean_dwell_ticks, state_share
from connector.analysis.timeline import WEEK_MS, Chances, Horizon, iterate
from connector.engine.plan import EnginePlan, build_plan
from connector.errors import UserError
from connector.model.spec import SELF
from connector.model.validate import ValidatedModel

DAY_MS = 86_400_000
# States (with tracked values) plus transitions: the side of the dense matrices iterated.
MAX_WIDTH = 400


@attrs.frozen
class AnalysisSettings:
    """What the figures are for: population, tick length, start time and horizon (in ticks)."""

    users: int
    tick_ms: int
    start_ms: int
    ticks: int


@attrs.frozen
class TransitionFigures:
    name: str
    sources: tuple[str, ...]
    target: str
    chance_avg: float  # per tick, profiles averaged over the week
    chance_peak: float  # per tick, at the profile's peak hour
    every_ms: float | None
    emits: tuple[str, ...]  # topics, one entry per emit
    condition: ConditionNote
    per_user_day: float  # moves per active user per day, in the long run
    moves: float  # expected over the horizon


@attrs.frozen
class TopicFigures:
    name: str
    status: str  # exact, upper bound, or approximate
    events: float  # expected over the horizon
    events_per_s: float
    peak_events_per_s: float
    per_user_day: float
    record_bytes: float  # estimated mean value size (see sizes.py)
    bytes_per_s: float
    peak_bytes_per_s: float
    guessed_fields: tuple[str, ...]


@attrs.frozen
class StateFigures:
    name: str
    share: float  # long-run share of active users
    dwell_ms: float | None  # mean visit length; None: users never leave
    users_end: float  # expected users here after the horizon
    initial: bool
    final: bool


@attrs.frozen
class Analysis:
    model: str
    file: str | None
    settings: AnalysisSettings
    states: tuple[StateFigures, ...]
    transitions: tuple[TransitionFigures, ...]
    topics: tuple[TopicFigures, ...]
    matrix_avg: tuple[tuple[float, ...], ...]  # from state (row) to state, per tick
    matrix_peak: tuple[tuple[float, ...], ...]
    matrix_bound: tuple[tuple[bool, ...], ...]  # a move by a conditional transition (at most)
    arrivals: float  # expected over the horizon
    users_end: float
    events: float
    events_per_s: float
    peak_events_per_s: float
    bytes_per_s: float
    exact: bool  # no condition the analysis could not evaluate moves users

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = attrs.asdict(self, value_serializer=_plain)
        return data


def _plain(inst: Any, field: Any, value: Any) -> Any:
    if isinstance(value, Verdict):
        return value.value
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


class Analyser:
    """The chain and chances of one model at one tick length; figures for any settings."""

    def __init__(self, model: ValidatedModel, tick_ms: int, plan: EnginePlan | None = None):
        self.model = model
        self.tick_ms = tick_ms
        self.plan = plan or build_plan(model, tick_ms)
        self.chain: Chain = build_chain(model)
        width = self.chain.size + self.chain.transitions
        if width > MAX_WIDTH:
            raise UserError(f"the model has {self.chain.size:,} (state, value) combinations and "
                            f"{self.chain.transitions:,} transitions; the analysis handles "
                            f"{MAX_WIDTH:,} together at most")
        self.chances = Chances(self.plan, self.chain.transitions)
        spec = model.spec
        topics = [t.name for t in spec.topics]
        self.topic_names = tuple(topics)
        # emits[t, j]: events transition t writes to topic j per move.
        self.emits = np.zeros((self.chain.transitions, len(topics)))
        for i, t in enumerate(spec.transitions):
            for e in t.emits:
                self.emits[i, topics.index(e.topic)] += 1

    def horizon(self, settings: AnalysisSettings, users: float | None = None,
                arrivals: bool = True) -> Horizon:
        x0 = (settings.users if users is None else users) * self.chain.initial
        rate = self.plan.arrivals_per_tick if arrivals else 0.0
        return iterate(self.chain, self.chances, settings.start_ms, self.tick_ms, settings.ticks,
                       x0, rate)

    def events_per_s(self, settings: AnalysisSettings, topic: str | None = None,
                     users: float | None = None, arrivals: bool = True) -> float:
        """Mean events/s over the horizon (of one topic, or all)."""
        moves = self.horizon(settings, users, arrivals).moves
        per_topic = moves @ self.emits
        events = per_topic[self.topic_names.index(topic)] if topic else per_topic.sum()
        return float(events / (settings.ticks * self.tick_ms / 1000))

    def analyze(self, settings: AnalysisSettings) -> Analysis:
        chain, spec = self.chain, self.model.spec
        week = self.chances.week(settings.start_ms)
        avg, peak = week.mean(axis=0), week.max(axis=0)
        p_avg, _ = chain.matrix(avg)
        share = long_run_share(chain, p_avg, chain.initial)
        dwell = mean_dwell_ticks(chain, avg, share)
        per_user_day = self._per_user_day(settings, share)
        horizon = self.horizon(settings)
        seconds = settings.ticks * self.tick_ms / 1000
        seg_seconds = horizon.segment_ticks * self.tick_ms / 1000
        seg_events = horizon.segment_moves @ self.emits  # (segments, topics)
        sizes, guessed = self._sizes(settings, horizon.moves)
        topic_events = horizon.moves @ self.emits
        topics = []
        statuses = self._topic_status()
        for j, name in enumerate(self.topic_names):
            peak_eps = float((seg_events[:, j] / seg_seconds).max()) if len(seg_seconds) else 0.0
            mean_bytes = sizes[j]
            topics.append(TopicFigures(
                name, statuses[j], float(topic_events[j]), float(topic_events[j] / seconds),
                peak_eps, float(per_user_day @ self.emits[:, j]), mean_bytes,
                float(topic_events[j] / seconds * mean_bytes), peak_eps * mean_bytes,
                guessed[j]))
        totals = seg_events.sum(axis=1)
        states = state_share(chain, share)
        end = np.bincount(chain.base_of, weights=horizon.end, minlength=len(spec.states))
        initial_states = {s for s, w in spec.initial if w > 0}
        return Analysis(
            model=spec.name, file=spec.file, settings=settings,
            states=tuple(StateFigures(s, float(states[i]),
                                      float(dwell[i] * self.tick_ms) if np.isfinite(dwell[i])
                                      else None, float(end[i]), s in initial_states,
                                      s in spec.final)
                         for i, s in enumerate(spec.states)),
            transitions=tuple(
                TransitionFigures(t.name, t.sources, t.target, float(avg[i]), float(peak[i]),
                                  t.every_ms, tuple(e.topic for e in t.emits), chain.notes[i],
                                  float(per_user_day[i]), float(horizon.moves[i]))
                for i, t in enumerate(spec.transitions)),
            topics=tuple(topics),
            matrix_avg=self._state_matrix(avg), matrix_peak=self._state_matrix(peak),
            matrix_bound=self._bounded_entries(),
            arrivals=self.plan.arrivals_per_tick * settings.ticks,
            users_end=float(horizon.end.sum()),
            events=float(topic_events.sum()), events_per_s=float(topic_events.sum() / seconds),
            peak_events_per_s=float((totals / seg_seconds).max()) if len(totals) else 0.0,
            bytes_per_s=sum(t.bytes_per_s for t in topics),
            exact=all(n.verdict is not Verdict.UNBOUNDED for n in chain.notes))

    def _per_user_day(self, settings: AnalysisSettings, share: np.ndarray) -> np.ndarray:
        """Moves per transition per active user per day: one week iterated from the long-run
        share (so profiles weigh in at the hours they apply), no arrivals."""
        ticks = max(1, WEEK_MS // self.tick_ms)
        week = iterate(self.chain, self.chances, settings.start_ms, self.tick_ms, ticks, share,
                       0.0)
        live = self.chain.live()
        mass = (share[live].sum() + week.end[live].sum()) / 2 or 1.0
        return week.moves / mass / (ticks * self.tick_ms / DAY_MS)

    def _sizes(self, settings: AnalysisSettings, weights: np.ndarray
               ) -> tuple[list[float], list[tuple[str, ...]]]:
        """Mean estimated record size per topic (weighted by how often each emit writes it)."""
        total = np.zeros(len(self.topic_names))
        count = np.zeros(len(self.topic_names))
        guessed: list[set[str]] = [set() for _ in self.topic_names]
        for i, t in enumerate(self.model.transitions):
            for emit in t.emits:
                j = self.topic_names.index(emit.topic)
                est = record_size(self.model, t, emit, settings.users, settings.start_ms,
                                  settings.ticks)
                w = weights[i] if weights.sum() > 0 else 1.0
                total[j] += est.bytes * w
                count[j] += w
                guessed[j].update(est.guessed)
        sizes = [float(total[j] / count[j]) if count[j] > 0 else 0.0
                 for j in range(len(self.topic_names))]
        return sizes, [tuple(sorted(g)) for g in guessed]

    def _topic_status(self) -> list[str]:
        if not all(n.verdict is not Verdict.UNBOUNDED for n in self.chain.notes):
            return ["approximate"] * len(self.topic_names)
        out = []
        for j in range(len(self.topic_names)):
            bounded = any(self.emits[i, j] and n.verdict is Verdict.UPPER_BOUND
                          for i, n in enumerate(self.chain.notes))
            out.append("upper bound" if bounded else "exact")
        return out

    def _state_matrix(self, chance: np.ndarray) -> tuple[tuple[float, ...], ...]:
        states = self.model.spec.states
        m = np.eye(len(states))
        for i, t in enumerate(self.model.spec.transitions):
            for source in t.sources:
                s = states.index(source)
                target = s if t.target == SELF else states.index(t.target)
                m[s, target] += chance[i]
                m[s, s] -= chance[i]
        m[np.abs(m) < 1e-12] = 0.0  # what is left of 1 - sum of the chances
        return tuple(tuple(float(v) for v in row) for row in m)

    def _bounded_entries(self) -> tuple[tuple[bool, ...], ...]:
        states = self.model.spec.states
        b = np.zeros((len(states), len(states)), dtype=bool)
        for t, note in zip(self.model.spec.transitions, self.chain.notes, strict=True):
            if note.verdict is not Verdict.NONE:  # the chance is for when the condition holds
                for source in t.sources:
                    s = states.index(source)
                    target = s if t.target == SELF else states.index(t.target)
                    # Staying is certain either way; only a move to another state is bounded.
                    b[s, target] = target != s
        return tuple(tuple(bool(v) for v in row) for row in b)


def solve_users(analyser: Analyser, settings: AnalysisSettings, target: float,
                topic: str | None = None) -> int:
    """The initial population whose mean events/s over the horizon is `target` (of `topic` or
    of all topics): events/s is affine in users (arrivals add a constant), so two runs solve it."""
    base = analyser.events_per_s(settings, topic, users=0.0)
    per_user = analyser.events_per_s(settings, topic, users=1.0, arrivals=False)
    what = f"topic {topic}" if topic else "all topics"
    if per_user <= 0:
        raise UserError(f"users of this model emit nothing to {what} in {settings.ticks:,} "
                        "ticks: no population reaches the target")
    if target < base:
        raise UserError(f"arrivals alone give {base:,.4g} events/s to {what}, more than the "
                        f"target {target:,.4g}")
    users = round((target - base) / per_user)
    if users > 10**12:
        raise UserError(f"the target needs {users:,} users (over 10^12); is the rate right?")
    return max(users, 0)
