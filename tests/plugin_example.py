"""An operator's plugin module used by the tests: one deterministic and one random function."""

from __future__ import annotations

import numpy as np

from connector.model.expr import ExprType, FunctionSpec


def _tier(balance: np.ndarray) -> np.ndarray:
    return np.where(balance >= 500, "gold", "basic").astype(object)


def _jittered(rng: np.random.Generator, value: np.ndarray) -> np.ndarray:
    return (value + rng.integers(0, 3, size=value.shape[0])).astype(np.int64)


FUNCTIONS = [
    FunctionSpec("tier", (ExprType.LONG,), ExprType.STRING, _tier),
    FunctionSpec("jittered", (ExprType.LONG,), ExprType.LONG, _jittered, uses_rng=True),
]
