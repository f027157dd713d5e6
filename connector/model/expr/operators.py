"""Typing of binary operators for the checker: which numpy function a comparison or an
arithmetic operator applies, and its result type, for two typed operands (or a clear error)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from connector.model.expr import ops
from connector.model.expr.ast import Binary
from connector.model.expr.errors import ExprError
from connector.model.expr.messages import quote
from connector.model.expr.typed import TApply, TNode
from connector.model.expr.types import B, D, L, N, S, T, Value

_COMPARE = {
    "==": np.equal,
    "!=": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}
_ARITH: dict[str, Callable[..., Value]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "//": np.floor_divide,
    "%": np.mod,
}


def type_null_compare(node: Binary, left: TNode, right: TNode) -> TNode:
    """`x == null` / `x != null`: a null test; other operators cannot compare with null."""
    if node.op not in ("==", "!="):
        raise ExprError(
            f"null can only be compared with '==' or '!=', not {node.spelled!r}", node.column
        )
    other = right if left.type == N else left
    fn = ops.is_null if node.op == "==" else ops.not_null
    return TApply(B, False, fn, (other,))


def type_compare(node: Binary, left: TNode, right: TNode) -> TNode:
    """A comparison of two values of one kind (numbers, strings, timestamps, booleans)."""
    lt, rt = left.type, right.type
    if lt == B and rt == B and node.op not in ("==", "!="):
        raise ExprError(
            f"{node.spelled!r} cannot order BOOLEANs; only '==' and '!=' compare them",
            node.column,
        )
    same_kind = lt == rt or (lt.is_numeric and rt.is_numeric)
    if not same_kind:
        hint = ""
        if {lt, rt} == {L, T}:
            hint = "; use timestamp(x) or long(t) to convert"
        elif S in (lt, rt):
            hint = "; use string(x) to compare as text"
        raise ExprError(
            f"cannot compare {lt} {quote(node.left)} with {rt} {quote(node.right)} "
            f"using {node.spelled!r}{hint}",
            node.column,
        )
    fn = _COMPARE[node.op]
    if lt == S:
        return TApply(B, False, partial(ops.compare_text, fn), (left, right))
    return TApply(B, False, fn, (left, right))


def type_arithmetic(node: Binary, left: TNode, right: TNode) -> TNode:
    """Arithmetic on numbers, string concatenation, and moving a TIMESTAMP by milliseconds."""
    op, lt, rt = node.op, left.type, right.type
    args = (left, right)
    where = f"'{node.spelled}'"
    if lt.is_numeric and rt.is_numeric:
        if op == "/":
            return TApply(D, False, np.true_divide, args)
        if op == "**":
            return TApply(D, False, ops.power, args)
        typ = L if lt == L and rt == L else D
        return TApply(typ, False, _ARITH[op], args)
    if op == "+" and lt == S and rt == S:
        return TApply(S, False, ops.concat, args)
    if op == "+" and S in (lt, rt):
        raise ExprError(
            f"'+' cannot join {lt} {quote(node.left)} and {rt} {quote(node.right)}; "
            "use string(x) to turn a value into a STRING",
            node.column,
        )
    if T in (lt, rt) and op in ("+", "-"):
        if op == "-" and lt == T and rt == T:
            return TApply(L, False, np.subtract, args)
        if (lt, rt) in ((T, L), (L, T)) and not (op == "-" and lt == L):
            return TApply(T, False, _ARITH[op], args)
        if lt == T and rt == T:
            msg = "cannot add two TIMESTAMPs; subtract them to get the milliseconds between"
        elif op == "-" and lt == L and rt == T:
            msg = "cannot subtract a TIMESTAMP from a LONG; write the TIMESTAMP first"
        else:
            other = node.right if lt == T else node.left
            msg = (
                f"a TIMESTAMP can only be moved by a LONG number of milliseconds, but "
                f"{quote(other)} is {rt if lt == T else lt}"
            )
        raise ExprError(msg, node.column)
    needs = "numbers" if op != "-" else "numbers (or TIMESTAMPs)"
    bad, bad_t = (node.left, lt) if not lt.is_numeric else (node.right, rt)
    raise ExprError(f"{quote(bad)} is {bad_t} but {where} needs {needs}", bad.column)
