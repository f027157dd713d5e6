"""One vocabulary of value types: model attributes, expressions and Avro record fields.

A model spells a type in lower case (`balance: {type: long}`), the expression language names it
in upper case in its messages ("expected a LONG expression"); both are one `ValueType`, and so is
the type a record field is filled with (an Avro `int` field takes a LONG).
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np


class ValueType(enum.Enum):
    """Static type of a value. TIMESTAMP is epoch milliseconds held as int64."""

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
    def spelling(self) -> str:
        """How a model file names the type (`long`)."""
        return self.value.lower()

    @classmethod
    def from_spelling(cls, text: str) -> ValueType | None:
        """The type a model file names, or None."""
        return next((t for t in cls if t.spelling == text), None)

    @property
    def is_numeric(self) -> bool:
        return self in (ValueType.LONG, ValueType.DOUBLE)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype of a non-null column of this type."""
        return _DTYPES[self]


# What a user attribute may be (a TIMESTAMP attribute is a LONG of epoch milliseconds).
ATTRIBUTE_TYPES = (ValueType.LONG, ValueType.DOUBLE, ValueType.BOOLEAN, ValueType.STRING)

_DTYPES: dict[ValueType, np.dtype[Any]] = {
    ValueType.LONG: np.dtype(np.int64),
    ValueType.DOUBLE: np.dtype(np.float64),
    ValueType.BOOLEAN: np.dtype(np.bool_),
    ValueType.STRING: np.dtype(object),
    ValueType.TIMESTAMP: np.dtype(np.int64),
    ValueType.NULL: np.dtype(object),
}


def unify(a: ValueType, b: ValueType) -> ValueType | None:
    """The common type of two branches (if, choice, coalesce), or None when they cannot meet."""
    if a == b:
        return a
    if a == ValueType.NULL:
        return b
    if b == ValueType.NULL:
        return a
    if a.is_numeric and b.is_numeric:
        return ValueType.DOUBLE
    return None
