"""The model as typed, immutable data: what `parse.py` builds and the engine compiles."""

from __future__ import annotations

import enum
import math
from typing import Any

import attrs

from connector.core.types import ValueType
from connector.model.source import child_path as child

SESSION_ACTIONS = ("open", "close")
SELF = "self"  # `to: self`: the transition keeps the user in whichever state it left
# Attribute metadata: left out of the run fingerprint while it holds its default, so adding
# an optional model feature does not change the fingerprint (and output) of existing models.
OMIT_IF_DEFAULT = "omit_if_default"
_OPTIONAL = {OMIT_IF_DEFAULT: True}


@attrs.frozen
class AttributeSpec:
    name: str
    type: ValueType
    initial: str  # expression text, evaluated per user when the user is created
    path: str


@attrs.frozen
class FieldNode:
    """How a model gives a record field's value, before it is checked against the schema:
    an expression, a mapping (sub-fields, or an array/map/union form; dotted keys merged into
    nested mappings) or a list (a fixed-length array)."""

    path: str
    expression: str | None = None
    entries: tuple[tuple[str, FieldNode], ...] | None = None
    items: tuple[FieldNode, ...] | None = None

    def entry(self, key: str) -> FieldNode | None:
        return dict(self.entries or ()).get(key)


@attrs.frozen
class EmitSpec:
    topic: str
    fields: tuple[tuple[str, str], ...]  # (Avro field, expression text) given explicitly
    path: str
    # Fields given as mappings or lists, or through dotted names (`user.id: ...`).
    shaped: tuple[tuple[str, FieldNode], ...] = attrs.field(default=(), metadata=_OPTIONAL)

    def given(self) -> dict[str, FieldNode]:
        """Every field the emit gives, by top-level name."""
        return given_fields(self.path, self.fields, self.shaped)


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


class KeyKind(enum.Enum):
    """What a topic's `key:` gives (no `key:` at all: the user id, as `key.format` says)."""

    NULL = "null"  # `key: null`: records without a key
    EXPRESSION = "expression"  # `key: EXPR`: a STRING or LONG
    RECORD = "record"  # `key: {schema: ..., fields: ...}`: an Avro record key


@attrs.frozen
class KeySpec:
    kind: KeyKind
    path: str
    expression: str | None = None
    schema_name: str | None = None
    schema: dict[str, Any] | None = None  # the key record's Avro schema as JSON data
    schema_file: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    shaped: tuple[tuple[str, FieldNode], ...] = ()

    def given(self) -> dict[str, FieldNode]:
        """Every field of the key record the model gives, by top-level name."""
        return given_fields(self.path, self.fields, self.shaped)


def given_fields(path: str, fields: tuple[tuple[str, str], ...],
                 shaped: tuple[tuple[str, FieldNode], ...]) -> dict[str, FieldNode]:
    """Plain and shaped fields of `path`.fields as nodes, by top-level name."""
    out = {name: FieldNode(child(child(path, "fields"), name), expression=text)
           for name, text in fields}
    out.update(shaped)
    return out


@attrs.frozen
class HeaderSpec:
    name: str
    expression: str
    path: str


@attrs.frozen
class TopicSpec:
    name: str
    schema_name: str  # file stem in the schemas directory, or the inline schema's name
    schema: dict[str, Any]  # the Avro schema as JSON data
    schema_file: str | None
    path: str
    key: KeySpec | None = attrs.field(default=None, metadata=_OPTIONAL)  # None: user id
    headers: tuple[HeaderSpec, ...] = attrs.field(default=(), metadata=_OPTIONAL)


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
