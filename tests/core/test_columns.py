"""The column representation of Avro shapes: plain Python values, slicing and concatenation."""

from __future__ import annotations

import decimal

import numpy as np
import pytest

from connector.core.columns import (
    Column,
    DecimalColumn,
    DecimalTextColumn,
    ListColumn,
    MapColumn,
    StructColumn,
    UnionColumn,
    as_array,
    concat,
    list_offsets,
    slice_rows,
    take,
    to_python,
)


def _strings(*values: str | None) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _orders() -> StructColumn:
    """Three orders: a nested customer record, an array of line items, a map, a union."""
    customer = StructColumn({"name": _strings("ann", "bob", "cy"),
                             "vip": np.array([True, False, False])}, 3)
    items = StructColumn({"sku": _strings("a", "b", "c", "d"),
                          "qty": np.array([1, 2, 3, 4], dtype=np.int64)}, 4)
    lines = ListColumn(list_offsets([2, 0, 2]), items)
    tags = MapColumn(list_offsets([1, 1, 0]), _strings("k", "j"),
                     np.array([0.5, 1.5]))
    # Branches: null, long, string; rows: long 7, null, string "x".
    union = UnionColumn(np.array([1, 0, 2], dtype=np.int8), ("null", "long", "string"),
                        (None, np.array([7], dtype=np.int64), _strings("x")))
    price = DecimalColumn(np.array([1999, -5, 0], dtype=np.int64), 2)
    return StructColumn({"customer": customer, "lines": lines, "tags": tags, "extra": union,
                         "price": price}, 3)


def test_to_python_gives_plain_nested_values() -> None:
    """Every shape becomes dicts, lists and scalars, row by row."""
    rows = to_python(_orders())
    assert rows[0] == {"customer": {"name": "ann", "vip": True},
                       "lines": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}],
                       "tags": {"k": 0.5}, "extra": 7, "price": decimal.Decimal("19.99")}
    assert rows[1]["lines"] == [] and rows[1]["extra"] is None and rows[1]["tags"] == {"j": 1.5}
    assert rows[2]["extra"] == "x" and rows[2]["price"] == decimal.Decimal("0.00")
    assert str(rows[1]["price"]) == "-0.05"


def test_tagged_unions_name_their_branch() -> None:
    """With tagged=True a union value says which branch it is on (fastavro's tuple notation)."""
    rows = to_python(_orders(), tagged=True)
    assert [r["extra"] for r in rows] == [("long", 7), None, ("string", "x")]


@pytest.mark.parametrize(("start", "stop"), [(0, 3), (0, 1), (1, 3), (2, 3), (1, 1)])
def test_slices_keep_the_rows(start: int, stop: int) -> None:
    """A slice holds exactly those rows, and slices concatenated give the whole column back."""
    column = _orders()
    whole = to_python(column)
    assert to_python(slice_rows(column, start, stop)) == whole[start:stop]
    parts: list[Column] = [slice_rows(column, 0, start), slice_rows(column, start, stop),
                           slice_rows(column, stop, 3)]
    assert to_python(concat(parts)) == whole
    assert len(concat(parts)) == 3


def test_concat_refuses_mixed_shapes() -> None:
    """Columns of different shapes cannot be joined (a bug, not user input)."""
    with pytest.raises(TypeError):
        concat([np.zeros(2), StructColumn({}, 2)])


def test_empty_records_and_wide_decimals() -> None:
    """A record without fields is an empty dict; decimals wider than int64 keep every digit."""
    assert to_python(StructColumn({}, 2)) == [{}, {}]
    wide = np.empty(1, dtype=object)
    wide[0] = 10**30 + 1
    exact = decimal.Decimal("1000000000000000000000000000.001")
    assert to_python(DecimalColumn(wide, 3)) == [exact]


def test_decimal_text_is_the_str_of_each_number() -> None:
    """A DecimalTextColumn reads as `str(n)` per row, and slices, takes and concatenates as its
    strings would (beside a column of strings it becomes one)."""
    numbers = np.array([0, -7, 42, 2**63 - 1, -(2**63), 10**9], dtype=np.int64)
    text = DecimalTextColumn(numbers)
    strings = [str(v) for v in numbers.tolist()]
    assert to_python(text) == strings and as_array(text).tolist() == strings
    assert as_array(text).dtype == object
    assert to_python(slice_rows(text, 1, 4)) == strings[1:4]
    assert to_python(take(text, [5, 0, 5])) == [strings[5], strings[0], strings[5]]
    both = concat([text, DecimalTextColumn(numbers[:2])])
    assert isinstance(both, DecimalTextColumn) and to_python(both) == strings + strings[:2]
    mixed = concat([text, _strings("x", None)])
    assert isinstance(mixed, np.ndarray) and mixed.tolist() == [*strings, "x", None]
