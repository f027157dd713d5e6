"""The record-by-record path: columns checked like the columnar path, then written by fastavro.

Used for small batches (below the columnar writer's fixed cost) and for a field the columnar
writer cannot take (NotColumnar: Python dicts or lists in an object array, decimals wider than
64 bits). fastavro is the reference the columnar writer is tested against, so this path is
correct by construction; unions are written with fastavro's tuple notation, naming the branch
the column holds instead of letting fastavro guess it.
"""

from __future__ import annotations

import decimal
import io
import itertools
from collections.abc import Mapping
from typing import Any

import fastavro
import numpy as np

from connector.core.columns import (
    Column,
    DecimalColumn,
    ListColumn,
    MapColumn,
    StructColumn,
    UnionColumn,
    list_offsets,
    to_python,
)
from connector.model.avrotypes import AvroType, Kind
from connector.serde import pieces as P
from connector.serde.scalars import enum_index, nulls, scalar_values
from connector.serde.shapes import NotColumnar, decimal_unscaled, field_column


def python_values(t: AvroType, column: Column, n: int, path: str) -> list[Any]:
    """n values of type `t` as fastavro writes them (tagged unions, Decimal, bytes, symbols)."""
    kind = t.kind
    if kind is Kind.NULL or n == 0:
        return [None] * n
    if isinstance(column, UnionColumn) and kind is Kind.UNION:
        out: list[Any] = [None] * n
        for k, bt in enumerate(t.branches):
            part = column.values[k]
            if bt.kind is Kind.NULL or part is None:
                continue
            rows = column.rows_of(k).tolist()
            name = bt.branch_name
            for row, value in zip(rows, python_values(bt, part, len(rows), path), strict=True):
                out[row] = (name, value)
        return out
    if kind is Kind.UNION:
        pair = t.nullable_of
        if pair is None or not isinstance(column, np.ndarray):
            return _raw(column)  # Python values of a general union: fastavro picks the branch
        base = pair[0]
        null = nulls(column) if column.dtype == object else np.zeros(n, dtype=bool)
        if not null.any():
            return python_values(base, column, n, path)
        present = np.flatnonzero(~null)
        out = [None] * n
        values = python_values(base, column[present], int(present.shape[0]), path)
        for row, value in zip(present.tolist(), values, strict=True):
            out[row] = value
        return out
    if kind is Kind.RECORD:
        if not isinstance(column, StructColumn):
            return _raw(column)
        names = [f.name for f in t.fields]
        lists = [python_values(f.type, field_column(column, f, n, path), n, f"{path}.{f.name}")
                 for f in t.fields]
        if not names:
            return [{} for _ in range(n)]
        return [dict(zip(names, row, strict=True)) for row in zip(*lists, strict=True)]
    if kind in (Kind.ARRAY, Kind.MAP):
        if not isinstance(column, ListColumn | MapColumn):
            return _raw(column)
        assert t.items is not None
        offsets = column.offsets.tolist()
        items = python_values(t.items, column.values, offsets[-1] - offsets[0], path)
        base = offsets[0]
        if isinstance(column, ListColumn):
            return [items[a - base:b - base] for a, b in itertools.pairwise(offsets)]
        keys = column.keys.tolist()
        return [dict(zip(keys[a - base:b - base], items[a - base:b - base], strict=True))
                for a, b in itertools.pairwise(offsets)]
    if t.logical == "decimal":
        return _decimals(t, column, path)
    if not isinstance(column, np.ndarray):
        raise TypeError(f"expected an array of {t.describe()} values")
    checked = scalar_values(t, column, path)
    if kind is Kind.ENUM:
        return [t.symbols[i] for i in enum_index(t, checked, path).tolist()]
    scalars: list[Any] = checked.tolist()
    if kind is Kind.STRING:
        if not all(type(v) is str for v in scalars):
            raise TypeError("expected str values")
        "".join(scalars).encode("utf-8")  # fail here, naming the field, on unencodable text
    return scalars


def _raw(column: Column) -> list[Any]:
    if isinstance(column, np.ndarray):
        return column.tolist()  # type: ignore[no-any-return]
    return to_python(column, tagged=True)


def _decimals(t: AvroType, column: Column, path: str) -> list[Any]:
    exponent = -t.scale
    try:
        unscaled = decimal_unscaled(t, column, path).tolist()
    except NotColumnar:
        if isinstance(column, DecimalColumn):
            return to_python(column)
        assert isinstance(column, np.ndarray)
        quantum = decimal.Decimal(1).scaleb(exponent)
        return [decimal.Decimal(v).quantize(quantum, decimal.ROUND_HALF_EVEN, _EXACT)
                for v in column.tolist()]
    return [decimal.Decimal(u).scaleb(exponent, _EXACT) for u in unscaled]


_EXACT = decimal.Context(prec=decimal.MAX_PREC)


def fastavro_pieces(t: AvroType, column: Column, n: int, path: str,
                    named: Mapping[str, Any]) -> list[P.Piece]:
    """One field's values written by fastavro one by one, as one ragged piece."""
    values = python_values(t, column, n, path)
    writer = _single_field_record(t, named)
    out = []
    for value in values:
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, writer, {"v": value})
        out.append(buffer.getvalue())
    lens = np.diff(list_offsets([len(v) for v in out]))
    return [P.Piece(n, flat=np.frombuffer(b"".join(out), dtype=np.uint8), lens=lens)]


def _single_field_record(t: AvroType, named: Mapping[str, Any]) -> dict[str, Any]:
    """A parsed record of one field of type `t`: its encoding is exactly the field's (a record
    is its fields one after another), and named types resolve through the schema's table."""
    return {"type": "record", "name": "doge.internal.Field",
            "fields": [{"name": "v", "type": t.schema}],
            "__fastavro_parsed": True, "__named_schemas": dict(named)}
