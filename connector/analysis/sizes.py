"""Estimated size of a record value on the wire: what bytes/s figures are made of.

An estimate, said as such wherever it is shown: each field's Avro binary size from its schema type
and the expression filling it. Constants, user ids, event times, transition and state names and
literal `choice()`s are sized exactly (ids averaged over the population); random numbers at their
mean (`randint` by the mean size over its range); other longs at 3 bytes and other strings at 8
characters (marked as guesses). Plus the Confluent wire format's 5-byte header. Keys (the user id)
and Kafka's own per-record overhead are not included.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import attrs

from connector.analysis.finite import constant
from connector.model import expr as ex
from connector.model.avro import FieldSpec
from connector.model.avrotypes import AvroType, Kind
from connector.model.emits import CheckedEmit
from connector.model.expr.ast import Binary, Call, ListLit, Name, Node, Unary
from connector.model.spec import SELF
from connector.model.validate import CheckedTransition, ValidatedModel

WIRE_HEADER = 5  # magic byte + 4-byte schema id
GUESS_LONG = 3.0
GUESS_STRING = 8.0
_FIXED = {"boolean": 1.0, "float": 4.0, "double": 8.0}
_DEPTH = 20  # names resolved through attributes and vars at most this deep


@attrs.frozen
class SizeEstimate:
    bytes: float
    guessed: tuple[str, ...]  # fields sized by a guess


def varint_size(value: float) -> int:
    """Bytes of a zigzag varint (Avro int/long)."""
    v = int(value)
    z = (v << 1) ^ (v >> 63) if -(1 << 63) <= v < (1 << 63) else (1 << 64) - 1
    return max(1, -(-z.bit_length() // 7))


def mean_varint_size(lo: int, hi: int) -> float:
    """Mean zigzag varint size of the integers lo..hi (inclusive), exactly, by size bands."""
    if hi < lo:
        lo, hi = hi, lo
    total, count = 0.0, hi - lo + 1
    for size in range(1, 11):
        # Non-negative v has zigzag 2v, negative v has -2v - 1: bands of |v| per size.
        limit = (1 << (7 * size)) // 2
        pos = _overlap(lo, hi, 0 if size == 1 else (1 << (7 * (size - 1))) // 2, limit - 1)
        neg = _overlap(lo, hi, -limit, -1 if size == 1 else -((1 << (7 * (size - 1))) // 2) - 1)
        total += size * (pos + neg)
    return total / count


def mean_digits(lo: int, hi: int) -> float:
    """Mean number of decimal digits of lo..hi (non-negative)."""
    total, count = 0, hi - lo + 1
    for d in range(1, 20):
        total += d * _overlap(lo, hi, 0 if d == 1 else 10 ** (d - 1), 10 ** d - 1)
    return total / max(count, 1)


def _overlap(lo: int, hi: int, a: int, b: int) -> int:
    return max(0, min(hi, b) - max(lo, a) + 1)


class _Sizer:
    def __init__(self, model: ValidatedModel, t: CheckedTransition, users: int, start_ms: int,
                 ticks: int) -> None:
        self.t = t
        self.users = max(users, 1)
        self.start_ms = start_ms
        self.ticks = ticks
        self.initial = {n: c.node for n, c in model.initial_values}
        self.vars = {n: c.node for n, c in t.variables}
        states = [*t.spec.sources] + ([] if t.spec.target == SELF else [t.spec.target])
        self.state_len = sum(len(s.encode()) for s in states) / len(states)

    def value(self, node: Node, depth: int = 0) -> float | None:
        """A typical numeric value of `node`, or None when unknown."""
        known, v = constant(node)
        if known:
            return float(v) if isinstance(v, int | float) else None
        if depth > _DEPTH:
            return None
        if isinstance(node, Name):
            if node.name == "time":
                return float(self.start_ms)
            if node.name == "user_id":
                return (self.users - 1) / 2
            if node.name == "tick":
                return self.ticks / 2
            ref = self.vars.get(node.name) or self.initial.get(node.name)
            return self.value(ref, depth + 1) if ref is not None else None
        if isinstance(node, Unary) and node.op == "-":
            inner = self.value(node.operand, depth + 1)
            return -inner if inner is not None else None
        if isinstance(node, Binary) and node.op in "+-*/":
            a, b = self.value(node.left, depth + 1), self.value(node.right, depth + 1)
            if a is None or b is None:
                return None
            ops: dict[str, Callable[[float, float], float]] = {
                "+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
                "/": lambda x, y: x / y if y else 0.0}
            return ops[node.op](a, b)
        if isinstance(node, Call):
            args = [self.value(a, depth + 1) for a in node.args]
            return _typical_call(node.name, args)
        return None

    def long_bytes(self, node: Node, units: int) -> float | None:
        if isinstance(node, Name) and node.name == "user_id":
            return mean_varint_size(0, self.users - 1)
        if isinstance(node, Call) and node.name == "randint" and len(node.args) == 2:
            bounds = [constant(a) for a in node.args]
            if all(k for k, _ in bounds):
                return mean_varint_size(int(bounds[0][1]), int(bounds[1][1]))
        options = _choice_options(node)
        if options is not None:
            sizes = [self.long_bytes(o, units) for o, _ in options]
            if any(s is None for s in sizes):
                return None
            return sum(s * w for s, (_, w) in zip(sizes, options, strict=True) if s is not None)
        v = self.value(node)
        return None if v is None or not math.isfinite(v) else float(varint_size(v * units))

    def string_len(self, node: Node, depth: int = 0) -> float | None:
        known, v = constant(node)
        if known and isinstance(v, str):
            return float(len(v.encode()))
        if depth > _DEPTH:
            return None
        if isinstance(node, Name):
            if node.name == "user_key":
                return mean_digits(0, self.users - 1)
            if node.name == "transition":
                return float(len(self.t.spec.name.encode()))
            if node.name == "state":
                return self.state_len
            if node.name == "session_id":
                return mean_digits(0, self.users - 1) + 2
            ref = self.vars.get(node.name) or self.initial.get(node.name)
            return self.string_len(ref, depth + 1) if ref is not None else None
        options = _choice_options(node)
        if options is not None:
            lens = [self.string_len(o, depth + 1) for o, _ in options]
            if any(n is None for n in lens):
                return None
            return sum(n * w for n, (_, w) in zip(lens, options, strict=True) if n is not None)
        return None


def _choice_options(node: Node) -> list[tuple[Node, float]] | None:
    """Options of `choice([...], [weights])` or `if(c, a, b)` with their weights."""
    if not isinstance(node, Call):
        return None
    if node.name == "if" and len(node.args) == 3:
        return [(node.args[1], 0.5), (node.args[2], 0.5)]
    if node.name != "choice" or not node.args or not isinstance(node.args[0], ListLit):
        return None
    items = node.args[0].items
    weights = [1.0] * len(items)
    if len(node.args) == 2 and isinstance(node.args[1], ListLit) and \
            len(node.args[1].items) == len(items):
        given = [constant(w) for w in node.args[1].items]
        if all(k and isinstance(w, int | float) for k, w in given):
            weights = [max(float(w), 0.0) for _, w in given]
    total = sum(weights) or 1.0
    return [(item, w / total) for item, w in zip(items, weights, strict=True)]


def _typical_call(name: str, args: list[float | None]) -> float | None:
    if any(a is None for a in args):
        return None
    a = [x for x in args if x is not None]
    means: dict[str, Callable[[], float]] = {
        "uniform": lambda: (a[0] + a[1]) / 2, "randint": lambda: (a[0] + a[1]) / 2,
        "normal": lambda: a[0], "lognormal": lambda: math.exp(a[0] + a[1] ** 2 / 2),
        "exponential": lambda: a[0], "poisson": lambda: a[0],
        "round": lambda: float(round(a[0])), "floor": lambda: float(math.floor(a[0])),
        "ceil": lambda: float(math.ceil(a[0])), "abs": lambda: abs(a[0]),
        "min": lambda: min(a), "max": lambda: max(a), "clip": lambda: min(max(a[0], a[1]), a[2])}
    try:
        return means[name]() if name in means else None
    except (IndexError, OverflowError, ValueError):
        return None


def record_size(model: ValidatedModel, t: CheckedTransition, emit: CheckedEmit, users: int,
                start_ms: int, ticks: int) -> SizeEstimate:
    """The estimated wire size of one value record `emit` of transition `t` writes."""
    sizer = _Sizer(model, t, users, start_ms, ticks)
    total, guessed = float(WIRE_HEADER), []
    for field, checked in emit.fields:
        size = _field_size(sizer, field, checked)
        if size is None:
            guessed.append(field.name)
            size = GUESS_STRING + 1 if field.avro_type in ("string", "bytes") else GUESS_LONG
        total += size + (1 if field.nullable else 0)
    for field, _ in emit.shaped:  # records, arrays, maps, unions: a guess from the schema
        guessed.append(field.name)
        total += _shape_guess(field.type)
    return SizeEstimate(total, tuple(guessed))


def _shape_guess(t: AvroType, depth: int = 0) -> float:
    """A rough size of a value of type `t`: strings GUESS_STRING, numbers GUESS_LONG, arrays
    and maps two items (recursive types stop after a few levels)."""
    if depth > 4 or t.kind is Kind.NULL:
        return 0.0
    if t.kind is Kind.RECORD:
        return sum(_shape_guess(f.type, depth + 1) for f in t.fields)
    if t.kind in (Kind.ARRAY, Kind.MAP) and t.items is not None:
        key = GUESS_STRING + 1 if t.kind is Kind.MAP else 0
        return 2 + 2 * (key + _shape_guess(t.items, depth + 1))
    if t.kind is Kind.UNION:
        return 1 + max(_shape_guess(b, depth + 1) for b in t.branches)
    if t.kind.value in _FIXED:
        return float(_FIXED[t.kind.value])
    if t.kind is Kind.FIXED:
        return float(t.size)
    return GUESS_STRING + 1 if t.kind in (Kind.STRING, Kind.BYTES) else float(GUESS_LONG)


def _field_size(sizer: _Sizer, field: FieldSpec, checked: ex.Checked) -> float | None:
    node = checked.node
    if checked.type is ex.ExprType.NULL:
        return 0.0
    if field.avro_type in _FIXED:
        return _FIXED[field.avro_type]
    if field.avro_type == "enum":
        return float(varint_size(len(field.symbols or ())))
    if field.avro_type in ("int", "long"):
        return sizer.long_bytes(node, field.units_per_ms if field.logical_type else 1)
    if field.avro_type in ("string", "bytes"):
        n = sizer.string_len(node)
        return None if n is None else n + varint_size(n)
    return None
