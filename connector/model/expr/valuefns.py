"""The value functions' entries in the builtin table: realistic strings, identifiers, text.

fake(), uuid() and regex() are random draws (each call a site with its own stream); sequence()
reads per-shard counters the engine keeps (EvalContext.sequence); hash(), format() and
format_time() are pure. Kinds, locales, patterns and templates must be string literals, so every
mistake in them is found at validation time, with the column of the argument at fault.

Every implementation makes `size` values from whole columns (`fn(generator, size)` for draws),
so a caller may ask for the values of many list elements at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, TypeVar

import attrs
import numpy as np

from connector.model.expr import identifiers, timefns
from connector.model.expr.ast import Call
from connector.model.expr.callspec import Builtin, LiteralTextError, literal_text, need
from connector.model.expr.errors import ExprError
from connector.model.expr.fakes import KINDS, FakeDraw
from connector.model.expr.formatting import Template, blake2b_hex, check_spec, parse_template
from connector.model.expr.pools import DEFAULT_LOCALE, locales
from connector.model.expr.regexgen import RegexDraw, compile_regex
from connector.model.expr.timeformat import TimeFormat, parse_pattern
from connector.model.expr.typed import TApply, TNode, TRandom, nodes
from connector.model.expr.types import B, D, L, S, T

_SHOWN = 60  # characters of a hostile literal quoted in an error
_NAME_MAX = 100


def _shown(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")


_Parsed = TypeVar("_Parsed")


def _parsed(call: Call, i: int, text: str, parse: Callable[[str], _Parsed]) -> _Parsed:
    """`parse(text)` of literal argument i, its mistakes as errors at that argument."""
    try:
        return parse(text)
    except LiteralTextError as exc:
        raise ExprError(f"{call.name}(): {exc.message} (at character {exc.position + 1} of "
                        f"{_shown(text)})", call.args[i].column) from None


def _close(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _locale_hint(locale: str) -> str:
    """The locales of the same language (de_XX: de_AT, de_CH, ...), else the closest name."""
    language = locale.split("_", maxsplit=1)[0].lower()
    same = [loc for loc in locales() if loc.split("_")[0] == language]
    return f" (locales of {language!r}: {', '.join(same)})" if same else _close(locale, locales())


def _fake(call: Call, args: tuple[TNode, ...], site: int | None) -> TNode:
    kind = literal_text(call, 0, "the kind", "fake('email')")
    if kind not in KINDS:
        raise ExprError(f"unknown fake kind {_shown(kind)}{_close(kind, KINDS)}; kinds: "
                        f"{', '.join(KINDS)}", call.args[0].column)
    locale = DEFAULT_LOCALE
    if len(args) == 2:
        locale = literal_text(call, 1, "the locale", "fake('name', 'de_DE')")
        if locale not in locales():
            raise ExprError(f"unknown locale {_shown(locale)}{_locale_hint(locale)}; "
                            f"locales are Faker's, like en_US, de_DE, fr_FR, ja_JP, pt_BR",
                            call.args[1].column)
    assert site is not None
    return TRandom(S, False, site, FakeDraw(kind, locale), ())


def _uuid(call: Call, args: tuple[TNode, ...], site: int | None) -> TNode:
    assert site is not None
    return TRandom(S, False, site, identifiers.uuid4, ())


def _regex(call: Call, args: tuple[TNode, ...], site: int | None) -> TNode:
    pattern = literal_text(call, 0, "the pattern", "regex('[A-Z]{3}-\\\\d{4}')")
    tree = _parsed(call, 0, pattern, compile_regex)
    assert site is not None
    return TRandom(S, False, site, RegexDraw(pattern, tree), ())


@attrs.frozen
class SequenceTake:
    """sequence(name): the next `size` numbers of the named per-shard counter."""

    name: str

    def __call__(self, ctx: Any) -> np.ndarray:
        values: np.ndarray = ctx.sequence(self.name, ctx.size)
        return values


def _sequence(call: Call, args: tuple[TNode, ...], _: int | None) -> TNode:
    name = literal_text(call, 0, "the sequence name", "sequence('order')")
    if not name or len(name) > _NAME_MAX or not name.isprintable():
        raise ExprError(f"sequence() needs a name of 1 to {_NAME_MAX} printable characters",
                        call.args[0].column)
    return TApply(L, False, SequenceTake(name), (), needs_ctx=True)


_ANY = frozenset({L, D, B, S, T})


def _hash(call: Call, args: tuple[TNode, ...], _: int | None) -> TNode:
    need(call, args, 0, _ANY, "a value")
    return TApply(S, False, partial(blake2b_hex, args[0].type), args)


def _format(call: Call, args: tuple[TNode, ...], _: int | None) -> TNode:
    text = literal_text(call, 0, "the template", "format('ORD-{:06d}', n)")
    column = call.args[0].column
    pieces, holes = _parsed(call, 0, text, parse_template)
    values = args[1:]
    for i in range(len(values)):
        need(call, args, i + 1, _ANY, "values to format")
    for hole in holes:
        if hole.index >= len(values):
            follow = "value follows" if len(values) == 1 else "values follow"
            raise ExprError(f"format(): the template refers to argument {hole.index} (counted "
                            f"from 0) but {len(values)} {follow} it", column)
        why = check_spec(hole.spec, values[hole.index].type) if hole.spec else None
        if why:
            raise ExprError(f"format(): {why}", call.args[hole.index + 1].column)
    unused = sorted(set(range(len(values))) - {h.index for h in holes})
    if unused:
        raise ExprError("format(): this value is not used by the template",
                        call.args[unused[0] + 1].column)
    return TApply(S, False, Template(pieces, holes, tuple(v.type for v in values)), values)


def _format_time(call: Call, args: tuple[TNode, ...], _: int | None) -> TNode:
    hint = " (use timestamp(x) for epoch milliseconds)" if args[0].type == L else ""
    need(call, args, 0, frozenset({T}), "a TIMESTAMP first", hint=hint)
    pattern = literal_text(call, 1, "the pattern", "format_time(time, '%Y-%m-%d %H:%M')")
    parts = _parsed(call, 1, pattern, parse_pattern)
    fn = partial(timefns.in_zone_of, TimeFormat(pattern, parts))
    return TApply(S, False, fn, (args[0],), needs_ctx=True)


VALUE_BUILTINS = (
    Builtin("fake", "fake(kind) or fake(kind, locale)", 1, 2, _fake, random=True),
    Builtin("uuid", "uuid()", 0, 0, _uuid, random=True),
    Builtin("regex", "regex(pattern)", 1, 1, _regex, random=True),
    Builtin("sequence", "sequence(name)", 1, 1, _sequence, pure=False),
    Builtin("hash", "hash(x)", 1, 1, _hash),
    Builtin("format", "format(template, value, ...)", 1, None, _format),
    Builtin("format_time", "format_time(t, pattern)", 2, 2, _format_time),
)


def sequences_of(tree: TNode) -> tuple[str, ...]:
    """The sequence names the tree takes numbers from, once per call (source order)."""
    return tuple(n.fn.name for n in nodes(tree)
                 if isinstance(n, TApply) and isinstance(n.fn, SequenceTake))


def pools_of(tree: TNode) -> set[tuple[str, str]]:
    """The (pool, locale) pairs the tree's fake() calls draw from."""
    return {p for n in nodes(tree) if isinstance(n, TRandom) and isinstance(n.fn, FakeDraw)
            for p in n.fn.pools()}
