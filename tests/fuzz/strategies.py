"""Hypothesis strategies for hostile input, structure-aware: built from the parser's own tables.

Models use the keys parse.py accepts, the attribute types and session actions of spec.py, the
Avro types schemas.py supports; expressions use the lexer's operators and keywords, the builtin
function table with its arities and the engine's names; connector and worker configs use the
config key tables; REST requests the route table. Each strategy mostly produces almost-valid
input (so the deep paths run) with hostile values mixed in: huge and non-ASCII numbers, deep
nesting, aliases, tags, control characters, lone surrogates, long names.
"""

from __future__ import annotations

import json
import string
from typing import Any

from hypothesis import strategies as st

from connector.model.avrotypes import PLAIN_LOGICAL, PRIMITIVES, TIMESTAMP_UNITS
from connector.model.expr.functions import BUILTINS
from connector.model.expr.lexer import _OPERATORS, KEYWORDS
from connector.model.parse import (
    ARRIVAL_KEYS,
    ATTRIBUTE_KEYS,
    EMIT_KEYS,
    MODEL_KEYS,
    POPULATION_KEYS,
    PROFILE_KEYS,
    SPELLINGS,
    TRANSITION_KEYS,
)
from connector.model.spec import SESSION_ACTIONS
from connector.model.validate import BUILTIN_NAMES
from connector.runtime.config import CONNECTOR_CONFIG
from connector.runtime.configdef import ConfigType
from connector.runtime.worker_config import WORKER_CONFIG

NAMES = ("x", "y", "s", "flag", "amount", "balance", "t")
STATES = ("a", "b", "c", "self")
# Text that breaks naive code: other scripts' digits, superscripts, controls, surrogates, long.
NASTY_TEXT = ("²", "¹²", "٣", "1" * 5000, "9" * 30, "\x00", "\x01", "\x1b[31m", "\ud800",
              "a-b", "not", "null", "é", "🐶", "../../x", "/proc/self/environ", "a" * 300,
              "", " ", "1e9", "2e19", "NaN", "-0", "0x10", "1_000", "Infinity", ".nan", "~")
NASTY_NUMBERS = (0, -1, 1, 2**31, 2**31 - 1, -(2**31) - 1, 2**63 - 1, 2**63, -(2**63), 2**64,
                 10**20, 10**30, 1e9, 2e19, 1e30, 1e308, float("nan"), float("inf"),
                 -float("inf"), 0.5, -0.0, 5e-324)


def nasty_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=12))


def nasty_number() -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(NASTY_NUMBERS), st.integers(), st.floats())


def scalar() -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.booleans(), nasty_number(), nasty_text())


# -- expressions ----------------------------------------------------------------------------
_BINARY = [op for op in _OPERATORS if op not in ("(", ")", ",", "[", "]", "!")] + ["and", "or"]
_LITERALS = ("0", "1", "-1", "2.5", "1e308", "9223372036854775807", "9223372036854775808",
             "'a'", "'b'", "''", "true", "false", "null", "'\\u0041'", "'\\ud800'", "²",
             "1" * 40, "0.1e-400", "'" + "x" * 50 + "'")
_NAMES = (*NAMES, *BUILTIN_NAMES, *KEYWORDS, "unknown_name")


def expression(max_leaves: int = 12) -> st.SearchStrategy[str]:
    """Expression text from the lexer's operators and the builtin table (arities respected
    mostly, broken sometimes)."""
    leaf = st.one_of(st.sampled_from(_LITERALS), st.sampled_from(_NAMES),
                     st.integers().map(str), st.floats(allow_nan=False).map(repr))

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        def call(name: str, args: list[str]) -> str:
            return f"{name}({', '.join(args)})"

        def arity(name: str) -> st.SearchStrategy[list[str]]:
            b = BUILTINS[name]
            hi = b.max_args if b.max_args is not None else b.min_args + 2
            return st.lists(inner, min_size=max(0, b.min_args - 1), max_size=hi + 1)

        calls = st.sampled_from(sorted(BUILTINS)).flatmap(
            lambda name: arity(name).map(lambda args: call(name, args)))
        choice = st.lists(inner, min_size=1, max_size=4).map(lambda v: f"choice([{', '.join(v)}])")
        return st.one_of(
            st.tuples(inner, st.sampled_from(_BINARY), inner).map(" ".join),
            st.tuples(st.sampled_from(("not ", "-", "!", "+")), inner).map("".join),
            inner.map(lambda e: f"({e})"),
            calls,
            choice,
        )

    nested = st.recursive(leaf, extend, max_leaves=max_leaves)
    deep = st.integers(min_value=50, max_value=3000).map(
        lambda n: st.sampled_from(("(" * n + "1" + ")" * n, "-" * n + "1", "not " * n + "true",
                                   "1" + " + 1" * n)))
    return st.one_of(nested, nested, typed_expression(), typed_expression(),
                     deep.flatmap(lambda s: s), nasty_text())


def _call(name: str, *args: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*args).map(lambda a: f"{name}({', '.join(a)})")


def _op(left: st.SearchStrategy[str], ops: tuple[str, ...], right: st.SearchStrategy[str]
        ) -> st.SearchStrategy[str]:
    return st.tuples(left, st.sampled_from(ops), right).map(lambda t: f"({t[0]} {t[1]} {t[2]})")


def typed_expression() -> st.SearchStrategy[str]:
    """Well-typed expressions (so evaluation, not just checking, meets hostile values): every
    builtin of the table with arguments of the types it takes, operators between them."""
    ints = st.sampled_from(("0", "1", "-1", "7", "9223372036854775807", "-9223372036854775808",
                            "2147483648", "86400000"))
    floats = st.sampled_from(("0.0", "-0.5", "1e308", "1e-308", "2.5", "-1e308"))
    texts = st.sampled_from(("''", "'a'", "'ß'", "'é'", "'\\u0000'", "'a' * 1"))
    longs: st.SearchStrategy[str]
    doubles: st.SearchStrategy[str]
    strings: st.SearchStrategy[str]
    bools: st.SearchStrategy[str]
    times: st.SearchStrategy[str]
    longs = st.deferred(lambda: st.one_of(
        ints, st.sampled_from(("x", "amount", "tick", "user_id")),
        _op(longs, ("+", "-", "*", "//", "%"), longs),
        *(_call(f, doubles) for f in ("round", "floor", "ceil", "long", "poisson")),
        *(_call(f, times) for f in ("hour", "minute", "second", "weekday", "day", "month", "year",
                                    "day_of_year", "long")),
        *(_call(f, longs) for f in ("abs", "seconds", "minutes", "hours", "days")),
        _call("len", strings), _call("randint", longs, longs), _call("min", longs, longs),
        _call("max", longs, longs), _call("clip", longs, longs, longs),
        _call("if", bools, longs, longs), _call("coalesce", longs, longs),
        st.lists(longs, min_size=1, max_size=3).map(lambda v: f"choice([{', '.join(v)}])")))
    doubles = st.deferred(lambda: st.one_of(
        floats, st.just("y"), _op(doubles, ("+", "-", "*", "/", "**", "%", "//"), longs),
        _call("double", longs), _call("round", doubles, longs), _call("uniform", doubles, longs),
        _call("normal", doubles, doubles), _call("lognormal", doubles, doubles),
        _call("exponential", doubles), _call("abs", doubles)))
    strings = st.deferred(lambda: st.one_of(
        texts, st.sampled_from(("s", "state", "transition", "from_state", "to_state", "user_key")),
        _op(strings, ("+",), strings), _call("string", longs), _call("string", doubles),
        _call("string", bools), _call("string", times), _call("lower", strings),
        _call("upper", strings), _call("coalesce", st.just("session_id"), strings),
        _call("if", bools, strings, strings),
        st.lists(texts, min_size=1, max_size=3).map(lambda v: f"choice([{', '.join(v)}])")))
    bools = st.deferred(lambda: st.one_of(
        st.sampled_from(("true", "false", "flag", "session_id == null")),
        _op(longs, ("<", "<=", "==", "!=", ">", ">="), doubles), _op(strings, ("<", "=="), strings),
        _op(bools, ("and", "or", "&&", "||"), bools), bools.map(lambda b: f"not {b}"),
        _call("bernoulli", doubles)))
    times = st.deferred(lambda: st.one_of(
        st.sampled_from(("time", "t")), _call("timestamp", longs), _op(times, ("+", "-"), longs),
        _call("min", times, times), _call("clip", times, times, times)))
    return st.one_of(longs, doubles, strings, bools, times)


def assignment() -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from((*NAMES, "a-b", "not", "")),
                     st.sampled_from(("=", "+=", "-=", "*=", "/=", "==", "")),
                     expression(6)).map(" ".join)


# -- Avro schemas -------------------------------------------------------------------------
def field_type() -> st.SearchStrategy[Any]:
    base = st.sampled_from(sorted(PRIMITIVES))
    logical = st.one_of(
        st.sampled_from(sorted(TIMESTAMP_UNITS)).map(lambda t: {"type": "long", "logicalType": t}),
        st.sampled_from(sorted(PLAIN_LOGICAL.items())).map(
            lambda kv: {"type": kv[1], "logicalType": kv[0]}),
    )
    enum = st.lists(st.sampled_from(("a", "b", "c", "\ud800", "1x", "")), max_size=4).map(
        lambda syms: {"type": "enum", "name": "En", "symbols": syms})
    one = st.one_of(base, logical, enum, st.just("null"), scalar())
    return st.one_of(one, st.tuples(st.just("null"), one).map(list))


def _field_name(field: dict[str, Any]) -> str:
    return str(field["name"])


def schema() -> st.SearchStrategy[Any]:
    names = st.sampled_from(("user_id", "event", "timestamp", "state", "from_state", "to_state",
                             "tick", "session_id", *NAMES, "a-b", "\ud800"))
    field: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
        {"name": names, "type": field_type()},
        optional={"default": scalar()})
    fields: st.SearchStrategy[list[dict[str, Any]]] = st.lists(field, max_size=5,
                                                               unique_by=_field_name)
    record = st.fixed_dictionaries({"type": st.just("record"), "name": st.just("E"),
                                    "fields": fields})
    return st.one_of(record, record, record, scalar())


# -- models ---------------------------------------------------------------------------------
def _pick(keys: tuple[str, ...], values: dict[str, st.SearchStrategy[Any]]
          ) -> st.SearchStrategy[dict[str, Any]]:
    """Mostly the given structure, sometimes a key of the table with a hostile value."""
    return st.fixed_dictionaries(
        {}, optional={**{k: scalar() for k in keys}, **values, "bogus": scalar()})


def transition() -> st.SearchStrategy[dict[str, Any]]:
    state = st.one_of(st.sampled_from(STATES), nasty_text())
    emit_fields = st.dictionaries(st.sampled_from(("user_id", "event", "timestamp", *NAMES)),
                                  expression(6), max_size=3)
    emit = st.one_of(st.just("events"), st.fixed_dictionaries(
        {"topic": st.sampled_from(("events", "other"))}, optional={"fields": emit_fields}),
        _pick(EMIT_KEYS, {}))
    body = st.fixed_dictionaries(
        {"name": st.sampled_from(("go", "back", "stay", "go")), "from": state, "to": state},
        optional={
            "chance": st.one_of(st.floats(0, 100), nasty_number(), st.just("5%")),
            "condition": expression(8),
            "vars": st.dictionaries(st.sampled_from(("v", "w", "not", "a-b", "x", "state")),
                                    st.one_of(expression(8), st.none()), max_size=3),
            "update": st.one_of(st.lists(assignment(), max_size=3),
                                st.dictionaries(st.sampled_from(NAMES), expression(6),
                                                max_size=2)),
            "emit": st.one_of(st.lists(emit, max_size=2), emit),
            "session": st.one_of(st.sampled_from(SESSION_ACTIONS), scalar()),
            "every": st.one_of(st.sampled_from(("17h", "1m", "0s", "²h", "1" * 30 + "ms")),
                               nasty_number()),
            "profile": st.sampled_from(("p", "missing")),
        })
    return st.one_of(body, body, body, body, _pick(TRANSITION_KEYS, {}))


def model() -> st.SearchStrategy[dict[str, Any]]:
    """A model as data (written as YAML or JSON by the targets)."""
    attribute = st.one_of(
        st.fixed_dictionaries({"type": st.sampled_from(SPELLINGS)},
                              optional={"initial": expression(6)}),
        st.sampled_from(SPELLINGS), _pick(ATTRIBUTE_KEYS, {}))
    profile = _pick(PROFILE_KEYS, {
        "hours": st.one_of(st.lists(nasty_number(), min_size=24, max_size=24),
                           st.dictionaries(st.one_of(st.integers(-2, 30).map(str), nasty_text()),
                                           nasty_number(), max_size=3)),
        "weekdays": st.lists(st.floats(0, 5), min_size=7, max_size=7),
        "timezone": st.sampled_from(("UTC", "Europe/Warsaw", "a" * 300, "../etc", "\x00"))})
    population = st.fixed_dictionaries({}, optional={
        "users": nasty_number(),
        "arrivals": st.dictionaries(st.sampled_from(ARRIVAL_KEYS),
                                    st.one_of(nasty_number(), st.just("10m")), max_size=2),
        "arrival_state": st.sampled_from(STATES)})
    body = st.fixed_dictionaries(
        {"states": st.one_of(st.just(["a", "b", "c"]), st.lists(nasty_text(), max_size=3)),
         "transitions": st.lists(transition(), max_size=4),
         "topics": st.dictionaries(st.sampled_from(("events", "other", "../x", "a b", "")),
                                   schema().map(lambda s: {"schema": s}), max_size=2)},
        optional={
            "initial": st.one_of(st.sampled_from(STATES),
                                 st.dictionaries(st.sampled_from(STATES), nasty_number())),
            "final": st.lists(st.sampled_from(STATES), max_size=2),
            "attributes": st.dictionaries(st.sampled_from((*NAMES, "a-b", "not", "user_id")),
                                          attribute, max_size=4),
            "profiles": st.dictionaries(st.just("p"), profile, max_size=1),
            "population": population,
            "timezone": st.sampled_from(("UTC", "Asia/Tokyo", "a" * 300, "Nowhere/City")),
            "jitter": st.one_of(st.booleans(), scalar()),
        })
    return st.one_of(body, body, body, _pick(MODEL_KEYS, {}),
                     st.fixed_dictionaries({"population": _pick(POPULATION_KEYS, {}),
                                            "profiles": st.just({"p": {}}),
                                            "transitions": st.just([]),
                                            "states": st.just(["a"])}))


# -- connector and worker configs ---------------------------------------------------------
def connector_config() -> st.SearchStrategy[dict[str, Any]]:
    """The `config` object of a connector (its `model` is filled in by the target)."""
    special = {
        "users": st.one_of(st.integers(0, 200).map(str), nasty_number(), nasty_text()),
        "shards": st.one_of(st.integers(1, 8).map(str), nasty_number(), nasty_text()),
        "seed": st.one_of(st.integers(0, 99).map(str), nasty_number(), nasty_text()),
        "tick.ms": st.one_of(st.sampled_from(("1000", "60000", "1")), nasty_number()),
        "start.time": st.one_of(st.sampled_from((
            "2024-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
            "9223372036854775807", "-62135596800000", "now", "²", "1" * 5000)), nasty_text()),
        "pace": st.one_of(st.sampled_from(("max", "realtime", "NaN", "inf", "1e308", "0", "-1")),
                          nasty_number()),
    }
    others = {c.name: st.one_of(st.just(c.default or ""), scalar()) for c in CONNECTOR_CONFIG.keys
              if c.name not in (*special, "model", "ticks")}
    ticks = st.one_of(*[st.integers(0, 4).map(str)] * 4, nasty_number(), nasty_text())
    return st.fixed_dictionaries({"ticks": ticks},
                                 optional={**special, **others, "bogus.key": scalar()})


# Worker-config values by key type: numbers for the number keys, spellings for the flag, paths
# (relative, absolute, special files, too long) for models.dir, class lists for plugins.
_WORKER_VALUES: dict[ConfigType, st.SearchStrategy[Any]] = {
    ConfigType.INT: st.one_of(st.integers(-2, 70_000), nasty_number(), nasty_text()),
    ConfigType.LONG: st.one_of(st.integers(-2, 10**12), nasty_number(), nasty_text()),
    ConfigType.BOOLEAN: st.one_of(st.sampled_from(("true", "false", "TRUE", "yes", "1", "")),
                                  nasty_text()),
}
_WORKER_SPECIAL: dict[str, st.SearchStrategy[Any]] = {
    "models.dir": st.one_of(st.sampled_from((".", "/", "/tmp", "/proc/self/environ", "/dev/null",
                                             "nope", "a" * 5000, "a\x00b", "~", "..")),
                            nasty_text()),
    "plugins": st.one_of(st.sampled_from(("os:system", "json:loads", "nope:x", "a", ":",
                                          "connector:__version__", "builtins:eval,")),
                         nasty_text()),
    "schema.registry.url": st.one_of(st.sampled_from(("http://127.0.0.1:1", "http://[::1",
                                                      "ftp://x", "", "http://a:b@h/")),
                                     nasty_text()),
    "log.level": st.one_of(st.sampled_from(("DEBUG", "info", "TRACE", "")), nasty_text()),
}


def worker_config() -> st.SearchStrategy[tuple[dict[str, Any], bool]]:
    """(settings, as JSON): keys of the worker table with values of their type (mostly),
    hostile values, unknown and prefixed keys; written as .properties or JSON."""
    def typed(name: str) -> st.SearchStrategy[Any]:
        value = _WORKER_SPECIAL.get(name, _WORKER_VALUES.get(WORKER_CONFIG[name].type, scalar()))
        return st.one_of(value, value, scalar())

    known = {name: typed(name) for name in sorted(WORKER_CONFIG.names)
             if name != "bootstrap.servers"}
    prefixed = st.dictionaries(
        st.tuples(st.sampled_from(("producer.", "consumer.", "admin.", "schema.registry.",
                                   "value.converter.", "sasl.", "ssl.")),
                  st.sampled_from(("linger.ms", "url", "x", "", "\x00"))).map("".join),
        scalar(), max_size=2)
    values = st.tuples(
        st.fixed_dictionaries({"bootstrap.servers": st.just("localhost:9092")}, optional=known),
        prefixed, st.dictionaries(nasty_text(), scalar(), max_size=2)).map(
        lambda t: {**t[0], **t[1], **t[2]})
    loose = st.dictionaries(st.one_of(st.sampled_from(sorted(WORKER_CONFIG.names)), nasty_text()),
                            scalar(), max_size=6)
    return st.tuples(st.one_of(values, values, loose), st.booleans())


# -- raw documents ------------------------------------------------------------------------
def yaml_text() -> st.SearchStrategy[str]:
    """Hostile YAML/JSON text: nesting, aliases, tags, controls, long numbers, random bytes."""
    fixed = st.sampled_from((
        "a: &a [*a]", "a: &a {b: *a}", "!!python/object:os.system {}", "a: !!int {}",
        "a: !!binary aGk=", "a: !!set {x}", "a: !!timestamp 2024-01-01", "a: !foo 1",
        "a: 1\n---\nb: 2", "a: \"\\x01\"", "a: \"\\ud800\"", "? [a]\n: b", "<<: {a: 1}",
        "a: " + "1" * 5000, "a: 0x" + "f" * 5000, "a: 1:2:3:4:5", "a: .nan", "\ufeffa: 1",
        "a: b: c", "[" * 70 + "]" * 70, "{\"a\":" * 3000 + "1" + "}" * 3000,
    ))
    deep_block = st.integers(10, 200).map(lambda n: "".join(f"{'  ' * i}k{i}:\n"
                                                          for i in range(n)) + "  " * n + "v")
    laughs = st.integers(2, 12).map(lambda n: "\n".join(
        ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"] +
        [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, n)]))
    structured = st.recursive(scalar(), lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(string.ascii_letters, max_size=4),
                                                     inner, max_size=4)), max_leaves=20)
    dumped = structured.map(lambda v: json.dumps(v, allow_nan=True))
    return st.one_of(fixed, deep_block, laughs, dumped, st.text(max_size=200))
