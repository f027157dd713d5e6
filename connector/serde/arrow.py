"""Engine columns as Apache Arrow tables (what Parquet files are written from).

One column per field of the topic's Avro value schema: long -> int64, int -> int32, double ->
float64, float -> float32, boolean -> bool, string/enum/uuid -> string, bytes -> binary,
timestamp-millis/-micros/-nanos -> timestamp in that unit (UTC; local-timestamp-* without a
zone), date -> date32, time-millis -> time32[ms], time-micros -> time64[us]; a union with null
is a nullable column. Numeric columns are handed over without copying.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from connector.model.avro import FieldSpec, LoadedSchema

_PRIMITIVE = {"long": pa.int64(), "int": pa.int32(), "double": pa.float64(),
              "float": pa.float32(), "boolean": pa.bool_(), "string": pa.string(),
              "enum": pa.string(), "bytes": pa.binary()}
_UNITS = {"millis": "ms", "micros": "us", "nanos": "ns"}


def arrow_type(field: FieldSpec) -> pa.DataType:
    """The Arrow type of one field's values."""
    logical = field.logical_type or ""
    if logical.startswith(("timestamp-", "local-timestamp-")):
        unit = _UNITS[logical.rsplit("-", 1)[1]]
        return pa.timestamp(unit, tz=None if logical.startswith("local-") else "UTC")
    if logical == "date":
        return pa.date32()
    if logical == "time-millis":
        return pa.time32("ms")
    if logical == "time-micros":
        return pa.time64("us")
    return _PRIMITIVE[field.avro_type]


def arrow_schema(schema: LoadedSchema) -> pa.Schema:
    """The table schema of a topic, named after its record."""
    return pa.schema([pa.field(f.name, arrow_type(f), nullable=f.nullable)
                      for f in schema.fields], metadata={"avro.schema": schema.schema_str})


def to_table(schema: LoadedSchema, columns: Mapping[str, npt.ArrayLike], n: int) -> pa.Table:
    """n rows of a topic's columns as one table."""
    target = arrow_schema(schema)
    arrays = [_array(np.asarray(columns[f.name]), f, typ)
              for f, typ in zip(schema.fields, target.types, strict=True)]
    return pa.Table.from_arrays(arrays, schema=target) if arrays else target.empty_table()


def _array(values: np.ndarray, field: FieldSpec, typ: pa.DataType) -> pa.Array:
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
