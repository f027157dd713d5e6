"""The value types of the expression language: the shared `ValueType` (connector.core.types)."""

from __future__ import annotations

from typing import Any

from connector.core.types import ValueType, unify

# What evaluators pass around: a numpy array (length ctx.size, or 0-d), a numpy scalar, a `str`,
# or None for null. The static ExprType, not the Python type, says which one is meaningful.
Value = Any
# The expression language's name for the shared vocabulary.
ExprType = ValueType
# Short names for the type tables of the checker and the builtin functions.
L, D, B, S, T, N = (
    ExprType.LONG,
    ExprType.DOUBLE,
    ExprType.BOOLEAN,
    ExprType.STRING,
    ExprType.TIMESTAMP,
    ExprType.NULL,
)

__all__ = ["B", "D", "ExprType", "L", "N", "S", "T", "Value", "unify"]
