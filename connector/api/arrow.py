"""Engine output as Apache Arrow tables: one column per field of the topic's Avro value schema.

Column types follow the Avro schema: long -> int64, int -> int32, double -> float64, float ->
float32, boolean -> bool, string/enum/uuid -> string, bytes -> binary, timestamp-* -> timestamp
in milliseconds (UTC for timestamp-*, naive for local-timestamp-*), date/time-* -> their integer
base type; unions with null are nullable. Numeric columns are handed over without copying.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from connector.core.batch import EventColumns
from connector.model.avro import FieldSpec, LoadedSchema

_PRIMITIVE = {"long": pa.int64(), "int": pa.int32(), "double": pa.float64(),
              "float": pa.float32(), "boolean": pa.bool_(), "string": pa.string(),
              "enum": pa.string(), "bytes": pa.binary()}


def arrow_type(field: FieldSpec) -> pa.DataType:
    logical = field.logical_type or ""
    if logical.startswith("timestamp-"):
        return pa.timestamp("ms", tz="UTC")
    if logical.startswith("local-timestamp-"):
        return pa.timestamp("ms")
    return _PRIMITIVE[field.avro_type]


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
        parts = [e.fields[f.name] for e in events]
        values = parts[0] if len(parts) == 1 else np.concatenate(parts)
        columns.append(_array(values, typ))
    return pa.Table.from_arrays(columns, schema=target)


def _array(values: np.ndarray, typ: pa.DataType) -> pa.Array:
    if values.dtype != object:
        return pa.array(values, type=typ)
    items = values.tolist()
    if pa.types.is_binary(typ):
        items = [v.encode() if isinstance(v, str) else v for v in items]
    return pa.array(items, type=typ)
