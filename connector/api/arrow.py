"""Engine output as Apache Arrow tables: one column per field of the topic's Avro value schema.

Column types follow the Avro schema: long -> int64, int -> int32, double -> float64, float ->
float32, boolean -> bool, string/enum/uuid -> string, bytes -> binary, timestamp-* -> timestamp
in the schema's unit (UTC for timestamp-*, naive for local-timestamp-*), date/time-* -> their
integer base type; unions with null are nullable; nested records are structs, arrays lists,
maps maps (string keys), decimals decimal128, fixed fixed-size binary, other unions their value
as JSON text. Numeric columns are handed over without copying.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from connector.core.batch import EventColumns
from connector.core.columns import concat, to_python
from connector.model.avro import AvroType, FieldSpec, LoadedSchema
from connector.model.avrotypes import Kind

_PRIMITIVE = {"long": pa.int64(), "int": pa.int32(), "double": pa.float64(),
              "float": pa.float32(), "boolean": pa.bool_(), "string": pa.string(),
              "enum": pa.string(), "bytes": pa.binary()}


def arrow_type(field: FieldSpec) -> pa.DataType:
    return _type(field.base)


def _type(t: AvroType) -> pa.DataType:
    logical = t.logical or ""
    unit = {"millis": "ms", "micros": "us", "nanos": "ns"}.get(logical.rsplit("-", 1)[-1], "ms")
    if logical.startswith("timestamp-"):  # values are in the schema's unit
        return pa.timestamp(unit, tz="UTC")
    if logical.startswith("local-timestamp-"):
        return pa.timestamp(unit)
    if logical == "decimal":
        return pa.decimal128(t.precision, t.scale) if t.precision <= 38 else \
            pa.decimal256(t.precision, t.scale)
    if t.kind is Kind.RECORD:
        return pa.struct([pa.field(f.name, _type(f.base), nullable=f.nullable)
                          for f in t.fields])
    if t.kind in (Kind.ARRAY, Kind.MAP):
        assert t.items is not None
        return pa.list_(_type(t.items)) if t.kind is Kind.ARRAY else \
            pa.map_(pa.string(), _type(t.items))
    if t.kind is Kind.FIXED:
        return pa.binary(t.size)
    if t.kind is Kind.UNION:
        return pa.string()  # a union of several types: its value as JSON
    return _PRIMITIVE[t.kind.value]


def arrow_schema(schema: LoadedSchema) -> pa.Schema:
    return pa.schema([pa.field(f.name, arrow_type(f), nullable=f.nullable)
                      for f in schema.fields])


def to_table(schema: LoadedSchema, events: Sequence[EventColumns]) -> pa.Table:
    """One table of several emits to one topic, rows in their order."""
    target = arrow_schema(schema)
    if not events:
        return target.empty_table()
    columns = []
    for f, typ in zip(schema.fields, target.types, strict=True):
        column = concat([e.fields[f.name] for e in events])
        if isinstance(column, np.ndarray):
            columns.append(_array(column, typ))
        elif f.base.kind is Kind.UNION:  # several types: each value as JSON text
            columns.append(pa.array([None if v is None else json.dumps(v, default=str)
                                     for v in to_python(column)], type=typ))
        else:
            items = to_python(column)
            if isinstance(typ, pa.MapType):
                items = [None if v is None else list(v.items()) for v in items]
            columns.append(pa.array(items, type=typ))
    return pa.Table.from_arrays(columns, schema=target)


def _array(values: np.ndarray, typ: pa.DataType) -> pa.Array:
    if values.dtype != object:
        return pa.array(values, type=typ)
    items = values.tolist()
    if pa.types.is_binary(typ):
        items = [v.encode() if isinstance(v, str) else v for v in items]
    return pa.array(items, type=typ)
