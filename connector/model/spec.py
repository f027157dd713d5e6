"""The model as typed, immutable data: what `parse.py` builds and the engine compiles."""

from __future__ import annotations

import math
from typing import Any

import attrs

from connector.core.types import ValueType

SESSION_ACTIONS = ("open", "close")
SELF = "self"  # `to: self`: the transition keeps the user in whichever state it left


@attrs.frozen
class AttributeSpec:
    name: str
    type: ValueType
    initial: str  # expression text, evaluated per user when the user is created
    path: str


@attrs.frozen
class EmitSpec:
    topic: str
    fields: tuple[tuple[str, str], ...]  # (Avro field, expression text) given explicitly
    path: str


@attrs.frozen
class Assignment:
    target: str
    op: str  # "=", "+=", "-=", "*=", "/="
    expression: str
    path: str


@attrs.frozen
class TransitionSpec:
    name: str
    sources: tuple[str, ...]
    target: str
    chance_percent: float | None  # DOGE semantics: percent per tick
    every_ms: float | None  # mean interval; per-tick chance 1 - exp(-tick/every)
    condition: str | None
    variables: tuple[tuple[str, str], ...]
    updates: tuple[Assignment, ...]
    emits: tuple[EmitSpec, ...]
    profile: str | None
    session: str | None
    path: str

    def chance_per_tick(self, tick_ms: float) -> float:
        """Probability in [0, 1] that a user in a source state draws this transition in a tick."""
        if self.every_ms is not None:
            return 1.0 - math.exp(-tick_ms / self.every_ms)
        return (self.chance_percent or 0.0) / 100.0


@attrs.frozen
class ProfileSpec:
    name: str
    hours: tuple[float, ...]  # 24 multipliers, hour 0..23 of simulated local time
    weekdays: tuple[float, ...]  # 7 multipliers, Monday..Sunday
    timezone: str
    path: str

    @property
    def peak(self) -> float:
        return max(self.hours) * max(self.weekdays)


@attrs.frozen
class TopicSpec:
    name: str
    schema_name: str  # file stem in the schemas directory, or the inline schema's name
    schema: dict[str, Any]  # the Avro schema as JSON data
    schema_file: str | None
    path: str


@attrs.frozen
class PopulationSpec:
    users: int | None  # default for the connector's `users`
    arrivals_per_ms: float  # mean arrival rate over the whole population (0 = no growth)
    arrival_state: str


@attrs.frozen
class ModelSpec:
    name: str
    file: str | None
    states: tuple[str, ...]
    initial: tuple[tuple[str, float], ...]  # distribution over states of created users
    final: tuple[str, ...]
    attributes: tuple[AttributeSpec, ...]
    topics: tuple[TopicSpec, ...]
    transitions: tuple[TransitionSpec, ...]
    profiles: tuple[ProfileSpec, ...]
    population: PopulationSpec
    timezone: str
    jitter: bool  # spread event times uniformly inside their tick

    def outgoing(self) -> dict[str, list[TransitionSpec]]:
        """The transitions out of each state, in model order (one pass: models may be large)."""
        out: dict[str, list[TransitionSpec]] = {s: [] for s in self.states}
        for t in self.transitions:
            for source in t.sources:
                out.setdefault(source, []).append(t)
        return out

    def chance_totals(self, tick_ms: float) -> dict[str, float]:
        """Per state: the chance per tick of leaving it, time profiles at their peak."""
        peaks = {p.name: p.peak for p in self.profiles}
        outgoing = self.outgoing()
        return {s: sum(t.chance_per_tick(tick_ms) * peaks.get(t.profile or "", 1.0)
                       for t in outgoing[s]) for s in self.states}

    def topic(self, name: str) -> TopicSpec:
        return next(t for t in self.topics if t.name == name)

    def profile(self, name: str) -> ProfileSpec:
        return next(p for p in self.profiles if p.name == name)
