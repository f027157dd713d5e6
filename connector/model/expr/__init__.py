"""The safe expression language of models: conditions, updates, initial values, record fields.

Expressions are data: parsed by a real lexer/parser (never eval), type-checked once against a
TypeEnv, compiled to closures, and evaluated vectorised with numpy over every row of a batch.
Random draws come from per-site generators supplied by the engine, so output is a pure function
of (model, config, seed).

    node = parse("balance + randint(10, 500)")
    checked = check(node, TypeEnv({"balance": ExprType.LONG}), SiteCounter(0))
    values = compile_expr(checked).evaluate(EvalContext(n, {"balance": col}, rng=streams))
"""

from connector.model.expr.analysis import is_constant, names_used, possible_values
from connector.model.expr.ast import Node
from connector.model.expr.checker import Checked, SiteCounter, check
from connector.model.expr.env import (
    ENGINE_NAME_TABLE,
    ENGINE_NAMES,
    EngineName,
    FunctionSpec,
    TypeEnv,
)
from connector.model.expr.errors import ExprError, PluginError, ValueLimitError
from connector.model.expr.evaluator import Compiled, EvalContext, compile_expr
from connector.model.expr.functions import BUILTINS
from connector.model.expr.lexer import is_name
from connector.model.expr.parser import expand_assignment, parse, parse_assignment
from connector.model.expr.types import ExprType

__all__ = [
    "BUILTINS",
    "ENGINE_NAMES",
    "ENGINE_NAME_TABLE",
    "Checked",
    "Compiled",
    "EngineName",
    "EvalContext",
    "ExprError",
    "ExprType",
    "FunctionSpec",
    "Node",
    "PluginError",
    "SiteCounter",
    "TypeEnv",
    "ValueLimitError",
    "check",
    "compile_expr",
    "expand_assignment",
    "is_constant",
    "is_name",
    "names_used",
    "parse",
    "parse_assignment",
    "possible_values",
]
