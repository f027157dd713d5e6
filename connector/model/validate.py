"""Semantic validation: states, chances, expressions (type-checked) and emitted fields vs schemas.

Every problem is collected (not just the first) so `doge validate` can print them all at once.
The result, a ValidatedModel, carries the type-checked expressions the engine compiles.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from connector.errors import Problem, UserError
from connector.model import expr as ex
from connector.model.avro import FieldSpec, LoadedSchema, parse_schema_text
from connector.model.emits import CheckedEmit, check_emit, emit_expressions
from connector.model.expr.lexer import KEYWORDS
from connector.model.parse import parse_model
from connector.model.source import Document, child_path, load_file
from connector.model.spec import KeyKind, ModelSpec, TransitionSpec
from connector.model.state_checks import (
    check_chances,
    check_reachability,
    check_states,
)

# Names the engine provides (besides attributes and vars), all from expr's one table.
BUILTIN_NAMES = dict(ex.ENGINE_NAMES)
INIT_NAMES = {n.name: n.type for n in ex.ENGINE_NAME_TABLE if n.at_creation}
NULLABLE_NAMES = frozenset(n.name for n in ex.ENGINE_NAME_TABLE if n.nullable)
# Schema fields filled without an explicit expression when the name matches.
DEFAULT_FIELD_EXPRESSIONS = {field: n.name for n in ex.ENGINE_NAME_TABLE for field in n.fields}
# Kafka's rule for topic names (they are file names of the local destination too).
TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}")


@attrs.frozen
class CheckedTransition:
    spec: TransitionSpec
    variables: tuple[tuple[str, ex.Checked], ...]
    condition: ex.Checked | None
    updates: tuple[tuple[str, str, ex.Checked], ...]  # (attribute, op, expression)
    emits: tuple[CheckedEmit, ...]


@attrs.frozen
class ValidatedModel:
    spec: ModelSpec
    initial_values: tuple[tuple[str, ex.Checked], ...]
    transitions: tuple[CheckedTransition, ...]
    schemas: dict[str, LoadedSchema]  # model topic -> its value schema
    warnings: tuple[Problem, ...]
    key_schemas: dict[str, LoadedSchema] = attrs.field(factory=dict)  # topic -> record key


class _Checker:
    def __init__(self, doc: Document, spec: ModelSpec, functions: tuple[ex.FunctionSpec, ...]):
        self.doc = doc
        self.spec = spec
        self.functions = functions
        self.problems: list[Problem] = []
        self.sites = ex.SiteCounter()
        self.nullable_names = set(NULLABLE_NAMES)  # plus variables that may be null
        self.topic_names = {t.name for t in spec.topics}
        # Names whose definition already has an error: their uses are not reported again.
        self.broken: set[str] = _dropped_attributes(doc, spec)
        self.key_schemas: dict[str, LoadedSchema] = {}  # topic -> its record key's schema

    def error(self, path: str, message: str) -> None:
        problem = self.doc.problem(path, message)
        if problem not in self.problems:  # a topic's key is checked once per emit
            self.problems.append(problem)

    def peek(self, text: str, names: dict[str, ex.ExprType]) -> ex.Checked | None:
        env = ex.TypeEnv(names=names, functions=self.functions,
                         nullable=[n for n in names if n in self.nullable_names])
        try:
            return ex.check(ex.parse(text), env, ex.SiteCounter())
        except ex.ExprError:
            return None

    def is_broken(self, name: str) -> bool:
        return name in self.broken

    def default_expression(self, f: FieldSpec, names: dict[str, ex.ExprType]) -> str | None:
        return _default_expression(f, names)

    def with_local(self, name: str) -> Callable[[], None]:
        """`name` is not nullable until the returned function is called."""
        was = name in self.nullable_names
        self.nullable_names.discard(name)
        return lambda: self.nullable_names.add(name) if was else None

    def warning(self, path: str, message: str) -> None:
        self.problems.append(self.doc.problem(path, message, severity="warning"))

    def check(self, text: str, path: str, names: dict[str, ex.ExprType],
              expected: tuple[ex.ExprType, ...] | None = None,
              nullable: bool = False, node: ex.Node | None = None,
              written: bool = True) -> ex.Checked | None:
        """Type-check `text` (or its already parsed `node`, whose columns count in `text`).
        `written`: `text` is what the user wrote (else a default: no column is given)."""
        env = ex.TypeEnv(names=names, functions=self.functions,
                         nullable=[n for n in names if n in self.nullable_names])
        try:
            tree = node if node is not None else ex.parse(text)
        except ex.ExprError as exc:
            self.error(path, _where(exc, text, written))
            return None
        if ex.names_used(tree) & self.broken:
            return None  # an earlier error (the name's definition) explains this one
        try:
            checked = ex.check(tree, env, self.sites)
        except ex.ExprError as exc:
            self.error(path, _where(exc, text, written))
            return None
        if expected is not None and not _fits(checked.type, expected, nullable):
            wanted = " or ".join(t.name for t in expected) + (" or null" if nullable else "")
            self.error(path, f"expected a {wanted} expression, but {text!r} is {checked.type.name}")
            return None
        if expected is not None and checked.nullable and not nullable:
            self.error(path, f"{text!r} may be null, but this value cannot be (wrap it in "
                       "coalesce(..., default), or make the Avro field a union with null)")
            return None
        return checked


def _where(exc: ex.ExprError, text: str, written: bool) -> str:
    return f"{exc.message} (column {exc.column} of {text!r})" if written else \
        f"{exc.message} (in the default value {text!r})"


def _dropped_attributes(doc: Document, spec: ModelSpec) -> set[str]:
    """Attributes the document declares that parsing dropped (their error is reported)."""
    declared = doc.data.get("attributes") if isinstance(doc.data, dict) else None
    if not isinstance(declared, dict):
        return set()
    return {str(n) for n in declared} - {a.name for a in spec.attributes}


def _written(doc: Document, path: str) -> str | None:
    """The text the user wrote at `path` (e.g. `transitions[0].update[1]`), if it is a string."""
    value: Any = doc.data
    for key, index in re.findall(r"\.?([^.\[\]]+)|\[(\d+)\]", path):
        if index:
            ok = isinstance(value, list) and int(index) < len(value)
            value = value[int(index)] if ok else None
        else:
            value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) else None


def _fits(actual: ex.ExprType, expected: tuple[ex.ExprType, ...], nullable: bool) -> bool:
    if actual in expected:
        return True
    if actual is ex.ExprType.NULL:
        return nullable
    promotions = {ex.ExprType.LONG: (ex.ExprType.DOUBLE, ex.ExprType.TIMESTAMP),
                  ex.ExprType.TIMESTAMP: (ex.ExprType.LONG,)}
    return any(target in expected for target in promotions.get(actual, ()))


def load_model(path: str | Path, functions: tuple[ex.FunctionSpec, ...] = ()) -> ValidatedModel:
    """Load and validate a model file; raises UserError listing every error found."""
    doc = load_file(path)
    return validate_document(doc, Path(path).resolve().parent, functions)


def validate_document(doc: Document, base_dir: Path,
                      functions: tuple[ex.FunctionSpec, ...] = ()) -> ValidatedModel:
    """Validate an already parsed model (a file, or inline in a connector config)."""
    model, problems = collect_problems(doc, base_dir, functions)
    errors = [p for p in problems if p.severity == "error"]
    if errors or model is None:
        raise UserError(problems)
    return model


def collect_problems(doc: Document, base_dir: Path, functions: tuple[ex.FunctionSpec, ...] = ()
                     ) -> tuple[ValidatedModel | None, list[Problem]]:
    """Every problem of a model, errors and warnings, plus the validated model when error-free."""
    spec, problems = parse_model(doc, base_dir)
    if spec is None:
        return None, problems
    c = _Checker(doc, spec, functions)
    c.problems.extend(problems)
    check_states(c)
    schemas = _check_topics(c)
    key_schemas = _check_key_schemas(c)
    initial = _check_attributes(c)
    c.key_schemas = key_schemas
    transitions = tuple(t for t in (_check_transition(c, t, schemas) for t in spec.transitions)
                        if t is not None)
    check_chances(c)
    check_reachability(c)
    problems = sort_problems(c.problems)
    if any(p.severity == "error" for p in problems):
        return None, problems
    warnings = tuple(p for p in problems if p.severity == "warning")
    return ValidatedModel(spec, initial, transitions, schemas, warnings, key_schemas), problems


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """In file order (by line; problems without a line first), stable otherwise."""
    return sorted(problems, key=lambda p: (p.file or "", p.line or 0))


def _check_topics(c: _Checker) -> dict[str, LoadedSchema]:
    parsed = {}
    for topic in c.spec.topics:
        if not TOPIC_NAME.fullmatch(topic.name) or topic.name in (".", ".."):
            c.error(topic.path, f"topic name {topic.name!r} is not a Kafka topic name: 1 to 249 "
                    "letters, digits, '.', '_' or '-'")
            continue
        schema = _schema(c, topic.schema, topic.schema_file,
                         f"<inline schema of topic {topic.name}>", topic.path)
        if schema is not None:
            parsed[topic.name] = schema
    return parsed


def _check_key_schemas(c: _Checker) -> dict[str, LoadedSchema]:
    """Topic -> its record key schema, for topics whose `key:` gives one."""
    parsed = {}
    for topic in c.spec.topics:
        key = topic.key
        if key is None or key.kind is not KeyKind.RECORD or key.schema is None:
            continue
        schema = _schema(c, key.schema, key.schema_file,
                         f"<inline key schema of topic {topic.name}>", key.path)
        if schema is not None:
            parsed[topic.name] = schema
    return parsed


def _schema(c: _Checker, data: dict[str, Any], file: str | None, inline: str, path: str
            ) -> LoadedSchema | None:
    """A schema given in a model (a file's content or inline); errors at `path`.schema."""
    try:
        return parse_schema_text(json.dumps(data), file or inline)
    except UserError as exc:
        for p in exc.problems:
            c.error(child_path(path, "schema"), p.message)
        return None


def _check_attributes(c: _Checker) -> tuple[tuple[str, ex.Checked], ...]:
    out = []
    for a in c.spec.attributes:
        if a.name in BUILTIN_NAMES:
            c.error(a.path, f"attribute name '{a.name}' is reserved for a built-in value")
            continue
        if not ex.is_name(a.name):
            c.error(a.path, _not_a_name("attribute", a.name))
            continue
        checked = c.check(a.initial, child_path(a.path, "initial"), dict(INIT_NAMES),
                          expected=(a.type,))
        if checked is not None:
            out.append((a.name, checked))
    return tuple(out)


def _not_a_name(kind: str, name: str) -> str:
    return (f"{kind} name {name!r} cannot be used in expressions: a name is letters, digits "
            "and _, not starting with a digit, and not one of "
            + ", ".join(sorted(KEYWORDS)))


def _attribute_types(c: _Checker) -> dict[str, ex.ExprType]:
    return {a.name: a.type for a in c.spec.attributes if ex.is_name(a.name)}


def _check_transition(c: _Checker, t: TransitionSpec, schemas: dict[str, LoadedSchema]
                      ) -> CheckedTransition | None:
    attributes = _attribute_types(c)
    names = {**BUILTIN_NAMES, **attributes}
    c.nullable_names = set(NULLABLE_NAMES)
    outer = c.broken
    broken = c.broken = set(outer)  # this transition's broken vars too
    try:
        return _check_transition_body(c, t, schemas, names, attributes, broken)
    finally:
        c.broken = outer


def _check_transition_body(c: _Checker, t: TransitionSpec, schemas: dict[str, LoadedSchema],
                           names: dict[str, ex.ExprType], attributes: dict[str, ex.ExprType],
                           broken: set[str]) -> CheckedTransition:
    variables = []
    for var, text in t.variables:
        vpath = child_path(child_path(t.path, "vars"), var)
        if var in names:
            c.error(vpath, f"variable '{var}' hides an attribute or built-in of the same name")
            continue
        if not ex.is_name(var):
            c.error(vpath, _not_a_name("variable", var))
            continue
        checked = c.check(text, vpath, names)
        if checked is not None and checked.type is ex.ExprType.NULL:
            c.error(vpath, f"variable '{var}' is always null; give it a value of some type, "
                    "e.g. if(cond, x, null)")
            continue
        if checked is not None:
            variables.append((var, checked))
            names[var] = checked.type
            if checked.nullable:
                c.nullable_names.add(var)
        else:
            broken.add(var)
    condition = None
    if t.condition is not None:
        condition = c.check(t.condition, child_path(t.path, "condition"), names,
                            expected=(ex.ExprType.BOOLEAN,))
    updates = []
    assigned: set[str] = set()
    for u in t.updates:
        if u.target not in attributes:
            if u.target not in c.broken:
                c.error(u.path, f"unknown attribute '{u.target}'; attributes: "
                        f"{', '.join(attributes) or '(none)'}")
            continue
        if u.target in assigned:
            c.error(u.path, f"attribute '{u.target}' is updated twice by transition '{t.name}'")
            continue
        assigned.add(u.target)
        wanted = attributes[u.target]
        written = _written(c.doc, u.path)
        if written is not None and u.path.endswith("]"):
            # `balance += amount`: check the expanded expression with the columns of what the
            # user wrote (not of a rewritten text).
            try:
                target, op, value = ex.parse_assignment(written)
                node: ex.Node | None = ex.expand_assignment(target, op, value)
            except ex.ExprError as exc:
                c.error(u.path, _where(exc, written, True))
                continue
            checked = c.check(written, u.path, names, expected=(wanted,), node=node)
        else:
            text = u.expression if u.op == "=" else f"{u.target} {u.op[0]} ({u.expression})"
            checked = c.check(text, u.path, names, expected=(wanted,), written=u.op == "=")
        if checked is not None:
            updates.append((u.target, u.op, checked))
    emits = []
    for e in t.emits:
        emit = check_emit(c, t, e, names, schemas, c.key_schemas)
        if emit is not None:
            emits.append(emit)
    return CheckedTransition(t, tuple(variables), condition, tuple(updates), tuple(emits))


def _default_expression(f: FieldSpec, names: dict[str, ex.ExprType]) -> str | None:
    if f.name in names and f.name not in DEFAULT_FIELD_EXPRESSIONS:
        return f.name  # an attribute or variable of the same name
    text = DEFAULT_FIELD_EXPRESSIONS.get(f.name)
    if text == "user_id" and f.value_type is ex.ExprType.STRING:
        return "user_key"  # the user id as a string, built once per transition
    if text == "tick" and f.value_type is ex.ExprType.STRING:
        return "string(tick)"
    return text


def all_expressions(model: ValidatedModel) -> list[ex.Checked]:
    """Every checked expression in model order (initial values, then each transition's)."""
    out = [e for _, e in model.initial_values]
    for t in model.transitions:
        out.extend(e for _, e in t.variables)
        out.extend([t.condition] if t.condition is not None else [])
        out.extend(e for _, _, e in t.updates)
        for emit in t.emits:
            out.extend(emit_expressions(emit))
    return out


__all__ = ["ValidatedModel", "all_expressions", "collect_problems", "load_model",
           "validate_document"]
