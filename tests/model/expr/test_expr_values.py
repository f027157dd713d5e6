"""Value functions: fake(), uuid(), regex(), hash(), format(), format_time(), sequence().

Statistical checks use chi-square at the suite's false-alarm rate (tests/engine/stats.py,
ALPHA = 1e-6); everything is seeded, so the tests are deterministic.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from connector.model.expr import (
    EvalContext,
    ExprError,
    ExprType,
    SiteCounter,
    TypeEnv,
    check,
    compile_expr,
    parse,
)
from connector.model.expr.fakes import KINDS
from connector.model.expr.pools import locales
from connector.model.expr.regexgen import MAX_WORK
from tests.engine.stats import chi_square, chi_square_critical

ENV = TypeEnv({"n": ExprType.LONG, "x": ExprType.DOUBLE, "t": ExprType.TIMESTAMP,
               "s": ExprType.STRING, "b": ExprType.BOOLEAN})
ZONE = ZoneInfo("Europe/Warsaw")


def run(text: str, size: int = 2000, seed: int = 7, columns: Mapping[str, Any] | None = None,
        tz: ZoneInfo = ZONE) -> np.ndarray:
    checked = check(parse(text), ENV, SiteCounter())
    ctx = EvalContext(size, columns or {}, tz=tz,
                      rng=lambda site: np.random.Generator(np.random.SFC64([seed, site])))
    return compile_expr(checked).evaluate(ctx)


def _error(text: str) -> ExprError:
    with pytest.raises(ExprError) as info:
        check(parse(text), ENV)
    return info.value


RANDOM_VALUES = [f"fake('{k}')" for k in KINDS] + [
    "fake('name', 'ja_JP')", "fake('email', 'ru_RU')", "fake('iban', 'de_DE')", "uuid()",
    r"regex('[A-Z]{3}-\\d{4}(-[a-z]+)?')"]


@pytest.mark.parametrize("text", RANDOM_VALUES)
def test_values_are_a_function_of_the_stream(text: str) -> None:
    """Same seed and site: the same strings; another seed: other strings."""
    a, b, other = run(text, 500), run(text, 500), run(text, 500, seed=8)
    assert a.dtype == object and all(isinstance(v, str) and v for v in a.tolist())
    assert a.tolist() == b.tolist()
    assert a.tolist() != other.tolist()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_in_several_locales(kind: str) -> None:
    """Every kind works in locales with other scripts and formats (names, phones, IBANs)."""
    for locale in ("de_DE", "ja_JP", "ru_RU", "pt_BR"):
        values = run(f"fake('{kind}', '{locale}')", 300)
        assert all(isinstance(v, str) and v for v in values.tolist())


def test_emails_are_nearly_unique_like_real_ones() -> None:
    """200 000 e-mail addresses repeat fewer than 1 in 10 000 times (not a pool of thousands)."""
    emails = run("fake('email')", 200_000).tolist()
    assert len(emails) - len(set(emails)) < 20
    assert all(re.fullmatch(r"[a-z0-9._]+@[a-z0-9.-]+\.[a-z]+", e) for e in emails[:5000])


def test_card_numbers_pass_luhn() -> None:
    """Every credit card number has a valid Luhn check digit."""
    for number in run("fake('credit_card_number')", 5000).tolist():
        digits = [int(c) for c in reversed(number)]
        total = sum(d if i % 2 == 0 else (2 * d - 9 if d > 4 else 2 * d)
                    for i, d in enumerate(digits))
        assert number.isdigit() and total % 10 == 0, number


@pytest.mark.parametrize("locale", ["en_US", "de_DE", "fr_FR", "ru_RU", "nl_NL"])
def test_ibans_pass_mod_97(locale: str) -> None:
    """Every IBAN passes the ISO 13616 check: BBAN + country + check digits, mod 97, is 1."""
    for iban in run(f"fake('iban', '{locale}')", 3000).tolist():
        moved = iban[4:] + iban[:4]
        assert int("".join(str(int(c, 36)) for c in moved)) % 97 == 1, iban


def test_ip_addresses_parse_and_avoid_reserved_ranges() -> None:
    """IPv4 has a first octet 1-223 but not 127; IPv6 is global unicast (2000::/3)."""
    for text in run("fake('ipv4')", 5000).tolist():
        first = int(ipaddress.IPv4Address(text).packed[0])
        assert 1 <= first <= 223 and first != 127
    for text in run("fake('ipv6')", 5000).tolist():
        assert ipaddress.IPv6Address(text) in ipaddress.IPv6Network("2000::/3")


def test_uuids_have_version_4_and_uniform_bits() -> None:
    """uuid() is canonical version 4, variant 10xx; its random hex digits are uniform."""
    values = run("uuid()", 50_000).tolist()
    assert len(set(values)) == len(values)
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                            v) for v in values)
    counts = np.zeros((36, 16), dtype=np.int64)
    codes = np.array([[int(c, 16) if c != "-" else 0 for c in v] for v in values])
    for pos in range(36):
        counts[pos] = np.bincount(codes[:, pos], minlength=16)
    for pos in (0, 7, 9, 15, 20, 35):  # random positions: 16 values, 15 degrees of freedom
        assert chi_square(counts[pos].tolist(), [len(values) / 16] * 16) < chi_square_critical(15)
    variants = counts[19, 8:12].tolist()  # the variant digit: 8, 9, a, b equally often
    assert sum(variants) == len(values)
    assert chi_square(variants, [len(values) / 4] * 4) < chi_square_critical(3)


REGEXES = [r"[A-Z]{3}-\d{4}", r"(foo|ba[rz])+\.txt", r"\w{2,5}@(?:x|yz)\.com", r"[^a-z]{3}",
           r"a?b*c+d{2}e{1,}f{0,2}", r"^\(\d{3}\) \d{3}-\d{4}$", r"[\d_-]{4}\s\.[a-c-]"]


@pytest.mark.parametrize("pattern", REGEXES)
def test_regex_values_match_their_pattern(pattern: str) -> None:
    """Every generated string is matched by the same pattern in Python's re."""
    literal = pattern.replace("\\", "\\\\")
    for value in run(f"regex('{literal}')", 3000).tolist():
        assert re.fullmatch(pattern, value, re.ASCII), (pattern, value)


def test_regex_choices_are_uniform() -> None:
    """Alternation branches, class members and repetition counts are each equally likely."""
    n = 60_000
    values = run(r"regex('(ab|cd|ef)[xyz]q{2,5}')", n).tolist()
    for observed in ([sum(v.startswith(p) for v in values) for p in ("ab", "cd", "ef")],
                     [sum(v[2] == c for v in values) for c in "xyz"],
                     [sum(len(v) == 3 + k for v in values) for k in range(2, 6)]):
        expected = [n / len(observed)] * len(observed)
        assert chi_square(observed, expected) < chi_square_critical(len(observed) - 1)


def test_hash_is_blake2b_of_the_string_form() -> None:
    """hash(x) is 16 hex digits of BLAKE2b-64 over string(x), for every type."""
    n = np.array([0, -5, 2**62], dtype=np.int64)
    s = np.array(["", "é", "abc"], dtype=object)
    cols = {"n": n, "s": s, "x": np.array([0.5, 1e300, -2.0]), "b": np.array([True, False, True]),
            "t": np.array([0, 1_700_000_000_123, 5], dtype=np.int64)}
    def h(text: str) -> str:
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
    assert run("hash(n)", 3, columns=cols).tolist() == [h(str(v)) for v in n.tolist()]
    assert run("hash(s)", 3, columns=cols).tolist() == [h(v) for v in s.tolist()]
    assert run("hash(x)", 3, columns=cols).tolist() == [h("0.5"), h("1e+300"), h("-2.0")]
    assert run("hash(b)", 3, columns=cols).tolist() == [h("true"), h("false"), h("true")]
    assert run("hash(t)", 3, columns=cols)[1] == h("2023-11-14T22:13:20.123Z")
    assert run("hash('x')", 2).tolist() == [h("x")] * 2


def test_format_follows_python_format_specs() -> None:
    """format() fills {} with string(x) and {:spec} like Python's format(), per row."""
    cols = {"n": np.array([7, -42, 123456], dtype=np.int64), "x": np.array([1.005, -2.5, 1e6]),
            "s": np.array(["a", "bb", "ccc"], dtype=object), "b": np.array([True, False, True]),
            "t": np.array([0, 86_400_000, 1], dtype=np.int64)}
    got = run("format('ORD-{:06d}|{:.2f}|{:>4}|{}|{}|{:,}|{{x}}|{:x}', n, x, s, b, t, n, n)", 3,
              columns=cols).tolist()
    assert got[0] == "ORD-000007|1.00|   a|true|1970-01-01T00:00:00.000Z|7|{x}|7"
    assert got[1] == "ORD--00042|-2.50|  bb|false|1970-01-02T00:00:00.000Z|-42|{x}|-2a"
    assert got[2] == "ORD-123456|1000000.00| ccc|true|1970-01-01T00:00:00.001Z|123,456|{x}|1e240"
    assert run("format('{1}-{0}-{1}', n, s)", 3, columns=cols).tolist() == \
        ["a-7-a", "bb--42-bb", "ccc-123456-ccc"]
    assert run("format('no holes')", 2).tolist() == ["no holes", "no holes"]


@pytest.mark.parametrize("zone", ["Europe/Warsaw", "America/New_York", "Asia/Kolkata", "UTC"])
def test_format_time_agrees_with_strftime(zone: str) -> None:
    """format_time() gives strftime's text in the model's zone, across DST changes."""
    tz = ZoneInfo(zone)
    rng = np.random.default_rng(3)
    ms = np.concatenate([rng.integers(-10**12, 4 * 10**12, 2000),
                         1_711_846_800_000 + rng.integers(-4 * 3_600_000, 4 * 3_600_000, 500)])
    pattern = "%Y-%m-%d %H:%M:%S.%f %z %Z %a %A %b %B %j %I %p %u %w %y %e %% %F %T %L"
    got = run(f"format_time(t, '{pattern}')", ms.shape[0], columns={"t": ms}, tz=tz).tolist()
    for value, millis in zip(got, ms.tolist(), strict=True):
        when = datetime.fromtimestamp(millis / 1000, UTC).astimezone(tz)
        when = when.replace(microsecond=(millis % 1000) * 1000)
        want = when.strftime(pattern.replace("%L", f"{millis % 1000:03d}"))
        assert value == want, (millis, value, want)


BAD = [
    ("fake('emial')", "unknown fake kind 'emial' (did you mean 'email'?)", 6),
    ("fake('email', 'xx_YY')", "unknown locale 'xx_YY'", 15),
    ("fake(s)", "needs the kind as a string literal", 6),
    ("fake('name', s)", "needs the locale as a string literal", 14),
    ("fake()", "takes 1 or 2 arguments", 1),
    ("uuid(1)", "takes 0 arguments", 1),
    ("regex('(ab')", "missing ')'", 7),
    ("regex('a{3,1}')", "maximum below its minimum", 7),
    ("regex('\\\\1')", "escape \\1 is not supported", 7),
    ("regex('(?=a)')", "only plain (...) and (?:...) groups", 7),
    ("regex('a**')", "a quantifier cannot follow another", 7),
    ("regex('[z-a]')", "range z-a is reversed", 7),
    ("regex(s)", "needs the pattern as a string literal", 7),
    ("sequence(s)", "needs the sequence name as a string literal", 10),
    ("format('{} {}', n)", "refers to argument 1 (counted from 0) but 1 value follows", 8),
    ("format('{}', n, s)", "this value is not used", 17),
    ("format('{:d}', x)", "spec 'd' does not apply to DOUBLE", 16),
    ("format('{:q}', n)", "'q' is not a format spec", 16),
    ("format('{name}', n)", "must be {} or {N}", 8),
    ("format('{} {0}', n)", "mixes {} and {N}", 8),
    ("format('{', n)", "'{' without a closing '}'", 8),
    ("format(n)", "needs the template as a string literal", 8),
    ("format_time(n, '%Y')", "needs a TIMESTAMP first, but 'n' is LONG (use timestamp(x)", 13),
    ("format_time(t, '%Q')", "unknown directive %Q; supported: %Y", 16),
    ("format_time(t, s)", "needs the pattern as a string literal", 16),
    ("hash(null)", "null", 6),
]


@pytest.mark.parametrize(("text", "message", "column"), BAD)
def test_bad_arguments_are_precise_errors(text: str, message: str, column: int) -> None:
    """Each mistake names what is wrong and points at the argument's column."""
    err = _error(text)
    assert message in err.message, err.message
    assert err.column == column, err.message


def test_hostile_arguments_are_refused_quickly() -> None:
    """Huge repetitions, deep nesting, huge templates: clear errors, no recursion blow-up."""
    assert "is over 1000" in _error("regex('a{1000000000000}')").message
    assert "over 1000" in _error("regex('a{99999999999999999999,}')").message
    assert "work per value" in _error("regex('((a{1000}){1000}){1000}')").message
    assert "work per value" in _error("regex('(((((a|b|c){9}){9}){9}){9}){9}')").message
    assert "nested deeper than 50" in _error("regex('" + "(" * 2000 + "a" + ")" * 2000 + "')"
                                             ).message
    assert "over 100 placeholders" in _error("format('" + "{0}" * 3000 + "', n)").message
    assert "limited to 100" in _error("format('{:99999999999d}', n)").message
    assert "limited to 100" in _error("format('{:.1000f}', x)").message
    assert "unknown locale" in _error("fake('name', '" + "x" * 5000 + "')").message
    assert "surrogate" in _error("regex('[\\ud7ff-\\ue000]')").message
    assert "surrogate" in _error("regex('a\\ud800')").message
    assert len(_error("fake('" + "y" * 5000 + "')").message) < 1000  # quotes a prefix only


def test_worst_allowed_regex_is_bounded() -> None:
    """The largest pattern the bounds allow makes values of at most MAX_WORK characters."""
    values = run("regex('[a-z]{999}x{0,1000}')", 50)
    assert max(len(v) for v in values.tolist()) <= MAX_WORK
    assert _error("regex('[a-z]{1000}x{0,1000}')").message.startswith("regex(): the")


def test_locales_are_fakers() -> None:
    """The accepted locales are Faker's (e.g. en_US, de_DE, ja_JP, pt_BR)."""
    assert {"en_US", "de_DE", "ja_JP", "pt_BR", "fr_FR"} <= set(locales())


def test_sequence_needs_the_engine() -> None:
    """sequence() takes numbers from the context's counters, one per row, in row order."""
    taken: list[tuple[str, int]] = []

    def counter(name: str, size: int) -> np.ndarray:
        taken.append((name, size))
        return np.arange(size, dtype=np.int64) * 10

    checked = check(parse("sequence('order') + sequence('order') + 1"), ENV)
    ctx = EvalContext(4, {}, sequence=counter)
    assert compile_expr(checked).evaluate(ctx).tolist() == [1, 21, 41, 61]
    assert taken == [("order", 4), ("order", 4)]
