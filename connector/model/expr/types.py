"""The value types of the expression language and how they map to numpy dtypes."""

from __future__ import annotations

import enum
from typing import Any

import numpy as np

# What evaluators pass around: a numpy array (length ctx.size, or 0-d), a numpy scalar, a `str`,
# or None for null. The static ExprType, not the Python type, says which one is meaningful.
Value = Any


class ExprType(enum.Enum):
    """Static type of an expression. TIMESTAMP is epoch milliseconds held as int64."""

    LONG = "LONG"
    DOUBLE = "DOUBLE"
    BOOLEAN = "BOOLEAN"
    STRING = "STRING"
    TIMESTAMP = "TIMESTAMP"
    # The type of the literal `null`: it unifies with every other type, making it nullable.
    NULL = "NULL"

    def __str__(self) -> str:
        return self.value

    @property
    def is_numeric(self) -> bool:
        return self in (ExprType.LONG, ExprType.DOUBLE)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype of a non-null result column of this type."""
        return _DTYPES[self]


_DTYPES: dict[ExprType, np.dtype[Any]] = {
    ExprType.LONG: np.dtype(np.int64),
    ExprType.DOUBLE: np.dtype(np.float64),
    ExprType.BOOLEAN: np.dtype(np.bool_),
    ExprType.STRING: np.dtype(object),
    ExprType.TIMESTAMP: np.dtype(np.int64),
    ExprType.NULL: np.dtype(object),
}


def unify(a: ExprType, b: ExprType) -> ExprType | None:
    """The common type of two branches (if, choice, coalesce), or None when they cannot meet."""
    if a == b:
        return a
    if a == ExprType.NULL:
        return b
    if b == ExprType.NULL:
        return a
    if a.is_numeric and b.is_numeric:
        return ExprType.DOUBLE
    return None
