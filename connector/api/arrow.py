"""Engine output as Apache Arrow tables: one column per field of the topic's Avro value schema.

The column types are `connector.serde.arrow`'s (the Parquet output's too): long -> int64,
int -> int32, double -> float64, float -> float32, boolean -> bool, string/enum/uuid -> string,
bytes -> binary, timestamp-* -> timestamp in the schema's unit (UTC; local-timestamp-* naive),
date -> date32, time-* -> time32/time64; unions with null are nullable. Numeric columns are
handed over without copying.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from connector.core.batch import EventColumns
from connector.core.staged import merge
from connector.model.avro import LoadedSchema
from connector.serde.arrow import arrow_schema
from connector.serde.arrow import to_table as columns_table


def to_table(schema: LoadedSchema, staged: Sequence[tuple[int, EventColumns]]) -> pa.Table:
    """One table of the (tick, emit) pairs of one topic, rows in committed order."""
    if not staged:
        return arrow_schema(schema).empty_table()
    rows = merge(staged)
    return columns_table(schema, rows.fields, len(rows))
