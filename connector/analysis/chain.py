"""The model as a Markov chain over (state, values of the attributes conditions read).

Each transition becomes a set of sparse entries (from, to, weight): weight is the probability that
its condition holds for a user in `from` (1 without a condition) times the probability that its
updates lead to `to`. The per-tick matrix for chances `c` (one per transition) is then
`I + sum over entries of c[t] * weight * (e_from -> e_to - e_from -> e_from)`.

A condition is evaluated exactly when it reads only `state`, attributes that hold few known
values (finite.py) and vars drawn from such distributions; the other conditions are taken as
always true. For a transition that stays in its state (and changes no tracked attribute) that
makes its own count an upper bound and leaves everything else exact; for one that moves users it
shifts the whole distribution, which the analysis names rather than bounds.
"""

from __future__ import annotations

import enum
import itertools
from typing import Any

import attrs
import numpy as np

from connector.analysis.finite import Dist, distribution, finite_attributes
from connector.model import expr as ex
from connector.model.expr.ast import Call, walk
from connector.model.expr.functions import BUILTINS as FUNCTIONS
from connector.model.spec import SELF
from connector.model.validate import CheckedTransition, ValidatedModel

MAX_PRODUCT = 256  # (state, tracked values) pairs: beyond this, conditions are bounded instead
MAX_GRID = 100_000  # rows evaluated to tabulate one condition


class Verdict(enum.Enum):
    """How exactly the analysis knows a transition's condition."""

    NONE = "no condition"
    EXACT = "exact"
    UPPER_BOUND = "upper bound"
    UNBOUNDED = "not bounded"


@attrs.frozen
class ConditionNote:
    transition: str
    verdict: Verdict
    condition: str | None  # as written
    reason: str  # what makes it exact or not


@attrs.frozen
class Chain:
    """Product states k = (base state, tracked values); `base_of[k]` is k's state index."""

    state_names: tuple[str, ...]
    final: tuple[str, ...]
    tracked: tuple[str, ...]
    combos: tuple[tuple[Any, ...], ...]
    base_of: np.ndarray
    initial: np.ndarray  # distribution of created users over product states
    arrival: np.ndarray  # distribution of arriving users
    entry_transition: np.ndarray
    entry_from: np.ndarray
    entry_to: np.ndarray
    entry_weight: np.ndarray
    notes: tuple[ConditionNote, ...]  # one per transition, in model order

    @property
    def size(self) -> int:
        return int(self.base_of.shape[0])

    @property
    def transitions(self) -> int:
        return len(self.notes)

    def matrix(self, chance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(per-tick matrix K x K, flow matrix K x T: expected moves per tick by transition of a
        user in each product state) for chances `chance` (one per transition)."""
        k, t = self.size, self.transitions
        rate = chance[self.entry_transition] * self.entry_weight
        p = np.eye(k)
        np.add.at(p, (self.entry_from, self.entry_to), rate)
        np.add.at(p, (self.entry_from, self.entry_from), -rate)
        flow = np.zeros((k, t))
        np.add.at(flow, (self.entry_from, self.entry_transition), rate)
        return p, flow

    def live(self) -> np.ndarray:
        """Product states whose base state is not final."""
        final = [self.state_names.index(s) for s in self.final]
        return ~np.isin(self.base_of, final)


def build_chain(model: ValidatedModel) -> Chain:
    spec = model.spec
    finite = finite_attributes(model)
    plans = [_ConditionPlan(t, finite) for t in model.transitions]
    tracked = _choose_tracked(plans, finite, len(spec.states))
    notes = tuple(p.note(tracked) for p in plans)
    names = tuple(sorted(tracked))
    combos = tuple(itertools.product(*(finite[n][1] for n in names)))
    index = {s: i for i, s in enumerate(spec.states)}
    width = len(combos)
    base_of = np.repeat(np.arange(len(spec.states)), width)

    def product_dist(state_weights: list[tuple[str, float]]) -> np.ndarray:
        out = np.zeros(len(spec.states) * width)
        attr = _combo_weights(names, combos, {n: finite[n][0] for n in names})
        for state, w in state_weights:
            if state in index:
                out[index[state] * width:(index[state] + 1) * width] += w * attr
        total = out.sum()
        return out / total if total > 0 else out

    initial = product_dist(list(spec.initial))
    arrival = product_dist([(spec.population.arrival_state, 1.0)])
    entries: list[tuple[int, int, int, float]] = []
    for i, (t, plan) in enumerate(zip(model.transitions, plans, strict=True)):
        exact = notes[i].verdict is Verdict.EXACT
        for source in t.spec.sources:
            s = index[source]
            target = s if t.spec.target == SELF else index[t.spec.target]
            for c, combo in enumerate(combos):
                q = plan.probability(source, dict(zip(names, combo, strict=True))) if exact \
                    else 1.0
                if q <= 0:
                    continue
                for after, p in _after_updates(t, names, combo, finite):
                    to = target * width + combos.index(after)
                    entries.append((i, s * width + c, to, q * p))
    arr = np.array(entries, dtype=float).reshape(-1, 4)
    return Chain(
        state_names=spec.states, final=spec.final, tracked=names, combos=combos,
        base_of=base_of, initial=initial, arrival=arrival,
        entry_transition=arr[:, 0].astype(np.intp), entry_from=arr[:, 1].astype(np.intp),
        entry_to=arr[:, 2].astype(np.intp), entry_weight=arr[:, 3], notes=notes)


def _combo_weights(names: tuple[str, ...], combos: tuple[tuple[Any, ...], ...],
                   dists: dict[str, Dist]) -> np.ndarray:
    out = np.ones(len(combos))
    for j, name in enumerate(names):
        probs = dict(dists[name])
        out *= np.array([probs.get(combo[j], 0.0) for combo in combos])
    return out


def _after_updates(t: CheckedTransition, names: tuple[str, ...], combo: tuple[Any, ...],
                   finite: dict[str, tuple[Dist, tuple[Any, ...]]]
                   ) -> list[tuple[tuple[Any, ...], float]]:
    """The tracked values after `t` (updates drawn independently), with their probabilities."""
    outcomes: list[tuple[tuple[Any, ...], float]] = [(combo, 1.0)]
    for name, _, checked in t.updates:
        if name not in names:
            continue
        j = names.index(name)
        values = finite[name][1]
        dist = distribution(checked.node) or ()
        outcomes = [((*before[:j], _nearest(values, v), *before[j + 1:]), p * q)
                    for before, p in outcomes for v, q in dist]
    return outcomes


def _nearest(values: tuple[Any, ...], value: Any) -> Any:
    """`value` as the attribute holds it (1 assigned to a double attribute is 1.0)."""
    for v in values:
        if v == value:
            return v
    return value


class _ConditionPlan:
    """What one transition's condition reads, and its probability per state and tracked values."""

    def __init__(self, t: CheckedTransition, finite: dict[str, tuple[Dist, tuple[Any, ...]]]):
        self.t = t
        self.attributes: set[str] = set()
        self.vars: dict[str, Dist] = {}
        self.reason = ""
        self.whole: float | None = None
        self._compiled: ex.Compiled | None = None
        self._vars = dict(t.variables)
        cond = t.condition
        if cond is None:
            return
        names = ex.names_used(cond.node)
        if not names:
            dist = distribution(cond.node)
            if dist is None:
                self.reason = "draws random numbers in a way the analysis cannot enumerate"
            else:
                self.whole = sum(p for v, p in dist if v)
                self.reason = f"holds with probability {self.whole:g}"
            return
        if any(isinstance(n, Call) and n.name in FUNCTIONS and FUNCTIONS[n.name].random
               for n in walk(cond.node)):
            self.reason = "draws random numbers in a way the analysis cannot enumerate"
            return
        unknown = []
        for name in sorted(names):
            if name == "state":
                continue
            if name in finite:
                self.attributes.add(name)
            elif name in self._vars and (d := distribution(self._vars[name].node)) is not None:
                self.vars[name] = d
            else:
                unknown.append(name)
        if unknown:
            self.reason = f"reads {', '.join(unknown)}, whose values the analysis cannot " \
                          "enumerate"
            self.attributes.clear()
            return
        self._compiled = ex.compile_expr(cond)

    @property
    def enumerable(self) -> bool:
        return self.whole is not None or self._compiled is not None

    def note(self, tracked: set[str]) -> ConditionNote:
        t = self.t
        text = t.spec.condition
        if t.condition is None:
            return ConditionNote(t.spec.name, Verdict.NONE, None, "")
        if self.enumerable and self.attributes <= tracked:
            reason = self.reason or "evaluated for every state and value of " + \
                (", ".join(sorted(self.attributes | set(self.vars))) or "state")
            return ConditionNote(t.spec.name, Verdict.EXACT, text, reason)
        reason = self.reason or "reads too many attribute values to enumerate"
        stays = t.spec.target == SELF or all(s == t.spec.target for s in t.spec.sources)
        touches = {name for name, _, _ in t.updates} & tracked
        if stays and not touches:
            return ConditionNote(t.spec.name, Verdict.UPPER_BOUND, text,
                                 reason + "; the user stays either way, so only this "
                                 "transition's count is affected (an upper bound)")
        return ConditionNote(t.spec.name, Verdict.UNBOUNDED, text,
                             reason + "; it moves users, so when it is false the share of "
                             "users per state shifts (figures assume it always holds)")

    def probability(self, state: str, values: dict[str, Any]) -> float:
        """P(condition) for a user in `state` with these tracked attribute values."""
        if self.whole is not None:
            return self.whole
        assert self._compiled is not None
        var_names = sorted(self.vars)
        grid = list(itertools.product(*(self.vars[n] for n in var_names)))[:MAX_GRID]
        size = len(grid)
        columns: dict[str, Any] = {"state": np.full(size, state, dtype=object)}
        for name in self.attributes:
            columns[name] = np.full(size, values[name],
                                    dtype=object if isinstance(values[name], str) else None)
        weights = np.ones(size)
        for j, name in enumerate(var_names):
            typ = self._vars[name].type
            columns[name] = np.array([g[j][0] for g in grid], dtype=typ.dtype)
            weights *= np.array([g[j][1] for g in grid])
        held = np.asarray(self._compiled.evaluate(ex.EvalContext(size=size, columns=columns)),
                          dtype=bool)
        return float(weights[held].sum())


def _choose_tracked(plans: list[_ConditionPlan], finite: dict[str, tuple[Dist, tuple[Any, ...]]],
                    states: int) -> set[str]:
    """Attributes to track: those exact conditions read, dropping the widest while the product
    of states and values is too large."""
    tracked = set().union(*(p.attributes for p in plans if p.enumerable)) if plans else set()
    while tracked:
        size = states * int(np.prod([len(finite[n][1]) for n in tracked]))
        if size <= MAX_PRODUCT:
            break
        tracked.discard(max(tracked, key=lambda n: (len(finite[n][1]), n)))
    return tracked
