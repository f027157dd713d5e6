"""The one whole-number parser: ASCII digits only, bounded length (inputs from fuzzing)."""

from __future__ import annotations

import pytest

from connector.model.numbers import is_whole_number, parse_whole_number


@pytest.mark.parametrize(("text", "value"), [("0", 0), (" 42 ", 42), ("-7", -7), ("+3", 3),
                                             ("9" * 40, int("9" * 40))])
def test_ascii_whole_numbers_parse(text: str, value: int) -> None:
    """Optional sign, ASCII digits, surrounding spaces: the number."""
    assert is_whole_number(text) and parse_whole_number(text) == value


@pytest.mark.parametrize(("text", "message"), [
    ("²", "expected a whole number (digits 0-9), got '²'"),
    ("١٢", "expected a whole number (digits 0-9), got '١٢'"),
    ("1_000", "expected a whole number (digits 0-9), got '1_000'"),
    ("1e9", "expected a whole number (digits 0-9), got '1e9'"),
    ("", "expected a whole number (digits 0-9), got ''"),
    ("1" * 5000, "a whole number of 5000 digits is too long (at most 40)"),
])
def test_everything_else_is_refused_with_a_message(text: str, message: str) -> None:
    """Digits of other scripts, superscripts, underscores, exponents and 5,000 digits: refused."""
    assert not is_whole_number(text)
    with pytest.raises(ValueError) as info:
        parse_whole_number(text)
    assert str(info.value) == message
