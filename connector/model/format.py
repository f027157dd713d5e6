"""The model file format as a table: every section, its keys, what each holds and what it means.

The parser takes its known and required keys from here, and `jsonschema.py` turns the same table
into the JSON Schema editors use for completion and hover docs (`schemas/model.schema.json`), so
the two cannot disagree.
"""

from __future__ import annotations

from typing import Any

import attrs

from connector.core.types import ATTRIBUTE_TYPES
from connector.model.spec import SESSION_ACTIONS

# JSON Schema fragments of the value kinds used below.
NAME: dict[str, Any] = {"type": "string", "minLength": 1}
EXPRESSION: dict[str, Any] = {"type": ["string", "number", "boolean"],
                              "description": "An expression (see connector/model/expr/README.md)."}
DURATION: dict[str, Any] = {"type": ["string", "number"],
                            "description": "500ms, 30s, 1m, 17h, 2d, ISO-8601 (PT17H, P1D) or "
                                           "milliseconds."}
NAMES: dict[str, Any] = {"type": "array", "items": NAME}
MULTIPLIER: dict[str, Any] = {"type": "number", "minimum": 0}
SPELLINGS = [t.spelling for t in ATTRIBUTE_TYPES]


@attrs.frozen
class Key:
    name: str
    schema: dict[str, Any]  # JSON Schema of the value (a "$ref" names another section)
    doc: str
    required: bool = False


@attrs.frozen
class Section:
    """One mapping of the format (the model itself, a transition, an attribute ...)."""

    name: str
    doc: str
    keys: tuple[Key, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys if k.required)


def ref(section: str) -> dict[str, Any]:
    return {"$ref": f"#/$defs/{section}"}


DESCRIPTION = Key("description", {"type": "string"}, "Free text for people; ignored.")

ATTRIBUTE = Section("attribute", "A value every user carries, set when the user is created.", (
    Key("type", {"enum": SPELLINGS}, "long, double, boolean or string.",
        required=True),
    Key("initial", EXPRESSION, "Expression for a new user's value (default: zero or empty); it "
        "may draw random numbers and read user_id, tick and time."),
    DESCRIPTION,
))

SCHEMA_REF: dict[str, Any] = {"oneOf": [NAME, {"type": "object"}]}
# A record field's value: an expression, or a mapping/list for records, arrays, maps, unions.
FIELD_VALUE: dict[str, Any] = {
    "type": ["string", "number", "boolean", "null", "object", "array"],
    "description": "An expression; for a nested record a mapping of its fields; for an array a "
                   "list of items or {length, item}; for a map {entries} or {length, key, "
                   "value}; for a union an expression, {Branch: ...} or {if, then, else}."}
FIELDS: dict[str, Any] = {"type": "object", "additionalProperties": FIELD_VALUE}

KEY = Section("key", "An Avro record key, registered under <topic>-key.", (
    Key("schema", SCHEMA_REF, "Name of schemas/<name>.avsc, or an inline Avro record schema.",
        required=True),
    Key("fields", FIELDS, "Value per key field (dotted names for nested ones); unspecified "
        "fields are filled by name, the record's own fields included."),
))

TOPIC = Section("topic", "A topic the model writes, the Avro schema of its values, its key "
                "and headers.", (
    Key("schema", SCHEMA_REF, "Name of schemas/<name>.avsc (looked up in the nearest enclosing "
        "schemas/ folder or the model's `schemas:` path), or an inline Avro record schema.",
        required=True),
    Key("key", {"oneOf": [{"type": "null"}, EXPRESSION, ref("key")]}, "The record key: a STRING "
        "or LONG expression (it may name the record's fields), null for records without a key, "
        "or an Avro record key {schema, fields}. Default: the user id."),
    Key("headers", {"type": "object", "additionalProperties": {
        "oneOf": [EXPRESSION, {"type": "null"}]}}, "Header name: STRING expression, sent as "
        "UTF-8 (null: a header without a value)."),
    DESCRIPTION,
))

EMIT = Section("emit", "One event written to a topic when the transition is taken.", (
    Key("topic", NAME, "The topic (a key of `topics`).", required=True),
    Key("fields", FIELDS, "Value per record field (dotted names reach into nested records); "
        "unspecified fields are filled by name from attributes, vars and built-ins (user_id, "
        "timestamp, event, session_id, ...), else the schema default."),
))

TRANSITION = Section("transition", "A move out of one or more states; per tick each user takes "
                     "at most one outgoing transition of its state.", (
    Key("name", NAME, "Name of the transition (events carry it as `event`/`transition`).",
        required=True),
    Key("from", {"oneOf": [NAME, NAMES]}, "Source state, or a list of them.", required=True),
    Key("to", NAME, "Target state, or `self` to stay in the state it left.", required=True),
    Key("chance", {"oneOf": [{"type": "number", "minimum": 0, "maximum": 100},
                             {"type": "string", "pattern": r"^\s*[0-9.]+\s*%\s*$"}]},
        "Percent per tick, as in DOGE: 0.1 means 0.1 %. Give chance or every."),
    Key("every", DURATION, "Mean interval instead of a chance: per-tick chance "
        "1 - exp(-tick/every), the same behaviour whatever tick.ms is."),
    Key("condition", EXPRESSION, "Boolean expression over attributes and vars; when false the "
        "user stays and nothing is emitted."),
    Key("vars", {"type": "object", "additionalProperties": EXPRESSION}, "Named values computed "
        "first (before the condition), visible to everything after."),
    Key("update", {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}},
                             {"type": "object", "additionalProperties": EXPRESSION}]},
        "Assignments `attr = EXPR` (or += -= *= /=), or a mapping attr: EXPR; all see the "
        "values from before the transition."),
    Key("emit", {"oneOf": [NAME, ref("emit"), {"type": "array",
                                               "items": {"oneOf": [NAME, ref("emit")]}}]},
        "Topics to write an event to, or {topic, fields} entries."),
    Key("profile", NAME, "A time profile (a key of `profiles`) multiplying the chance by hour "
        "and weekday."),
    Key("session", {"enum": list(SESSION_ACTIONS)}, "open: start a session (a new session id); "
        "close: end it (its events carry the session being closed)."),
    DESCRIPTION,
))

PROFILE = Section("profile", "Chance multipliers by hour of day and day of week, in simulated "
                  "local time.", (
    Key("hours", {"oneOf": [{"type": "array", "items": MULTIPLIER, "minItems": 24,
                             "maxItems": 24},
                            {"type": "object", "additionalProperties": MULTIPLIER}]},
        "24 multipliers (hour 0..23), or {hour: multiplier} (others 1)."),
    Key("weekdays", {"oneOf": [{"type": "array", "items": MULTIPLIER, "minItems": 7,
                                "maxItems": 7},
                               {"type": "object", "additionalProperties": MULTIPLIER}]},
        "7 multipliers, Monday first, or {day: multiplier}."),
    Key("timezone", NAME, "IANA time zone of this profile (default: the model's)."),
    DESCRIPTION,
))

ARRIVALS = Section("arrivals", "Growth: new users arriving over time (give one key).", (
    Key("every", DURATION, "Mean interval between arrivals."),
    Key("per_hour", {"type": "number", "minimum": 0}, "Mean arrivals per hour."),
    Key("per_day", {"type": "number", "minimum": 0}, "Mean arrivals per day."),
))

POPULATION = Section("population", "The users: how many, and who arrives later.", (
    Key("users", {"type": "integer", "minimum": 0}, "Default initial population (a connector's "
        "`users` overrides it)."),
    Key("arrivals", ref("arrivals"), "Growth over time."),
    Key("arrival_state", NAME, "State of arriving users (default: the initial state)."),
))

MODEL = Section("model", "A doge-connect model: users walking a state machine and emitting "
                "events.", (
    Key("name", NAME, "Name of the model (default: model)."),
    DESCRIPTION,
    Key("states", NAMES, "Every state name (`self` is reserved).", required=True),
    Key("initial", {"oneOf": [NAME, {"type": "object", "additionalProperties": MULTIPLIER}]},
        "State of created users, or a distribution {state: weight}."),
    Key("final", NAMES, "States users never leave (churn); no outgoing transitions."),
    Key("attributes", {"type": "object", "additionalProperties": {
        "oneOf": [{"enum": SPELLINGS}, ref("attribute")]}},
        "name: {type, initial} (or just the type)."),
    Key("topics", {"type": "object", "additionalProperties": {"oneOf": [NAME, ref("topic")]}},
        "topic: schema name, or {schema: ...}."),
    Key("transitions", {"type": "array", "items": ref("transition")},
        "The moves between states.", required=True),
    Key("profiles", {"type": "object", "additionalProperties": ref("profile")},
        "Named time profiles."),
    Key("population", ref("population"), "Initial users, arrivals, arrival state."),
    Key("timezone", NAME, "IANA zone of calendar functions and profiles (default UTC)."),
    Key("jitter", {"type": "boolean"}, "true: event times spread uniformly inside their tick."),
    Key("schemas", NAME, "Folder of the Avro schemas named in `topics` (relative to the model)."),
))

SECTIONS = (MODEL, TRANSITION, EMIT, ATTRIBUTE, TOPIC, KEY, PROFILE, POPULATION, ARRIVALS)
