"""The value types of the expression language: the shared `ValueType` (connector.core.types)."""

from __future__ import annotations

from typing import Any

from connector.core.types import ValueType, unify

# What evaluators pass around: a numpy array (length ctx.size, or 0-d), a numpy scalar, a `str`,
# or None for null. The static ExprType, not the Python type, says which one is meaningful.
Value = Any
# The expression language's name for the shared vocabulary.
ExprType = ValueType

__all__ = ["ExprType", "Value", "unify"]
