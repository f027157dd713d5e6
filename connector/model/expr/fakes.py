"""fake(kind, locale): realistic values composed from Faker pools and the site's random stream.

A kind is drawn as whole columns: indices into seeded pools (pools.py), digits and bits from the
stream, joined with vectorised string operations. Kinds are composed so that their value space
is large where reality's is (1e6 users should not share a few thousand e-mail addresses): an
e-mail is a first and a last name, a style, often a number and a domain; a phone number keeps
the shape of a Faker number but gets fresh digits; card numbers and IBANs get fresh digits and
valid check digits. Every kind draws a fixed number of `size`-long batches from its stream
whatever the values, so a row's value depends only on its own place in its shard's stream.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import attrs
import numpy as np

from connector.model.expr import chars, identifiers
from connector.model.expr.pools import POOL_SIZE, pool, sentence_style

_Draw = Callable[[np.random.Generator, int, str], np.ndarray]
# Locales that write the family name first.
_FAMILY_FIRST = frozenset({"ja_JP", "zh_CN", "zh_TW", "ko_KR", "hu_HU", "vi_VN"})
# User name styles: (first part, separator, second part); 'f' = the first initial. Every name
# ends in a number 1-9999: without it, 1e6 users would share addresses by the thousand.
_STYLES = (("first", ".", "last"), ("first", "", "last"), ("f", "", "last"),
           ("first", "_", "last"), ("last", ".", "first"))
_SEPARATORS = np.array([s for _, s, _ in _STYLES], dtype=object)
_MIN_WORDS, _MAX_WORDS = 3, 9  # words per sentence


def pick(gen: np.random.Generator, size: int, name: str, locale: str) -> np.ndarray:
    return pool(name, locale)[gen.integers(0, POOL_SIZE, size=size)]


def _picker(name: str) -> _Draw:
    def draw(gen: np.random.Generator, size: int, locale: str) -> np.ndarray:
        return pick(gen, size, name, locale)

    return draw


def _name(gen: np.random.Generator, size: int, locale: str) -> np.ndarray:
    first = pick(gen, size, "first_name", locale)
    last = pick(gen, size, "last_name", locale)
    out = last + " " + first if locale in _FAMILY_FIRST else first + " " + last
    return np.asarray(out, dtype=object)


@functools.cache
def _initials(locale: str) -> np.ndarray:
    out = np.empty(POOL_SIZE, dtype=object)
    out[:] = [s[:1] for s in pool("first_ascii", locale).tolist()]
    return out


def _local_part(gen: np.random.Generator, size: int, locale: str) -> np.ndarray:
    index = gen.integers(0, POOL_SIZE, size=size)
    first, initial = pool("first_ascii", locale)[index], _initials(locale)[index]
    last = pick(gen, size, "last_ascii", locale)
    style = gen.integers(0, len(_STYLES), size=size)
    parts = {"first": first, "f": initial, "last": last}
    head = np.choose(style, [parts[h] for h, _, _ in _STYLES])
    tail = np.choose(style, [parts[t] for _, _, t in _STYLES])
    number = identifiers.decimal_text(gen.integers(1, 10_000, size=size), 10_000)
    return np.asarray(head + _SEPARATORS[style] + tail + number, dtype=object)


def _email(gen: np.random.Generator, size: int, locale: str) -> np.ndarray:
    local = _local_part(gen, size, locale)
    free = pick(gen, size, "free_email_domain", locale)
    own = pick(gen, size, "domain", locale)
    domain = np.where(gen.random(size) < 0.8, free, own)
    return np.asarray(local + "@" + domain, dtype=object)


@functools.cache
def _template(name: str, locale: str, rule: tuple[int, int | None, int]) -> chars.Template:
    skip_first, last, keep_last = rule
    return chars.Template.build(pool(name, locale), skip_first, last, keep_last)


def _redigit(name: str, skip_first: int = 0, last: int | None = None) -> _Draw:
    """A pool value with the chosen digits redrawn: Faker gives the shape, the stream the
    digits."""

    def draw(gen: np.random.Generator, size: int, locale: str) -> np.ndarray:
        t = _template(name, locale, (skip_first, last, 0))
        codes, _ = t.fill(gen, gen.integers(0, POOL_SIZE, size=size))
        return chars.text(codes)

    return draw


def _card(gen: np.random.Generator, size: int, locale: str) -> np.ndarray:
    t = _template("credit_card", locale, (6, None, 1))
    codes, lengths = t.fill(gen, gen.integers(0, POOL_SIZE, size=size))
    chars.set_luhn(codes, lengths)
    return chars.text(codes)


def _iban(gen: np.random.Generator, size: int, locale: str) -> np.ndarray:
    t = _template("iban", locale, (4, None, 0))
    codes, lengths = t.fill(gen, gen.integers(0, POOL_SIZE, size=size))
    chars.set_iban_check(codes, lengths)
    return chars.text(codes)


def _url(gen: np.random.Generator, size: int, locale: str) -> np.ndarray:
    scheme = np.where(gen.random(size) < 0.9, "https://", "http://")
    www = np.where(gen.random(size) < 0.5, "www.", "")
    domain = pick(gen, size, "domain", locale)
    depth = gen.integers(0, 3, size=size)
    out = scheme + www + domain + "/"
    for level in range(2):  # path segments: ASCII lorem words (en_US), whatever the locale
        word = pick(gen, size, "word", "en_US")
        out = out + np.where(depth > level, word + np.where(depth > level + 1, "/", ""), "")
    return np.asarray(out, dtype=object)


def _sentence(gen: np.random.Generator, size: int, locale: str) -> np.ndarray:
    connector, end = sentence_style(locale)
    count = gen.integers(_MIN_WORDS, _MAX_WORDS + 1, size=size)
    words = [pick(gen, size, "word", locale) for _ in range(_MAX_WORDS)]
    first = np.strings.capitalize(words[0].astype(np.dtypes.StringDType())).astype(object)
    out = first
    for k in range(1, _MAX_WORDS):
        out = out + np.where(count > k, connector + words[k], "")
    return np.asarray(out + end, dtype=object)


def _no_locale(fn: Callable[[np.random.Generator, int], np.ndarray]) -> _Draw:
    def draw(gen: np.random.Generator, size: int, locale: str) -> np.ndarray:
        return fn(gen, size)

    return draw


@attrs.frozen
class Kind:
    name: str
    draw: _Draw
    pools: tuple[str, ...]  # the pools.py pools its values come from
    space: str  # its value space, for the reference


_P = f"{POOL_SIZE} values drawn by Faker with its frequencies"
KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("first_name", _picker("first_name"), ("first_name",), f"a pool of {_P}"),
    Kind("last_name", _picker("last_name"), ("last_name",), f"a pool of {_P}"),
    Kind("name", _name, ("first_name", "last_name"),
         "first name x last name (family name first in ja_JP, zh_CN, zh_TW, ko_KR, hu_HU, vi_VN)"),
    Kind("username", _local_part, ("first_ascii", "last_ascii"),
         "ASCII first x last name in 5 styles (john.smith, johnsmith, jsmith, john_smith, "
         "smith.john) x a number 1-9999"),
    Kind("email", _email, ("first_ascii", "last_ascii", "free_email_domain", "domain"),
         "a username @ a free mail domain of the locale (80 %) or a company domain"),
    Kind("phone", _redigit("phone", last=7), ("phone",),
         "a Faker number's format with its last 7 digits drawn afresh"),
    Kind("street_address", _redigit("street_address"), ("street_address",),
         "a Faker address with every digit (house and suite numbers) drawn afresh"),
    Kind("city", _picker("city"), ("city",), f"a pool of {_P}"),
    Kind("country", _picker("country"), ("country",), "the locale's country names"),
    Kind("zip", _redigit("postcode"), ("postcode",),
         "the locale's postcode format with every digit drawn afresh"),
    Kind("company", _picker("company"), ("company",), f"a pool of {_P}"),
    Kind("job", _picker("job"), ("job",), "the locale's job titles"),
    Kind("user_agent", _picker("user_agent"), ("user_agent",), f"a pool of {_P}"),
    Kind("url", _url, ("domain", "word"),
         "http(s)://[www.]domain/ + 0-2 path words; domains from a pool of " + _P),
    Kind("iban", _iban, ("iban",),
         "the locale's IBAN format (its country and bank letters) with fresh digits and valid "
         "ISO 13616 check digits"),
    Kind("credit_card_number", _card, ("credit_card",),
         "a Faker card's issuer prefix (first 6 digits) and length, fresh digits, a valid Luhn "
         "check digit"),
    Kind("sentence", _sentence, ("word",), "3-9 words of the locale's lorem list, capitalised"),
    Kind("word", _picker("word"), ("word",), "the locale's lorem words"),
    Kind("ipv4", _no_locale(identifiers.ipv4), (),
         "first octet 1-223 except 127, 24 more random bits"),
    Kind("ipv6", _no_locale(identifiers.ipv6), (), "2000::/3 with 125 random bits"),
)}
KINDS["postcode"] = attrs.evolve(KINDS["zip"], name="postcode")


@attrs.frozen
class FakeDraw:
    """The implementation of one fake(kind, locale) call: `fn(generator, size)`. Picklable."""

    kind: str
    locale: str

    def __call__(self, gen: np.random.Generator, size: int) -> np.ndarray:
        return KINDS[self.kind].draw(gen, size, self.locale)

    def pools(self) -> list[tuple[str, str]]:
        """The (pool, locale) pairs its values come from (the url's words are en_US)."""
        return [(p, "en_US" if (self.kind, p) == ("url", "word") else self.locale)
                for p in KINDS[self.kind].pools]
