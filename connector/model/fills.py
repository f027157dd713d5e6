"""How each value of a record is made: the fills model/fill_check.py builds from the model's
field forms, checked against the schema's types, and the engine (engine/fill.py) compiles.

The forms (spec.FieldNode) by Avro type:

- a scalar (or a union of null and a scalar): an expression of its type (`ScalarFill`);
- a record: a mapping of its fields, by name (dotted keys are merged by the parser); a field
  not given is filled by name (an attribute, variable or built-in of that name), else from
  its schema default; a record field not given at all is filled by name field by field;
- an array: a list `[ITEM, ...]` (that many items on every row) or `{length: EXPR, item: ITEM}`,
  where the item sees `index`, its 0-based position;
- a map: `{entries: {key: VALUE, ...}}` or `{length: EXPR, key: EXPR, value: VALUE}` (`index`
  as for arrays);
- a union: an expression whose type belongs to one branch (null rows go to the null branch), a
  mapping for its only record branch, `{Branch: VALUE}` naming a branch (full name, short name
  or type name), or `{if: COND, then: VALUE, else: VALUE}` (else defaults to null).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import attrs

from connector.model import expr as ex
from connector.model.avrotypes import AvroType, FieldSpec

INDEX = "index"  # inside an array item or map entry: its 0-based position
MAX_ITEMS = 10_000  # at most this many items (entries) per row; longer lengths are cut
ARRAY_FORM = ("length", "item")
MAP_FORM = ("length", "key", "value")
CONDITIONAL_FORM = ("if", "then", "else")


@attrs.frozen
class ScalarFill:
    """An expression into a scalar type, or a union of null and a scalar type."""

    type: AvroType
    checked: ex.Checked


@attrs.frozen
class ConstFill:
    """A record, array, map or union field not given: its schema default on every row."""

    type: AvroType
    value: Any


@attrs.frozen
class RecordFill:
    type: AvroType
    fields: tuple[tuple[str, Fill], ...]  # every field of the record, in schema order


@attrs.frozen
class ArrayFill:
    type: AvroType
    length: ex.Checked | None  # None: one item per entry of `items` on every row
    items: tuple[Fill, ...]


@attrs.frozen
class MapFill:
    type: AvroType
    length: ex.Checked | None  # None: the constant keys `keys`, one value each
    key: ex.Checked | None
    keys: tuple[str, ...]
    values: tuple[Fill, ...]


@attrs.frozen
class BranchFill:
    """A union whose value is on branch `branch` on every row, except that null values of a
    nullable expression go to `null_branch`."""

    type: AvroType
    branch: int
    inner: Fill
    null_branch: int | None = None


@attrs.frozen
class CondFill:
    """A union choosing per row: `then` where the condition holds, `otherwise` elsewhere (None:
    the null branch)."""

    type: AvroType
    condition: ex.Checked
    then: BranchFill
    otherwise: BranchFill | None
    null_branch: int | None


Fill = ScalarFill | ConstFill | RecordFill | ArrayFill | MapFill | BranchFill | CondFill
Names = dict[str, ex.ExprType]


class Checking(Protocol):
    """What the model validator offers this module (validate.py's checker)."""

    def error(self, path: str, message: str) -> None: ...

    def check(self, text: str, path: str, names: Names,
              expected: tuple[ex.ExprType, ...] | None = None,
              nullable: bool = False, node: ex.Node | None = None,
              written: bool = True) -> ex.Checked | None:
        """`written`: the user wrote `text` (else it is a default, named in messages)."""
        ...

    def is_broken(self, name: str) -> bool:
        """Whether `name`'s definition has an error already (its uses are not reported)."""
        ...

    def peek(self, text: str, names: Names) -> ex.Checked | None:
        """The type of an expression, without reporting errors or taking random sites."""
        ...

    def default_expression(self, f: FieldSpec, names: Names) -> str | None: ...

    def with_local(self, name: str) -> Callable[[], None]:
        """Make `name` non-nullable while items are checked; the result undoes it."""
        ...


def literal(value: Any) -> str:
    """An expression for a JSON default value (null, booleans, numbers, strings)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return repr(value)


def fill_expressions(fill: Fill) -> list[ex.Checked]:
    """Every expression of a fill, in the order they were checked."""
    if isinstance(fill, ScalarFill):
        return [fill.checked]
    if isinstance(fill, RecordFill):
        return [e for _, f in fill.fields for e in fill_expressions(f)]
    if isinstance(fill, ArrayFill):
        return ([fill.length] if fill.length else []) + \
            [e for f in fill.items for e in fill_expressions(f)]
    if isinstance(fill, MapFill):
        return ([fill.length] if fill.length else []) + ([fill.key] if fill.key else []) + \
            [e for f in fill.values for e in fill_expressions(f)]
    if isinstance(fill, BranchFill):
        return fill_expressions(fill.inner)
    if isinstance(fill, CondFill):
        return [fill.condition, *fill_expressions(fill.then),
                *(fill_expressions(fill.otherwise) if fill.otherwise else [])]
    return []


def convert_kind(t: AvroType, value_type: ex.ExprType) -> str | None:
    """How the engine turns an expression's values into a scalar field's (None: as they are):
    timestamps to the schema's unit, TIMESTAMPs to dates or times of day, numbers to
    decimals, milliseconds to durations."""
    pair = t.nullable_of
    base = t if pair is None else pair[0]
    logical: str | None = base.logical
    if logical in ("decimal", "duration"):
        return logical
    if base.units_per_ms != 1:
        return "timestamp-units"
    if logical in ("date", "time-millis", "time-micros") and value_type is ex.ExprType.TIMESTAMP:
        return logical
    return None
