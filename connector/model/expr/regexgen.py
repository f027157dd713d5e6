"""regex(pattern): strings generated from a small regular-expression subset, as whole columns.

Hand-written rather than exrex or rstr: those generate one string per Python call (a few us
each, per row), and take a global `random` state; here the pattern is parsed once at validation
time into a tree whose every node draws a fixed number of `size`-long batches from the call
site's stream, so generation is a handful of numpy operations per node for all rows and a row's
value depends only on its place in its shard's stream.

The subset: literal characters; `.` (printable ASCII); classes `[a-z0-9_]`, `[^...]` (printable
ASCII minus the listed); escapes `\\d \\w \\s` (also in classes; `\\s` generates a space),
`\\n \\t \\r` and any escaped punctuation; groups `(...)`, `(?:...)`; alternation `|`
(uniform among the branches); quantifiers `? * + {m} {m,} {m,n}` (count uniform in its range;
`*`, `+` and `{m,}` repeat at most 8 more times than their minimum; a trailing lazy `?` is
accepted and ignored); `^` at the start and `$` at the end are ignored. Anything else (back
references, look-around, `\\b`, named groups, Unicode classes) is an error at validation.
Bounds keep hostile patterns cheap: `{m,n}` up to 1000, nesting up to 50 groups, and at most
2000 generated characters' worth of work per value (so a batch's memory stays within a few
times that of the strings it makes).
"""

from __future__ import annotations

import string

import attrs
import numpy as np

from connector.model.expr.callspec import LiteralTextError
from connector.model.expr.chars import strings_of
from connector.model.expr.ops import concat, obj

EXTRA_REPEATS = 8
MAX_REPEAT = 1000
MAX_DEPTH = 50
MAX_WORK = 2000
PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))
_CLASSES = {"d": string.digits, "w": string.ascii_letters + string.digits + "_", "s": " "}
_CONTROL = {"n": "\n", "t": "\t", "r": "\r"}
_SPECIAL = set("\\.^$|?*+()[]{}")



@attrs.frozen
class Chars:
    """One character drawn uniformly from `alphabet` (distinct characters, in order)."""

    alphabet: str


@attrs.frozen
class Seq:
    items: tuple[Node, ...]


@attrs.frozen
class Alt:
    options: tuple[Node, ...]


@attrs.frozen
class Rep:
    node: Node
    lo: int
    hi: int


Node = Chars | Seq | Alt | Rep


def work(node: Node) -> int:
    """Characters' worth of work generating one value costs (the bound on hostile patterns)."""
    if isinstance(node, Chars):
        return 1
    if isinstance(node, Rep):
        return max(1, node.hi) * work(node.node)
    items = node.items if isinstance(node, Seq) else node.options
    return sum(work(i) for i in items) + 1


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0
        self.depth = 0

    def fail(self, message: str, at: int | None = None) -> LiteralTextError:
        return LiteralTextError(message, self.i if at is None else at)

    def peek(self) -> str:
        return self.p[self.i] if self.i < len(self.p) else ""

    def parse(self) -> Node:
        if self.peek() == "^":
            self.i += 1
        node = self.alternation()
        if self.peek() == "$" and self.i == len(self.p) - 1:
            self.i += 1
        if self.i < len(self.p):
            c = self.p[self.i]
            raise self.fail("unbalanced ')'" if c == ")" else f"unexpected {c!r}")
        return node

    def alternation(self) -> Node:
        options = [self.sequence()]
        while self.peek() == "|":
            self.i += 1
            options.append(self.sequence())
        return options[0] if len(options) == 1 else Alt(tuple(options))

    def sequence(self) -> Node:
        items: list[Node] = []
        while self.peek() not in ("", "|", ")") and not (
                self.peek() == "$" and self.i == len(self.p) - 1):
            atom = self.quantified(self.atom())
            items.append(atom)
        return items[0] if len(items) == 1 else Seq(tuple(items))

    def atom(self) -> Node:
        c, start = self.peek(), self.i
        self.i += 1
        if c == "(":
            return self.group(start)
        if c == "[":
            return Chars(self.char_class(start))
        if c == ".":
            return Chars(PRINTABLE)
        if c == "\\":
            return Chars(self.escape(in_class=False))
        if c in "?*+{":
            raise self.fail(f"nothing to repeat before {c!r}", start)
        if c in "^$":
            raise self.fail(f"anchor {c!r} is only allowed at the start/end of the pattern", start)
        return Chars(c)

    def group(self, start: int) -> Node:
        if self.p.startswith("?:", self.i):
            self.i += 2
        elif self.peek() == "?":
            raise self.fail("only plain (...) and (?:...) groups are supported", start)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"groups are nested deeper than {MAX_DEPTH}", start)
        node = self.alternation()
        self.depth -= 1
        if self.peek() != ")":
            raise self.fail("missing ')'", start)
        self.i += 1
        return node

    def escape(self, in_class: bool) -> str:
        c = self.peek()
        if not c:
            raise self.fail("pattern ends with a lone backslash", self.i - 1)
        self.i += 1
        if c in _CLASSES:
            return _CLASSES[c]
        if c in _CONTROL:
            return _CONTROL[c]
        if not c.isalnum():
            return c
        what = "a class" if in_class else "the pattern"
        raise self.fail(f"escape \\{c} is not supported in {what} (supported: \\d \\w \\s "
                        "\\n \\t \\r and escaped punctuation)", self.i - 2)

    def char_class(self, start: int) -> str:
        negate = self.peek() == "^"
        if negate:
            self.i += 1
        chosen: list[str] = []
        first = True
        while True:
            c = self.peek()
            if not c:
                raise self.fail("missing ']'", start)
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            self.i += 1
            if c == "\\":
                piece = self.escape(in_class=True)
                if len(piece) > 1:
                    chosen.extend(piece)
                    continue
                c = piece
            if self.peek() == "-" and self.i + 1 < len(self.p) and self.p[self.i + 1] != "]":
                self.i += 1
                hi = self.p[self.i]
                self.i += 1
                if hi == "\\":
                    hi = self.escape(in_class=True)
                    if len(hi) > 1:
                        raise self.fail("a range cannot end in a class escape", self.i - 2)
                if ord(hi) < ord(c):
                    raise self.fail(f"range {c}-{hi} is reversed", self.i - 3)
                if ord(hi) - ord(c) > 0xFFFF or (ord(c) <= 0xDFFF and ord(hi) >= 0xD800):
                    raise self.fail(f"range {c!r}-{hi!r} is too large or holds surrogates",
                                    self.i - 3)
                chosen.extend(chr(x) for x in range(ord(c), ord(hi) + 1))
            else:
                chosen.append(c)
        alphabet = "".join(dict.fromkeys(chosen))
        if negate:
            alphabet = "".join(ch for ch in PRINTABLE if ch not in set(alphabet))
        if not alphabet:
            raise self.fail("the class matches no printable character", start)
        return alphabet

    def quantified(self, node: Node) -> Node:
        c, start = self.peek(), self.i
        if c not in ("?", "*", "+", "{"):
            return node
        self.i += 1
        if c == "?":
            lo, hi = 0, 1
        elif c == "*":
            lo, hi = 0, EXTRA_REPEATS
        elif c == "+":
            lo, hi = 1, 1 + EXTRA_REPEATS
        else:
            lo, hi = self.braces(start)
        if self.peek() == "?":  # lazy: the same strings can be generated
            self.i += 1
        if self.peek() in ("?", "*", "+", "{") and self.peek():
            raise self.fail("a quantifier cannot follow another", self.i)
        return Rep(node, lo, hi)

    def braces(self, start: int) -> tuple[int, int]:
        end = self.p.find("}", self.i)
        if end < 0:
            raise self.fail("missing '}'", start)
        body, self.i = self.p[self.i:end], end + 1
        parts = body.split(",")
        if len(parts) > 2 or not parts[0].isdigit() or (len(parts) == 2 and parts[1] and
                                                         not parts[1].isdigit()):
            raise self.fail(f"bad repetition {{{body}}}; expected {{m}}, {{m,}} or {{m,n}}", start)
        if len(parts[0]) > 6 or (len(parts) == 2 and len(parts[1]) > 6):
            raise self.fail(f"repetition {{{body}}} is over {MAX_REPEAT}", start)
        lo = int(parts[0])
        hi = lo if len(parts) == 1 else (int(parts[1]) if parts[1] else lo + EXTRA_REPEATS)
        if hi < lo:
            raise self.fail(f"repetition {{{body}}} has its maximum below its minimum", start)
        if hi > MAX_REPEAT:
            raise self.fail(f"repetition {{{body}}} is over {MAX_REPEAT}", start)
        return lo, hi


def compile_regex(pattern: str) -> Node:
    """The pattern's generator tree; LiteralTextError outside the subset or over the bounds."""
    for i, c in enumerate(pattern):  # neither can be written as UTF-8 text into a record
        if c == "\x00" or "\ud800" <= c <= "\udfff":
            raise LiteralTextError("the pattern contains a NUL or a lone surrogate character", i)
    node = _Parser(pattern).parse()
    if work(node) > MAX_WORK:
        raise LiteralTextError(f"the pattern would generate over {MAX_WORK} characters' worth of "
                         "work per value; lower its repetition counts", 0)
    return node


@attrs.frozen
class RegexDraw:
    """The implementation of one regex(pattern) call: `fn(generator, size)`. Picklable."""

    pattern: str
    tree: Node

    def __call__(self, gen: np.random.Generator, size: int) -> np.ndarray:
        out = np.empty(size, dtype=object)
        out[...] = _generate(self.tree, gen, size)
        return out


def _generate(node: Node, gen: np.random.Generator, size: int) -> object:
    """A str (the same for every row) or an object column of str."""
    if isinstance(node, Chars):
        if len(node.alphabet) == 1:
            return node.alphabet
        table = np.array(list(node.alphabet), dtype=object)
        return table[gen.integers(0, len(node.alphabet), size=size)]
    if isinstance(node, Seq):
        out: object = ""
        for item in node.items:
            out = concat(out, _generate(item, gen, size))
        return out
    if isinstance(node, Alt):
        pick = gen.integers(0, len(node.options), size=size)
        chosen: object = ""
        for k, option in enumerate(node.options):
            chosen = np.where(pick == k, obj(_generate(option, gen, size)), obj(chosen))
        return chosen
    return _repeat(node, gen, size)


def _repeat(node: Rep, gen: np.random.Generator, size: int) -> object:
    count = gen.integers(node.lo, node.hi + 1, size=size) if node.hi > node.lo else node.lo
    if isinstance(node.node, Chars) and node.hi > 0:
        # One code column per position, cut at each row's count: no string joins at all.
        alphabet = np.array([ord(c) for c in node.node.alphabet], dtype=np.uint32)
        codes = np.zeros((size, node.hi), dtype=np.uint32)
        for j in range(node.hi):
            codes[:, j] = alphabet[gen.integers(0, len(alphabet), size=size)] \
                if len(alphabet) > 1 else alphabet[0]
        if node.hi > node.lo:
            codes[np.arange(node.hi)[None, :] >= np.asarray(count)[:, None]] = 0
        return strings_of(codes)
    out: object = ""
    for j in range(node.hi):
        part = _generate(node.node, gen, size)
        out = concat(out, part if j < node.lo else np.where(j < count, obj(part), ""))
    return out
