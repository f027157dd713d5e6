"""The one parser of whole numbers written as text (config values, model values, expressions).

Only ASCII digits count: `str.isdigit()` and `int()` also accept other scripts' digits and
superscripts ('²'), underscores and surrounding spaces, and `int()` refuses more than 4,300
digits with an error of its own. Every place that turns text into a whole number goes through
here, so they all accept the same spellings and fail with the same message.
"""

from __future__ import annotations

# No whole number the product uses needs more digits (2**64 has 20); longer text is a mistake
# and must not reach int(), whose cost grows with the length.
MAX_DIGITS = 40
DIGITS = frozenset("0123456789")


def is_digit(char: str) -> bool:
    """Whether `char` is one of the ASCII digits 0-9 (and nothing else isdigit() accepts)."""
    return char in DIGITS


def is_whole_number(text: str) -> bool:
    """Whether `text` is an optional sign and 1 to MAX_DIGITS ASCII digits (spaces around ok)."""
    body = text.strip()
    body = body[1:] if body[:1] in ("-", "+") else body
    return 0 < len(body) <= MAX_DIGITS and all(c in DIGITS for c in body)


def parse_whole_number(text: str) -> int:
    """The integer `text` spells; ValueError saying what is wrong otherwise."""
    body = text.strip()
    unsigned = body[1:] if body[:1] in ("-", "+") else body
    if unsigned and all(c in DIGITS for c in unsigned):
        if len(unsigned) > MAX_DIGITS:
            raise ValueError(f"a whole number of {len(unsigned)} digits is too long "
                             f"(at most {MAX_DIGITS})")
        return int(body)
    raise ValueError(f"expected a whole number (digits 0-9), got {shorten(text)!r}")


def shorten(text: str, limit: int = 40) -> str:
    """`text` cut to `limit` characters for an error message."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
