"""The model's state graph checked: states named once and known, chances out of a state at most
100 % (per tick, at the peak of their time profiles), every state reachable."""

from __future__ import annotations

from collections import Counter
from typing import Protocol

from connector.model.source import Document, child_path
from connector.model.spec import SELF, ModelSpec
from connector.model.zones import load_zone


class StateChecking(Protocol):
    """The model validator, as these checks need it (validate.py's checker)."""

    doc: Document
    spec: ModelSpec

    def error(self, path: str, message: str) -> None: ...

    def warning(self, path: str, message: str) -> None: ...


def check_states(c: StateChecking) -> None:
    spec = c.spec
    known = set(spec.states)
    if SELF in known:
        c.error("states", f"'{SELF}' cannot be a state name: `to: {SELF}` means 'stay'")
    for name, count in Counter(spec.states).items():
        if count > 1:
            c.error("states", f"state '{name}' is listed {count} times")
    for state, _ in spec.initial:
        if state not in known:
            c.error("initial", _unknown_state(state, spec.states))
    for i, state in enumerate(spec.final):
        if state not in known:
            c.error(child_path("final", i), _unknown_state(state, spec.states))
    # Defaulted from `initial`, the arrival state's error is initial's: report it only if given.
    if spec.population.arrival_state not in known and spec.population.arrival_state and \
            "population.arrival_state" in c.doc.lines:
        c.error("population.arrival_state", _unknown_state(spec.population.arrival_state,
                                                           spec.states))
    try:
        load_zone(spec.timezone)
    except ValueError as exc:
        c.error("timezone", str(exc))
    for profile in spec.profiles:
        if profile.timezone != spec.timezone:
            try:
                load_zone(profile.timezone)
            except ValueError as exc:
                c.error(child_path(profile.path, "timezone"), str(exc))
    profile_names = {p.name for p in spec.profiles}
    for t in spec.transitions:
        for i, source in enumerate(t.sources):
            if source not in known:
                c.error(child_path(t.path, "from") + ("" if len(t.sources) == 1 else f"[{i}]"),
                        f"transition '{t.name}': " + _unknown_state(source, spec.states))
            elif source in spec.final:
                c.error(child_path(t.path, "from"),
                        f"transition '{t.name}' leaves '{source}', which is a final state")
        if t.target not in known and t.target != SELF:
            c.error(child_path(t.path, "to"), f"transition '{t.name}': "
                    + _unknown_state(t.target, spec.states))
        if t.profile is not None and t.profile not in profile_names:
            c.error(child_path(t.path, "profile"), f"unknown profile '{t.profile}'; known "
                    f"profiles: {', '.join(p.name for p in spec.profiles) or '(none)'}")
    seen: dict[tuple[str, str], str] = {}
    for t in spec.transitions:
        for source in t.sources:
            key = (source, t.name)
            if key in seen:
                c.error(child_path(t.path, "name"), f"duplicate transition name '{t.name}' out of "
                        f"state '{source}' (first defined at {seen[key]})")
            else:
                seen[key] = t.path


def _unknown_state(state: str, states: tuple[str, ...]) -> str:
    return f"unknown state '{state}'; known states: {', '.join(states)}"


def check_chances(c: StateChecking) -> None:
    """Chances out of one state sum to at most 100 % at the peak of their time profiles."""
    spec = c.spec
    peaks = {p.name: p.peak for p in spec.profiles}
    by_state = spec.outgoing()
    # `every` chances depend on tick.ms; 1 minute is the reference for this static check,
    # the engine re-checks with the connector's real tick.ms.
    for state, chance in spec.chance_totals(60_000).items():
        outgoing = by_state[state]
        total = chance * 100
        if total > 100 + 1e-9:
            names = ", ".join(f"{t.name} ({t.chance_per_tick(60_000) * 100:g} %"
                              + (f" x peak {peaks[t.profile]:g}" if t.profile in peaks else "")
                              + ")" for t in outgoing)
            c.error(outgoing[-1].path, f"chances out of state '{state}' sum to {total:g} %, "
                    f"over 100 %: {names}")


def check_chances_for_tick(spec: ModelSpec, tick_ms: float) -> list[str]:
    """States whose chances exceed 100 % at this tick length (messages), for connector checks."""
    out = []
    for state, total in spec.chance_totals(tick_ms).items():
        if total > 1 + 1e-9:
            out.append(f"chances out of state '{state}' sum to {total * 100:g} % per tick at "
                       f"tick.ms={tick_ms:g}")
    return out


def check_reachability(c: StateChecking) -> None:
    spec = c.spec
    starts = [s for s, _ in spec.initial] + [spec.population.arrival_state]
    known = set(spec.states)
    if any(s not in known for s in starts):
        return  # reported as an unknown state: every state would look unreachable
    reached = {s for s, w in spec.initial if w > 0} | {spec.population.arrival_state}
    frontier = list(reached)
    outgoing = spec.outgoing()
    while frontier:
        state = frontier.pop()
        for t in outgoing.get(state, ()):
            target = state if t.target == SELF else t.target
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    for i, state in enumerate(spec.states):
        if state not in reached:
            c.warning(child_path("states", i), f"state '{state}' can never be reached "
                      "from the initial states")
