"""What an expression may refer to: typed names and operator-installed plugin functions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType

import attrs
import numpy as np

from connector.model.expr.functions import BUILTINS
from connector.model.expr.lexer import KEYWORDS
from connector.model.expr.types import ExprType

# Names the engine defines for every expression (it supplies their columns at evaluation).
ENGINE_NAMES: Mapping[str, ExprType] = MappingProxyType(
    {
        "user_id": ExprType.LONG,
        "tick": ExprType.LONG,
        "time": ExprType.TIMESTAMP,
        "state": ExprType.STRING,
        "transition": ExprType.STRING,
        "session_id": ExprType.STRING,
    }
)


def _tuple_of_types(values: Iterable[ExprType]) -> tuple[ExprType, ...]:
    return tuple(values)


@attrs.frozen
class FunctionSpec:
    """A plugin function the operator installs (never text from a config).

    `impl` receives one numpy column per argument, each of length size (scalars are broadcast),
    typed like results (int64, float64, bool, object arrays of str), read-only; it must return an
    array of that length with the dtype of `return_type`. With `uses_rng`, `impl` receives a
    `numpy.random.Generator` first: the call gets a random site like the builtin draws, so it
    stays deterministic. Arguments are never null.
    """

    name: str
    arg_types: tuple[ExprType, ...] = attrs.field(converter=_tuple_of_types)
    return_type: ExprType
    impl: Callable[..., np.ndarray]
    uses_rng: bool = False

    def __attrs_post_init__(self) -> None:
        if not self.name.isidentifier() or self.name in KEYWORDS:
            raise ValueError(f"plugin function name {self.name!r} is not a valid identifier")
        if self.return_type == ExprType.NULL or ExprType.NULL in self.arg_types:
            raise ValueError(f"plugin function {self.name!r}: NULL is not a parameter type")


def _name_set(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


def _frozen_map(values: Mapping[str, ExprType]) -> Mapping[str, ExprType]:
    return MappingProxyType(dict(values))


def _frozen_functions(
    values: Iterable[FunctionSpec] | Mapping[str, FunctionSpec],
) -> Mapping[str, FunctionSpec]:
    specs = values.values() if isinstance(values, Mapping) else values
    out: dict[str, FunctionSpec] = {}
    for spec in specs:
        if spec.name in BUILTINS:
            raise ValueError(f"plugin function {spec.name!r} would hide the builtin of that name")
        if spec.name in out:
            raise ValueError(f"plugin function {spec.name!r} is registered twice")
        out[spec.name] = spec
    return MappingProxyType(out)


@attrs.frozen
class TypeEnv:
    """Names visible to an expression with their types, plus plugin functions.

    `nullable` lists names whose columns may hold None (object arrays); such names may only be
    compared with null or passed through coalesce()/if()/choice().
    """

    names: Mapping[str, ExprType] = attrs.field(converter=_frozen_map)
    functions: Mapping[str, FunctionSpec] = attrs.field(
        default=(), converter=_frozen_functions
    )
    nullable: frozenset[str] = attrs.field(default=(), converter=_name_set)

    def __attrs_post_init__(self) -> None:
        for name, typ in self.names.items():
            if not name.isidentifier() or name in KEYWORDS:
                raise ValueError(f"{name!r} cannot be used as a name in expressions")
            if typ == ExprType.NULL:
                raise ValueError(f"name {name!r} cannot have type NULL")
        unknown = self.nullable - set(self.names)
        if unknown:
            raise ValueError(f"nullable names not in names: {sorted(unknown)}")

    def with_names(self, extra: Mapping[str, ExprType], nullable: Iterable[str] = ()) -> TypeEnv:
        """A copy with more names (e.g. a transition's local vars) on top of these."""
        return TypeEnv({**self.names, **extra}, self.functions, [*self.nullable, *nullable])
