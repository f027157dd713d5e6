"""An emit checked against its topic: the record's fields, its key and headers.

Key and header expressions see what the record's fields see, plus the record's own top-level
scalar fields by name (a field hides an attribute or variable of the same name).
"""

from __future__ import annotations

from typing import Protocol

import attrs

from connector.model import expr as ex
from connector.model.avro import FieldSpec, LoadedSchema
from connector.model.expr.lexer import KEYWORDS
from connector.model.fill_check import check_fields
from connector.model.fills import (
    Checking,
    Fill,
    RecordFill,
    ScalarFill,
    convert_kind,
    fill_expressions,
)
from connector.model.source import child_path
from connector.model.spec import EmitSpec, KeyKind, ModelSpec, TopicSpec, TransitionSpec


class EmitChecking(Checking, Protocol):
    """The model validator, as an emit's check needs it."""

    spec: ModelSpec
    nullable_names: set[str]


@attrs.frozen
class CheckedKey:
    """A topic's key as one emit makes it: null, an expression or an Avro record."""

    kind: KeyKind
    expression: ex.Checked | None = None
    record: RecordFill | None = None


@attrs.frozen
class CheckedEmit:
    topic: str
    # Scalar fields filled by one expression as it is (schema order)...
    fields: tuple[tuple[FieldSpec, ex.Checked], ...]
    # ... and every other field (records, arrays, maps, unions, converted scalars): with
    # `fields`, every field of the schema.
    shaped: tuple[tuple[FieldSpec, Fill], ...] = ()
    key: CheckedKey | None = None  # None: the user id
    headers: tuple[tuple[str, ex.Checked], ...] = ()
    path: str = ""


def check_emit(c: EmitChecking, t: TransitionSpec, e: EmitSpec, names: dict[str, ex.ExprType],
                schemas: dict[str, LoadedSchema], key_schemas: dict[str, LoadedSchema]
                ) -> CheckedEmit | None:
    topic, path = e.topic, e.path
    if topic not in {tp.name for tp in c.spec.topics}:
        c.error(child_path(path, "topic"), f"transition '{t.name}' emits to unknown topic "
                f"'{topic}'; topics: {', '.join(tp.name for tp in c.spec.topics) or '(none)'}")
        return None
    if topic not in schemas:
        return None  # its schema already has an error
    schema = schemas[topic]
    where = f"topic '{topic}'"
    checked = check_fields(c, schema.type, e.given(), path, names, where)
    if any(fill is None for _, fill in checked):
        return None
    plain, shaped = [], []
    for f, fill in checked:
        if isinstance(fill, ScalarFill) and _as_is(fill):
            plain.append((f, fill.checked))
        elif fill is not None:
            shaped.append((f, fill))
    spec = c.spec.topic(topic)
    key_names = dict(names)
    saved = set(c.nullable_names)
    for f, fill in checked:  # key and headers see the record's scalar fields by name
        if isinstance(fill, ScalarFill) and f.name.isidentifier() and \
                f.name not in KEYWORDS and fill.checked.type is not ex.ExprType.NULL:
            key_names[f.name] = fill.checked.type
            if fill.checked.nullable:
                c.nullable_names.add(f.name)
            else:
                c.nullable_names.discard(f.name)
    key = _check_key(c, spec, key_names, key_schemas)
    headers = []
    for h in spec.headers:
        header = c.check(h.expression, h.path, key_names, expected=(ex.ExprType.STRING,),
                         nullable=True)
        if header is not None:
            headers.append((h.name, header))
    c.nullable_names = saved
    if (spec.key is not None and key is None) or len(headers) != len(spec.headers):
        return None
    return CheckedEmit(topic, tuple(plain), tuple(shaped), key, tuple(headers), path)


def _as_is(fill: ScalarFill) -> bool:
    """Whether the expression's values go to the encoder as they are (timestamps in micro- or
    nanoseconds too: engine/fields.py scales top-level ones)."""
    return convert_kind(fill.type, fill.checked.type) in (None, "timestamp-units")


def _check_key(c: EmitChecking, spec: TopicSpec, names: dict[str, ex.ExprType],
               key_schemas: dict[str, LoadedSchema]) -> CheckedKey | None:
    key = spec.key
    if key is None:
        return None
    if key.kind is KeyKind.NULL:
        return CheckedKey(KeyKind.NULL)
    if key.kind is KeyKind.EXPRESSION:
        assert key.expression is not None
        checked = c.check(key.expression, key.path, names,
                          expected=(ex.ExprType.STRING, ex.ExprType.LONG), nullable=True)
        return None if checked is None else CheckedKey(KeyKind.EXPRESSION, expression=checked)
    schema = key_schemas.get(spec.name)
    if schema is None:
        return None  # its schema already has an error
    where = f"the key of topic '{spec.name}'"
    checked_fields = check_fields(c, schema.type, key.given(), key.path, names, where)
    record = RecordFill(schema.type, tuple((f.name, fill) for f, fill in checked_fields
                                                 if fill is not None))
    if len(record.fields) != len(checked_fields):
        return None
    return CheckedKey(KeyKind.RECORD, record=record)


def emit_expressions(emit: CheckedEmit) -> list[ex.Checked]:
    """Every expression of an emit: its fields in schema order, its key, its headers."""
    order = {f.name: i for i, f in enumerate(f for f, _ in (*emit.fields, *emit.shaped))}
    parts: list[tuple[int, list[ex.Checked]]] = [(order[f.name], [e]) for f, e in emit.fields]
    parts += [(order[f.name], fill_expressions(fill)) for f, fill in emit.shaped]
    out = [e for _, group in sorted(parts, key=lambda p: p[0]) for e in group]
    if emit.key is not None:
        out.extend([emit.key.expression] if emit.key.expression is not None else [])
        if emit.key.record is not None:
            out.extend(fill_expressions(emit.key.record))
    out.extend(e for _, e in emit.headers)
    return out
