"""What an expression may refer to: typed names and operator-installed plugin functions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType

import attrs
import numpy as np

from connector.model.expr.functions import BUILTINS
from connector.model.expr.lexer import is_name
from connector.model.expr.types import ExprType


@attrs.frozen
class EngineName:
    """A name the engine defines for expressions (it supplies the column at evaluation).

    `fields` are the record fields it fills when an emit does not say otherwise; `at_creation`:
    also visible in attributes' initial values; `nullable`: may be null (no open session).
    """

    name: str
    type: ExprType
    meaning: str
    fields: tuple[str, ...] = ()
    at_creation: bool = False
    nullable: bool = False


# The one table of built-in names: the checker's environment, the default record fields and
# the README's list all come from it (tests pin each meaning against the engine's output).
ENGINE_NAME_TABLE: tuple[EngineName, ...] = (
    EngineName("user_id", ExprType.LONG, "the user's id",
               ("user_id", "device_id", "account_id", "actor_id"), at_creation=True),
    EngineName("user_key", ExprType.STRING, "the user's id as text"),
    EngineName("tick", ExprType.LONG, "the tick being simulated", ("tick",), at_creation=True),
    EngineName("time", ExprType.TIMESTAMP, "the event time", ("timestamp", "event_time"),
               at_creation=True),
    EngineName("transition", ExprType.STRING, "the transition's name", ("event", "transition")),
    EngineName("state", ExprType.STRING,
               "the user's state when the value is computed: in vars, condition and updates the "
               "state the transition leaves, in emitted fields the state it enters", ("state",)),
    EngineName("from_state", ExprType.STRING, "the state the transition leaves",
               ("from_state",)),
    EngineName("to_state", ExprType.STRING,
               "the state the transition enters (with `to: self`, the state it leaves)",
               ("to_state",)),
    EngineName("session_id", ExprType.STRING,
               "the open session's id, null when none is open; a closing transition's events "
               "carry the session it closes", ("session_id",), nullable=True),
)
ENGINE_NAMES: Mapping[str, ExprType] = MappingProxyType(
    {n.name: n.type for n in ENGINE_NAME_TABLE})


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
        if not is_name(self.name):
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
            if not is_name(name):
                raise ValueError(f"{name!r} cannot be used as a name in expressions")
            if typ == ExprType.NULL:
                raise ValueError(f"name {name!r} cannot have type NULL")
        unknown = self.nullable - set(self.names)
        if unknown:
            raise ValueError(f"nullable names not in names: {sorted(unknown)}")

    def with_names(self, extra: Mapping[str, ExprType], nullable: Iterable[str] = ()) -> TypeEnv:
        """A copy with more names (e.g. a transition's local vars) on top of these."""
        return TypeEnv({**self.names, **extra}, self.functions, [*self.nullable, *nullable])
