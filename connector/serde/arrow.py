"""Engine columns as Apache Arrow tables (what Parquet files are written from).

One column per field of the topic's Avro value schema: long -> int64, int -> int32, double ->
float64, float -> float32, boolean -> bool, string/enum/uuid -> string, bytes -> binary,
timestamp-millis/-micros/-nanos -> timestamp in that unit (UTC; local-timestamp-* without a
zone), date -> date32, time-millis -> time32[ms], time-micros -> time64[us]; a union with null
is a nullable column; nested records are structs, arrays lists, maps maps (string keys),
decimals decimal128 (decimal256 past 38 digits), fixed fixed-size binary, other unions their
value as JSON text. Numeric columns are handed over without copying; nested ones go through
their plain Python values (core.columns.to_python).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from connector.core.columns import Column, DecimalTextColumn, to_python
from connector.model.avro import AvroType, FieldSpec, LoadedSchema
from connector.model.avrotypes import Kind

_PRIMITIVE = {"long": pa.int64(), "int": pa.int32(), "double": pa.float64(),
              "float": pa.float32(), "boolean": pa.bool_(), "string": pa.string(),
              "enum": pa.string(), "bytes": pa.binary()}
_UNITS = {"millis": "ms", "micros": "us", "nanos": "ns"}


def arrow_type(field: FieldSpec) -> pa.DataType:
    """The Arrow type of one field's values."""
    return _type(field.base)


def _type(t: AvroType) -> pa.DataType:
    logical = t.logical or ""
    if logical.startswith(("timestamp-", "local-timestamp-")):
        unit = _UNITS[logical.rsplit("-", 1)[1]]
        return pa.timestamp(unit, tz=None if logical.startswith("local-") else "UTC")
    if logical == "date":
        return pa.date32()
    if logical == "time-millis":
        return pa.time32("ms")
    if logical == "time-micros":
        return pa.time64("us")
    if logical == "decimal":
        return pa.decimal128(t.precision, t.scale) if t.precision <= 38 else \
            pa.decimal256(t.precision, t.scale)
    if t.kind is Kind.RECORD:
        return pa.struct([pa.field(f.name, _type(f.base), nullable=f.nullable)
                          for f in t.fields])
    if t.kind in (Kind.ARRAY, Kind.MAP) and t.items is not None:
        item = _type(t.items)
        return pa.list_(item) if t.kind is Kind.ARRAY else pa.map_(pa.string(), item)
    if t.kind is Kind.FIXED:
        return pa.binary(t.size)
    if t.kind is Kind.UNION:
        return pa.string()  # a union of several types: its value as JSON text
    return _PRIMITIVE[t.kind.value]


def arrow_schema(schema: LoadedSchema) -> pa.Schema:
    """The table schema of a topic, named after its record."""
    return pa.schema([pa.field(f.name, arrow_type(f), nullable=f.nullable)
                      for f in schema.fields], metadata={"avro.schema": schema.schema_str})


def to_table(schema: LoadedSchema, columns: Mapping[str, Column], n: int) -> pa.Table:
    """n rows of a topic's columns as one table."""
    target = arrow_schema(schema)
    arrays = [_array(columns[f.name], f, typ)
              for f, typ in zip(schema.fields, target.types, strict=True)]
    return pa.Table.from_arrays(arrays, schema=target) if arrays else target.empty_table()


def _array(column: Column, field: FieldSpec, typ: pa.DataType) -> pa.Array:
    if field.base.kind is Kind.UNION:  # several types: each value as JSON text
        return pa.array([None if v is None else json.dumps(v, default=str)
                         for v in to_python(column)], type=typ)
    if isinstance(column, DecimalTextColumn) and pa.types.is_string(typ):
        return pa.array(column.numbers, type=pa.int64()).cast(typ)  # Arrow writes the digits
    if not isinstance(column, np.ndarray) or field.value_type is None:
        return pa.array(to_python(column), type=typ)  # records, arrays, maps, decimals
    values = column
    if values.dtype != object:
        if pa.types.is_timestamp(typ) or pa.types.is_date(typ) or pa.types.is_time(typ):
            return pa.array(values, type=pa.int64()).cast(typ)  # checked (int32 for dates)
        return pa.array(values, type=typ)
    items = values.tolist()
    if field.avro_type == "bytes":
        items = [v.encode() if isinstance(v, str) else v for v in items]
    if pa.types.is_timestamp(typ) or pa.types.is_date(typ) or pa.types.is_time(typ):
        return pa.array(items, type=pa.int64()).cast(typ)
    return pa.array(items, type=typ)
