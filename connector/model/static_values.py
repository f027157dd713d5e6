"""What an expression's values are, when known before running: the checks of record fields that
validation can make statically (the engine checks the rest per batch, engine/fields.py)."""

from __future__ import annotations

from typing import Any

from connector.model import expr as ex
from connector.model.avro import FieldSpec

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def static_values(checked: ex.Checked) -> frozenset[Any] | None:
    """The values an expression can take, when known without running it (None otherwise)."""
    values = ex.possible_values(checked.node)
    if values is None and ex.is_constant(checked.node):
        value = ex.compile_expr(checked).evaluate(ex.EvalContext(size=1, columns={}))
        values = frozenset(value.tolist())
    return values


def static_field_problem(f: FieldSpec, checked: ex.Checked) -> str | None:
    """Why values of `checked` cannot fill field `f`, when that is known before running."""
    values = static_values(checked)
    if values is None:
        return None
    present = [v for v in values if v is not None]
    if f.symbols:
        bad = sorted(str(v) for v in present if v not in f.symbols)
        if bad:
            return (f"{', '.join(map(repr, bad))} is not a symbol of enum field '{f.name}': "
                    f"{', '.join(f.symbols)}")
    if f.avro_type == "int":
        bad = sorted(v for v in present if not INT32_MIN <= v <= INT32_MAX)
        if bad:
            return (f"{bad[0]} is outside the range of Avro int field '{f.name}' "
                    f"({INT32_MIN} to {INT32_MAX})")
    return None
