"""Build a ModelSpec from a parsed document: structure and types only (semantics: validate.py)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from connector.core.types import ATTRIBUTE_TYPES, ValueType
from connector.errors import Problem
from connector.model import format as fmt
from connector.model.durations import parse_duration_ms
from connector.model.expr import ExprError, parse_assignment
from connector.model.parse_fields import (
    load_schema_ref,
    parse_fields,
    parse_headers,
    parse_key,
)
from connector.model.reader import Reader
from connector.model.source import Document, child_path
from connector.model.spec import (
    SESSION_ACTIONS,
    Assignment,
    AttributeSpec,
    EmitSpec,
    ModelSpec,
    PopulationSpec,
    ProfileSpec,
    TopicSpec,
    TransitionSpec,
)

# Known keys of each section come from the format table (also the source of the JSON Schema).
MODEL_KEYS = fmt.MODEL.names
TRANSITION_KEYS = fmt.TRANSITION.names
ATTRIBUTE_KEYS = fmt.ATTRIBUTE.names
EMIT_KEYS = fmt.EMIT.names
PROFILE_KEYS = fmt.PROFILE.names
POPULATION_KEYS = fmt.POPULATION.names
ARRIVAL_KEYS = fmt.ARRIVALS.names
ZERO_BY_TYPE = {ValueType.LONG: "0", ValueType.DOUBLE: "0.0", ValueType.BOOLEAN: "false",
                ValueType.STRING: "''"}
SPELLINGS = tuple(t.spelling for t in ATTRIBUTE_TYPES)


def parse_model(doc: Document, base_dir: Path) -> tuple[ModelSpec | None, list[Problem]]:
    """Read the model's structure; returns None for the spec when it is unusable."""
    r = Reader(doc)
    root = r.mapping(doc.data, "", MODEL_KEYS, required=fmt.MODEL.required)
    if root is None:
        return None, r.problems
    states = _states(r, root.get("states"))
    timezone = r.string(root.get("timezone", "UTC"), "timezone") or "UTC"
    spec = ModelSpec(
        name=r.string(root.get("name", "model"), "name") or "model",
        file=doc.file,
        states=states,
        initial=_initial(r, root.get("initial", states[0] if states else None)),
        final=tuple(_string_list(r, root.get("final", []), "final")),
        attributes=_attributes(r, root.get("attributes", {})),
        topics=_topics(r, root.get("topics", {}), _schemas_dir(r, root, base_dir)),
        transitions=_transitions(r, root.get("transitions")),
        profiles=_profiles(r, root.get("profiles", {}), timezone),
        population=_population(r, root.get("population", {}),
                               _first_initial_state(root.get("initial"), states)),
        timezone=timezone,
        jitter=bool(r.boolean(root.get("jitter", False), "jitter")),
    )
    return spec, r.problems


def _states(r: Reader, value: Any) -> tuple[str, ...]:
    names = _string_list(r, value, "states")
    if value is not None and not names:
        r.error("states", "expected at least one state")
    return tuple(names)


def _string_list(r: Reader, value: Any, path: str) -> list[str]:
    items = r.sequence(value, path)
    if items is None:
        return []
    out = []
    for i, item in enumerate(items):
        text = r.string(item, child_path(path, i))
        if text is not None:
            out.append(text)
    return out


def _first_initial_state(value: Any, states: tuple[str, ...]) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and value:
        return str(next(iter(value)))
    return states[0] if states else ""


def _initial(r: Reader, value: Any) -> tuple[tuple[str, float], ...]:
    if isinstance(value, str):
        return ((value, 1.0),)
    weights = r.mapping(value, "initial")
    if weights is None:
        return ()
    if not weights:
        r.error("initial", "expected a state, or a mapping of states to weights; got an empty "
                "mapping")
        return ()
    out = []
    for state, weight in weights.items():
        w = r.number(weight, child_path("initial", state), minimum=0)
        if w is not None:
            out.append((state, w))
    if out and sum(w for _, w in out) <= 0:
        r.error("initial", "the initial distribution's weights must not all be zero")
    return tuple(out)


def _attributes(r: Reader, value: Any) -> tuple[AttributeSpec, ...]:
    attrs = r.mapping(value, "attributes")
    if attrs is None:
        return ()
    out = []
    for name, raw in attrs.items():
        path = child_path("attributes", name)
        body = {"type": raw} if isinstance(raw, str) and raw in SPELLINGS else raw
        spec = r.mapping(body, path, ATTRIBUTE_KEYS, required=fmt.ATTRIBUTE.required)
        if spec is None or "type" not in spec:
            continue
        type_ = ValueType.from_spelling(spec["type"]) if isinstance(spec["type"], str) else None
        if type_ not in ATTRIBUTE_TYPES:
            r.error(child_path(path, "type"),
                    f"unknown attribute type {spec['type']!r}; expected one of "
                    f"{', '.join(SPELLINGS)}")
            continue
        initial = r.expression(spec.get("initial", ZERO_BY_TYPE[type_]),
                               child_path(path, "initial"))
        if initial is not None:
            out.append(AttributeSpec(name, type_, initial, path))
    return tuple(out)


def _schemas_dir(r: Reader, root: dict[str, Any], base_dir: Path) -> Path:
    if "schemas" in root:
        text = r.string(root["schemas"], "schemas")
        return (base_dir / text) if text else base_dir
    # The nearest enclosing directory that has a schemas/ folder, as in this repository's layout.
    for folder in (base_dir, *base_dir.parents):
        if (folder / "schemas").is_dir():
            return folder / "schemas"
    return base_dir / "schemas"


def _topics(r: Reader, value: Any, schemas_dir: Path) -> tuple[TopicSpec, ...]:
    topics = r.mapping(value, "topics")
    if topics is None:
        return ()
    out = []
    for name, raw in topics.items():
        path = child_path("topics", name)
        body = {"schema": raw} if isinstance(raw, str) else raw
        spec = r.mapping(body, path, fmt.TOPIC.names, required=fmt.TOPIC.required)
        if spec is None or "schema" not in spec:
            continue
        loaded = load_schema_ref(r, spec["schema"], child_path(path, "schema"), schemas_dir)
        key = parse_key(r, spec, path, schemas_dir)
        headers = parse_headers(r, spec, path)
        if loaded is None:
            continue
        schema_name, data, file = loaded
        if file is None:
            schema_name = str(data.get("name", name))
        out.append(TopicSpec(name, schema_name, data, file, path, key, headers))
    return tuple(out)


def _transitions(r: Reader, value: Any) -> tuple[TransitionSpec, ...]:
    items = r.sequence(value, "transitions")
    if items is None:
        return ()
    out = []
    for i, body in enumerate(items):
        t = _transition(r, body, child_path("transitions", i))
        if t is not None:
            out.append(t)
    return tuple(out)


def _transition(r: Reader, body: Any, path: str) -> TransitionSpec | None:
    spec = r.mapping(body, path, TRANSITION_KEYS, required=fmt.TRANSITION.required)
    if spec is None:
        return None
    name = r.string(spec.get("name"), child_path(path, "name")) if "name" in spec else None
    sources_raw = spec.get("from")
    sources = ([sources_raw] if isinstance(sources_raw, str)
               else _string_list(r, sources_raw, child_path(path, "from")))
    target = r.string(spec.get("to"), child_path(path, "to")) if "to" in spec else None
    chance, every = _chance(r, spec, path)
    condition = (r.expression(spec["condition"], child_path(path, "condition"))
                 if "condition" in spec else None)
    variables = _expression_map(r, spec.get("vars", {}), child_path(path, "vars"))
    updates = _updates(r, spec.get("update", []), child_path(path, "update"))
    emits = _emits(r, spec.get("emit", []), child_path(path, "emit"))
    profile = r.string(spec["profile"], child_path(path, "profile")) if "profile" in spec else None
    session = spec.get("session")
    if session is not None and session not in SESSION_ACTIONS:
        r.error(child_path(path, "session"),
                f"expected one of {', '.join(SESSION_ACTIONS)}, got {session!r}")
        session = None
    if name is None or target is None or not sources:
        return None
    return TransitionSpec(name, tuple(sources), target, chance, every, condition,
                          tuple(variables), tuple(updates), tuple(emits), profile, session, path)


def _chance(r: Reader, spec: dict[str, Any], path: str) -> tuple[float | None, float | None]:
    if "chance" in spec and "every" in spec:
        r.error(path, "give either 'chance' (percent per tick) or 'every' (mean interval), "
                "not both")
        return None, None
    if "every" in spec:
        try:
            every = parse_duration_ms(spec["every"])
        except ValueError as exc:
            r.error(child_path(path, "every"), str(exc))
            return None, None
        if every <= 0:
            r.error(child_path(path, "every"), "the mean interval must be longer than zero")
            return None, None
        return None, every
    if "chance" not in spec:
        r.error(path, "missing 'chance' (percent per tick, e.g. 0.1) or 'every' (e.g. 17h)")
        return None, None
    value = spec["chance"]
    if isinstance(value, str) and value.strip().endswith("%"):
        with contextlib.suppress(ValueError):
            value = float(value.strip()[:-1])
    number = r.number(value, child_path(path, "chance"))
    if number is not None and number < 0:
        r.error(child_path(path, "chance"), f"a chance cannot be negative (got {number:g} %)")
        return None, None
    if number is not None and number > 100:
        r.error(child_path(path, "chance"),
                f"a chance is a percentage of at most 100 (got {number:g})")
        return None, None
    return number, None


def _expression_map(r: Reader, value: Any, path: str) -> list[tuple[str, str]]:
    mapping = r.mapping(value, path)
    if mapping is None:
        return []
    out = []
    for key, text in mapping.items():
        expr = r.expression(text, child_path(path, key))
        if expr is not None:
            out.append((key, expr))
    return out


def _updates(r: Reader, value: Any, path: str) -> list[Assignment]:
    if isinstance(value, dict):
        return [Assignment(k, "=", e, child_path(path, k))
                for k, e in _expression_map(r, value, path)]
    if isinstance(value, str):
        value = [value]
    items = r.sequence(value, path)
    out = []
    for i, item in enumerate(items or []):
        ipath = child_path(path, i)
        text = r.string(item, ipath)
        if text is None:
            continue
        try:
            target, op, value = parse_assignment(text)
        except ExprError as exc:
            r.error(ipath, f"expected an assignment such as 'balance += amount', got {text!r}: "
                    f"{exc.message} (column {exc.column})")
            continue
        out.append(Assignment(target, op, value.text, ipath))
    return out


def _emits(r: Reader, value: Any, path: str) -> list[EmitSpec]:
    if isinstance(value, str | dict):
        value = [value]
    items = r.sequence(value, path)
    out = []
    for i, item in enumerate(items or []):
        ipath = child_path(path, i)
        if isinstance(item, str):
            out.append(EmitSpec(item, (), ipath))
            continue
        spec = r.mapping(item, ipath, EMIT_KEYS, required=fmt.EMIT.required)
        if spec is None or "topic" not in spec:
            continue
        topic = r.string(spec["topic"], child_path(ipath, "topic"))
        fields, shaped = parse_fields(r, spec.get("fields", {}), child_path(ipath, "fields"))
        if topic is not None:
            out.append(EmitSpec(topic, tuple(fields), ipath, tuple(shaped)))
    return out


def _profiles(r: Reader, value: Any, default_tz: str) -> tuple[ProfileSpec, ...]:
    profiles = r.mapping(value, "profiles")
    if profiles is None:
        return ()
    out = []
    for name, body in profiles.items():
        path = child_path("profiles", name)
        spec = r.mapping(body, path, PROFILE_KEYS)
        if spec is None:
            continue
        hours = _multipliers(r, spec.get("hours"), child_path(path, "hours"), 24)
        weekdays = _multipliers(r, spec.get("weekdays"), child_path(path, "weekdays"), 7)
        tz = r.string(spec.get("timezone", default_tz), child_path(path, "timezone")) or default_tz
        out.append(ProfileSpec(name, hours, weekdays, tz, path))
    return tuple(out)


def _multipliers(r: Reader, value: Any, path: str, size: int) -> tuple[float, ...]:
    """A full list of `size` multipliers, or a sparse mapping index -> multiplier (others 1)."""
    out = [1.0] * size
    if value is None:
        return tuple(out)
    if isinstance(value, dict):
        for key, mult in value.items():
            kpath = child_path(path, key)
            index = r.integer(key, kpath)
            number = r.number(mult, kpath, minimum=0)
            if index is None or number is None:
                continue
            if not 0 <= index < size:
                r.error(kpath, f"expected an index from 0 to {size - 1}, got {index}")
                continue
            out[index] = number
        return tuple(out)
    items = r.sequence(value, path)
    if items is None:
        return tuple(out)
    if len(items) != size:
        r.error(path, f"expected {size} multipliers, got {len(items)}")
        return tuple(out)
    for i, mult in enumerate(items):
        number = r.number(mult, child_path(path, i), minimum=0)
        if number is not None:
            out[i] = number
    return tuple(out)


def _population(r: Reader, value: Any, default_state: str) -> PopulationSpec:
    spec = r.mapping(value, "population", POPULATION_KEYS) or {}
    users = r.integer(spec["users"], "population.users", minimum=0) if "users" in spec else None
    rate = 0.0
    if "arrivals" in spec:
        arrivals = r.mapping(spec["arrivals"], "population.arrivals", ARRIVAL_KEYS) or {}
        if len(arrivals) != 1:
            r.error("population.arrivals", "give exactly one of every, per_hour, per_day")
        elif "every" in arrivals:
            try:
                rate = 1.0 / parse_duration_ms(arrivals["every"])
            except (ValueError, ZeroDivisionError) as exc:
                r.error("population.arrivals.every", str(exc) or "must be longer than zero")
        else:
            key = next(iter(arrivals))
            count = r.number(arrivals[key], f"population.arrivals.{key}", minimum=0)
            rate = (count or 0.0) / (3_600_000.0 if key == "per_hour" else 86_400_000.0)
    state = (r.string(spec["arrival_state"], "population.arrival_state")
             if "arrival_state" in spec else default_state)
    return PopulationSpec(users, rate, state or default_state)
