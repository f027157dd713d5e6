"""Durations in model and config text: `17h`, `1m`, `500ms`, `2d`, ISO-8601 (`PT17H`, `P1D`), or
plain milliseconds.

ISO-8601 durations are read by isodate; years and months are refused because their length
depends on the calendar (say `P30D` or `P365D`).
"""

from __future__ import annotations

import datetime as dt
import math
import re

import isodate

from connector.model.numbers import is_whole_number, parse_whole_number

_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "min": 60_000, "h": 3_600_000, "d": 86_400_000,
             "w": 604_800_000}
_PATTERN = re.compile(r"^\s*([0-9]{1,20}(?:\.[0-9]{1,20})?)\s*(ms|s|min|m|h|d|w)\s*$")
FORMS = "500ms, 30s, 1m, 17h, 2d, or ISO-8601 such as PT17H or P1D"


def parse_duration_ms(value: object) -> float:
    """Milliseconds of a duration; raises ValueError with the accepted forms."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as {FORMS}")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"a duration must be a finite number of milliseconds >= 0 "
                             f"(got {value!r})")
        return float(value)
    if isinstance(value, str):
        match = _PATTERN.match(value)
        if match:
            return float(match.group(1)) * _UNITS_MS[match.group(2)]
        if is_whole_number(value) and not value.strip().startswith(("-", "+")):
            return float(parse_whole_number(value))
        if value.strip().upper().startswith("P"):
            return _iso_ms(value.strip().upper())
    raise ValueError(f"expected a duration such as {FORMS} (got {value!r})")


def _iso_ms(text: str) -> float:
    try:
        parsed = isodate.parse_duration(text)
    except (isodate.ISO8601Error, ValueError, OverflowError):
        raise ValueError(f"{text!r} is not an ISO-8601 duration; expected e.g. PT17H, PT90M, "
                         "P1D or P1DT12H") from None
    if not isinstance(parsed, dt.timedelta):
        raise ValueError(f"{text!r}: years and months have no fixed length; give days instead "
                         "(e.g. P30D)")
    if parsed < dt.timedelta(0):
        raise ValueError(f"a duration cannot be negative (got {text!r})")
    return parsed / dt.timedelta(milliseconds=1)
