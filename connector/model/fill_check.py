"""Check the model's field forms against the schema's types, building their fills (fills.py
says what each form means); errors name the file, line and field path."""

from __future__ import annotations

from collections.abc import Mapping

from connector.core.types import ValueType
from connector.model import expr as ex
from connector.model.avrotypes import AvroType, FieldSpec, Kind
from connector.model.expr.valuefns import sequences_of
from connector.model.fills import (
    ARRAY_FORM,
    CONDITIONAL_FORM,
    INDEX,
    MAP_FORM,
    ArrayFill,
    BranchFill,
    Checking,
    CondFill,
    ConstFill,
    Fill,
    MapFill,
    Names,
    RecordFill,
    ScalarFill,
    fill_expressions,
    literal,
)
from connector.model.spec import FieldNode
from connector.model.static_values import static_field_problem, static_values

_L, _D, _S, _T = ValueType.LONG, ValueType.DOUBLE, ValueType.STRING, ValueType.TIMESTAMP


def check_fields(c: Checking, record: AvroType, given: Mapping[str, FieldNode], path: str,
                 names: Names, where: str, label: str = ""
                 ) -> list[tuple[FieldSpec, Fill | None]]:
    """Every field of `record` with its fill (None where an error was reported), schema order.

    `where` says what the fields belong to in messages ("topic 'x'"); `label` is the dotted
    path of the record inside the value ("" at the top)."""
    by_name = {f.name: f for f in record.fields}
    for key, node in given.items():
        if key not in by_name:
            inside = f"record field '{label}'" if label else f"the schema of {where}"
            c.error(node.path, f"field '{label + '.' if label else ''}{key}' is not in "
                    f"{inside}; its fields: {', '.join(by_name) or '(none)'}")
    return [(f, check_field(c, f, given.get(f.name), path, names, where, label))
            for f in record.fields]


def check_field(c: Checking, f: FieldSpec, node: FieldNode | None, path: str, names: Names,
                where: str, label: str = "") -> Fill | None:
    """The fill of one record field, given (`node`) or by name / default when not."""
    dotted = f"{label}.{f.name}" if label else f.name
    if node is not None:
        return check_value(c, f.type, node, names, dotted)
    text = c.default_expression(f, names) if _takes_expression(f.type) else None
    if text is not None:
        return check_value(c, f.type, FieldNode(path, expression=text), names, dotted, False)
    if f.has_default:
        if (_takes_expression(f.type) and f.type.kind is not Kind.UNION) or f.nullable:
            return check_value(c, f.type, FieldNode(path, expression=literal(f.default)),
                               names, dotted, False)
        return ConstFill(f.type, f.default)
    if f.type.kind is Kind.RECORD:
        fields = check_fields(c, f.type, {}, path, names, where, dotted)
        return _record(f.type, fields)
    if c.is_broken(f.name):
        return None  # its attribute or variable already has an error
    shown = f.avro_type if f.value_type is not None else f.type.describe()
    c.error(path, f"field '{dotted}' ({shown}) of {where} gets no value: give "
            f"fields.{dotted}, or name an attribute or variable '{f.name}'")
    return None


def _takes_expression(t: AvroType) -> bool:
    """Whether a value of `t` can come from one expression (by name, for a field not given)."""
    if t.kind is Kind.UNION:
        return any(b.value_type is not None for b in t.branches)
    return t.value_type is not None


def check_value(c: Checking, t: AvroType, node: FieldNode, names: Names, label: str,
                written: bool = True) -> Fill | None:
    """The fill of a value of type `t` given as `node` (`written`: by the user, not a default
    by name)."""
    if t.kind is Kind.UNION:
        return _union(c, t, node, names, label, written)
    if node.expression is not None:
        if t.value_type is not None:
            return _scalar(c, t, node, names, label, written=written)
        c.error(node.path, f"field '{label}' is {_article(t)}: {_how(t, label)}")
        return None
    if t.kind is Kind.RECORD:
        if node.entries is None:
            c.error(node.path, f"field '{label}' is {_article(t)}: {_how(t, label)}")
            return None
        fields = check_fields(c, t, dict(node.entries), node.path, names,
                              f"record {t.name}", label)
        return _record(t, fields)
    if t.kind is Kind.ARRAY:
        return _array(c, t, node, names, label)
    if t.kind is Kind.MAP:
        return _map(c, t, node, names, label)
    c.error(node.path, f"field '{label}' is {_article(t)}: give an expression, not a "
            f"{'list' if node.items is not None else 'mapping'}")
    return None


def _record(t: AvroType, fields: list[tuple[FieldSpec, Fill | None]]) -> RecordFill | None:
    if any(fill is None for _, fill in fields):
        return None
    return RecordFill(t, tuple((f.name, fill) for f, fill in fields if fill is not None))


def _scalar(c: Checking, t: AvroType, node: FieldNode, names: Names, label: str,
            nullable: bool = False, written: bool = True) -> ScalarFill | None:
    """`t` is a scalar type, or a union of null and one (then `nullable` is True)."""
    assert node.expression is not None
    pair = t.nullable_of
    base = t if pair is None else pair[0]
    value_type = base.value_type
    assert value_type is not None
    checked = c.check(node.expression, node.path, names, expected=(value_type,),
                      nullable=nullable, written=written)
    if checked is None:
        return None
    problem = _static_problem(base, checked, label)
    if problem is not None:
        c.error(node.path, f"value {node.expression}: {problem}")
        return None
    return ScalarFill(t, checked)


def _static_problem(t: AvroType, checked: ex.Checked, label: str) -> str | None:
    """What is wrong with an expression for `t` that no run could fix: the static checks of
    record fields (enum symbols, int range), a TIMESTAMP into an int, a fixed's size."""
    if t.kind is Kind.INT and t.logical is None and checked.type is _T:
        return ("a TIMESTAMP (epoch milliseconds) does not fit an Avro int (32 bits); use "
                "long(time) // 1000 for epoch seconds, or make the field a long with "
                "logicalType timestamp-millis")
    problem = static_field_problem(FieldSpec(label, t), checked)
    if problem is not None or t.kind is not Kind.FIXED or t.logical is not None:
        return problem
    values = static_values(checked)
    bad = [v for v in values or () if isinstance(v, str) and len(v.encode()) != t.size]
    return f"{bad[0]!r} is not {t.size} bytes long (a fixed of size {t.size})" if bad else None


def _array(c: Checking, t: AvroType, node: FieldNode, names: Names, label: str
           ) -> ArrayFill | None:
    assert t.items is not None
    item_names = {**names, INDEX: _L}
    restore = c.with_local(INDEX)
    try:
        if node.items is not None:
            items = [check_value(c, t.items, item, item_names, f"{label}[{i}]")
                     for i, item in enumerate(node.items)]
            if any(i is None for i in items):
                return None
            return ArrayFill(t, None, tuple(i for i in items if i is not None))
        form = _form(c, node, ARRAY_FORM, ARRAY_FORM, label, _how(t, label))
        if form is None:
            return None
        length = _length(c, form["length"], names)
        item = check_value(c, t.items, form["item"], item_names, f"{label}[]")
    finally:
        restore()
    if length is None or item is None or not _no_sequences(c, item, node.path, label):
        return None
    return ArrayFill(t, length, (item,))


def _map(c: Checking, t: AvroType, node: FieldNode, names: Names, label: str
         ) -> MapFill | None:
    assert t.items is not None
    entries = node.entry("entries")
    if node.entries is not None and entries is not None and len(node.entries) == 1:
        if entries.entries is None:
            c.error(entries.path, f"field '{label}': entries must be a mapping key -> value")
            return None
        values = [check_value(c, t.items, v, names, f"{label}.{k}") for k, v in entries.entries]
        if any(v is None for v in values):
            return None
        keys = tuple(k for k, _ in entries.entries)
        return MapFill(t, None, None, keys, tuple(v for v in values if v is not None))
    form = _form(c, node, MAP_FORM, MAP_FORM, label, _how(t, label))
    if form is None:
        return None
    item_names = {**names, INDEX: _L}
    restore = c.with_local(INDEX)
    try:
        length = _length(c, form["length"], names)
        key = _expression(c, form["key"], item_names, _S, label)
        value = check_value(c, t.items, form["value"], item_names, f"{label}{{}}")
    finally:
        restore()
    if length is None or key is None or value is None:
        return None
    if not _no_sequences(c, MapFill(t, None, key, (), (value,)), node.path, label):
        return None
    return MapFill(t, length, key, (), (value,))


def _union(c: Checking, t: AvroType, node: FieldNode, names: Names, label: str,
           written: bool = True) -> Fill | None:
    null = next((k for k, b in enumerate(t.branches) if b.kind is Kind.NULL), None)
    if node.expression is not None:
        return _union_expression(c, t, node, names, label, null, written)
    keys = [k for k, _ in node.entries or ()]
    if node.entries is not None and keys and set(keys) <= set(CONDITIONAL_FORM) and "if" in keys:
        return _conditional(c, t, node, names, label, null)
    if node.entries is not None and len(keys) == 1:
        k = _branch_named(t, keys[0])
        if k is not None:
            inner_node = node.entries[0][1]
            return _branch(c, t, k, inner_node, names, label)
    wanted = Kind.ARRAY if node.items is not None else Kind.RECORD
    fits = [k for k, b in enumerate(t.branches) if b.kind is wanted]
    if len(fits) == 1:
        return _branch(c, t, fits[0], node, names, label)
    if node.entries is not None:  # an array or map form for the only array or map branch
        for kind, form in ((Kind.ARRAY, ARRAY_FORM), (Kind.MAP, MAP_FORM)):
            fits = [k for k, b in enumerate(t.branches) if b.kind is kind]
            if len(fits) == 1 and (set(keys) <= set(form) or (kind is Kind.MAP
                                   and keys == ["entries"])):
                return _branch(c, t, fits[0], node, names, label)
    branches = ", ".join(b.branch_name for b in t.branches)
    c.error(node.path, f"field '{label}' is a union ({branches}): say which branch, e.g. "
            f"{{{t.branches[-1].branch_name}: ...}}, or give {{if: COND, then: ..., else: ...}}")
    return None


def _union_expression(c: Checking, t: AvroType, node: FieldNode, names: Names, label: str,
                      null: int | None, written: bool) -> Fill | None:
    assert node.expression is not None
    pair = t.nullable_of
    if pair is not None and pair[0].value_type is not None:
        return _scalar(c, t, node, names, label, nullable=True, written=written)
    checked = c.peek(node.expression, names)
    if checked is None:  # reports the error
        c.check(node.expression, node.path, names, nullable=True, written=written)
        return None
    if checked.type is ex.ExprType.NULL:
        if null is None:
            c.error(node.path, f"field '{label}' cannot be null: its union has no null branch")
            return None
        return ConstFill(t, None)
    k = _branch_for(t, checked.type)
    if k is None:
        branches = ", ".join(b.describe() for b in t.branches)
        c.error(node.path, f"field '{label}': {node.expression!r} is {checked.type}, which "
                f"fits no branch of its union ({branches})")
        return None
    if checked.nullable and null is None:
        c.error(node.path, f"{node.expression!r} may be null, but field '{label}' cannot be "
                "(its union has no null branch); use coalesce(..., default)")
        return None
    inner = _scalar(c, t.branches[k], node, names, label, nullable=checked.nullable,
                    written=written)
    if inner is None:
        return None
    return BranchFill(t, k, inner, null if checked.nullable else None)


def _branch_for(t: AvroType, value_type: ex.ExprType) -> int | None:
    """The branch an expression of this type fills: its own type first, then a widening."""
    preference = {
        _L: ("long", "int", "double", "float"),
        _T: ("long", "int"),
        _D: ("double", "float"),
        ValueType.BOOLEAN: ("boolean",),
        _S: ("string", "enum", "bytes", "fixed"),
    }[value_type]
    for kind in preference:
        for k, b in enumerate(t.branches):
            if b.kind.value != kind or b.value_type is None:
                continue
            if value_type is _T and b.value_type is not _T and kind == "long":
                continue  # a TIMESTAMP prefers a timestamp branch; a plain long comes next
            return k
    if value_type is _T:
        return next((k for k, b in enumerate(t.branches) if b.kind is Kind.LONG), None)
    return None


def _branch_named(t: AvroType, name: str) -> int | None:
    for k, b in enumerate(t.branches):
        short = b.name.rsplit(".", 1)[-1] if b.name else None
        if name in (b.branch_name, short):
            return k
    return None


def _branch(c: Checking, t: AvroType, k: int, node: FieldNode, names: Names, label: str
            ) -> BranchFill | None:
    if t.branches[k].kind is Kind.NULL:
        c.error(node.path, f"field '{label}': the null branch takes no value; use null")
        return None
    inner = check_value(c, t.branches[k], node, names, label)
    return None if inner is None else BranchFill(t, k, inner)


def _conditional(c: Checking, t: AvroType, node: FieldNode, names: Names, label: str,
                 null: int | None) -> CondFill | None:
    form = _form(c, node, CONDITIONAL_FORM, ("if", "then"), label, "")
    if form is None:
        return None
    condition = _expression(c, form["if"], names, ValueType.BOOLEAN, label)
    then = _arm(c, t, form["then"], names, label)
    other = form.get("else")
    otherwise: BranchFill | None = None
    if other is not None and other.expression != "null":
        otherwise = _arm(c, t, other, names, label)
        if otherwise is None:
            return None
    elif null is None:
        c.error(node.path, f"field '{label}': without 'else' the value is null where the "
                "condition is false, but its union has no null branch")
        return None
    if condition is None or then is None:
        return None
    return CondFill(t, condition, then, otherwise, null)


def _arm(c: Checking, t: AvroType, node: FieldNode, names: Names, label: str
         ) -> BranchFill | None:
    fill = _union(c, t, node, names, label)
    if fill is None:
        return None
    if isinstance(fill, BranchFill):
        return fill
    if isinstance(fill, ScalarFill):  # a union of null and a scalar: its value branch
        pair = t.nullable_of
        assert pair is not None
        value, null = pair
        return BranchFill(t, 1 - null, ScalarFill(value, fill.checked), null)
    c.error(node.path, f"field '{label}': each arm of an if gives a value of one branch")
    return None


def _form(c: Checking, node: FieldNode, known: tuple[str, ...], required: tuple[str, ...],
          label: str, how: str) -> dict[str, FieldNode] | None:
    if node.entries is None:
        c.error(node.path, f"field '{label}': {how}")
        return None
    form = dict(node.entries)
    bad = [k for k in form if k not in known] + [k for k in required if k not in form]
    if bad:
        c.error(node.path, f"field '{label}': expected the keys {', '.join(required)}"
                + (f" (and optionally {', '.join(set(known) - set(required))})"
                   if set(known) - set(required) else "")
                + f", got {', '.join(form) or 'none'}. {how}")
        return None
    return form


def _no_sequences(c: Checking, fill: Fill, path: str, label: str) -> bool:
    """sequence() cannot number items: how many there were is unknown to a silent replay."""
    taken = [n for e in fill_expressions(fill) for n in sequences_of(e.tree)]
    if taken:
        c.error(path, f"field '{label}': sequence({taken[0]!r}) cannot be used in the items of "
                "an array or map (use it at the record level, or index for positions)")
    return not taken


def _length(c: Checking, node: FieldNode, names: Names) -> ex.Checked | None:
    return _expression(c, node, names, _L, "length")


def _expression(c: Checking, node: FieldNode, names: Names, want: ex.ExprType, label: str
                ) -> ex.Checked | None:
    if node.expression is None:
        c.error(node.path, f"'{label}': expected an expression")
        return None
    return c.check(node.expression, node.path, names, expected=(want,))


def _article(t: AvroType) -> str:
    text = t.describe()
    return f"an {text}" if text[0] in "aeiou" else f"a {text}"


def _how(t: AvroType, label: str) -> str:
    """How a value of a record, array or map is given."""
    if t.kind is Kind.RECORD:
        first = t.fields[0].name if t.fields else "x"
        return (f"give its fields as a mapping ({label}: {{{first}: ...}}) or dotted names "
                f"({label}.{first}: ...)")
    if t.kind is Kind.ARRAY:
        return "give a list of items [a, b, ...] or {length: EXPR, item: ITEM}"
    return "give {entries: {key: value, ...}} or {length: EXPR, key: EXPR, value: VALUE}"
