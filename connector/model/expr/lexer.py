"""Turns expression text into tokens; every token remembers where it starts for error messages."""

from __future__ import annotations

import math

import attrs

from connector.model.expr.errors import ExprError
from connector.model.numbers import MAX_DIGITS, is_digit, parse_whole_number

KEYWORDS = frozenset({"and", "or", "not", "true", "false", "null"})

# Longest first, so '**' wins over '*' and '==' over '='.
_OPERATORS = (
    "**", "//", "==", "!=", "<=", ">=", "&&", "||", "+=", "-=", "*=", "/=",
    "+", "-", "*", "/", "%", "<", ">", "!", "(", ")", ",", "[", "]", "=",
)  # fmt: skip
# Symbolic aliases, normalised here so the parser only knows one spelling.
_ALIASES = {"&&": "and", "||": "or", "!": "not"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", "'": "'", '"': '"'}


def is_name_start(char: str) -> bool:
    return char.isalpha() or char == "_"


def is_name_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def is_name(text: str) -> bool:
    """Whether `text` reads as one name in an expression (not a keyword, not `a-b`, not `1x`)."""
    return (bool(text) and is_name_start(text[0]) and all(map(is_name_char, text[1:]))
            and text not in KEYWORDS)


@attrs.frozen
class Token:
    """kind: 'int', 'float', 'string', 'name', 'keyword', 'op' or 'eof'.

    `text` is the token as written, `op` its canonical operator/keyword (e.g. '&&' -> 'and'),
    `start`/`end` are 0-based offsets into the source.
    """

    kind: str
    text: str
    start: int
    end: int
    value: int | float | str | None = None
    op: str = ""

    @property
    def column(self) -> int:
        return self.start + 1


def tokenize(src: str) -> list[Token]:
    """All tokens of `src`, ending with an 'eof' token; raises ExprError on a malformed token."""
    tokens: list[Token] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c.isspace():
            i += 1
        elif is_digit(c) or (c == "." and i + 1 < n and is_digit(src[i + 1])):
            tok = _number(src, i)
            tokens.append(tok)
            i = tok.end
        elif is_name_start(c):
            j = i
            while j < n and is_name_char(src[j]):
                j += 1
            word = src[i:j]
            kind = "keyword" if word in KEYWORDS else "name"
            tokens.append(Token(kind, word, i, j, word, word if kind == "keyword" else ""))
            i = j
        elif c in "'\"":
            tok = _string(src, i)
            tokens.append(tok)
            i = tok.end
        else:
            for op in _OPERATORS:
                if src.startswith(op, i):
                    canon = _ALIASES.get(op, op)
                    tokens.append(Token("op", op, i, i + len(op), None, canon))
                    i += len(op)
                    break
            else:
                hint = {"&": "; use 'and'", "|": "; use 'or'"}.get(c, "")
                raise ExprError(f"unexpected character {c!r}{hint}", i + 1)
    tokens.append(Token("eof", "", n, n, None, ""))
    return tokens


def _number(src: str, i: int) -> Token:
    n = len(src)
    j = i
    while j < n and is_digit(src[j]):
        j += 1
    is_float = False
    if j < n and src[j] == ".":
        is_float = True
        j += 1
        while j < n and is_digit(src[j]):
            j += 1
    if j < n and src[j] in "eE":
        k = j + 1
        if k < n and src[k] in "+-":
            k += 1
        if k < n and is_digit(src[k]):
            is_float = True
            j = k
            while j < n and is_digit(src[j]):
                j += 1
    # '12abc' or '1.2.3' is one mistyped word, not a number followed by a name.
    if j < n and (is_name_char(src[j]) or src[j] == "."):
        k = j
        while k < n and (is_name_char(src[k]) or src[k] == "."):
            k += 1
        raise ExprError(f"invalid number {src[i:k]!r}", i + 1)
    text = src[i:j]
    if is_float:
        value: int | float = float(text)
        if math.isinf(value):
            raise ExprError(f"number {text} is too large for a DOUBLE", i + 1)
        return Token("float", text, i, j, value)
    if len(text) > MAX_DIGITS:
        raise ExprError(f"integer of {len(text)} digits does not fit in a LONG (64 bits)", i + 1)
    return Token("int", text, i, j, parse_whole_number(text))


def _string(src: str, i: int) -> Token:
    quote = src[i]
    out: list[str] = []
    j = i + 1
    n = len(src)
    while j < n:
        c = src[j]
        if c == quote:
            return Token("string", src[i : j + 1], i, j + 1, "".join(out))
        if c == "\\":
            if j + 1 >= n:
                break
            e = src[j + 1]
            if e == "u":
                digits = src[j + 2 : j + 6]
                if len(digits) != 4 or any(d not in "0123456789abcdefABCDEF" for d in digits):
                    raise ExprError("'\\u' must be followed by 4 hex digits", j + 1)
                code = int(digits, 16)
                if 0xD800 <= code <= 0xDFFF:
                    raise ExprError(f"'\\u{digits}' is a lone surrogate, not a character", j + 1)
                out.append(chr(code))
                j += 6
                continue
            if e not in _ESCAPES:
                raise ExprError(
                    f"unknown escape '\\{e}' in string (use \\\\, \\', \\\", \\n, \\t, \\r, \\0 "
                    "or \\uXXXX)",
                    j + 1,
                )
            out.append(_ESCAPES[e])
            j += 2
            continue
        out.append(c)
        j += 1
    raise ExprError(f"unterminated string (missing closing {quote})", i + 1)
