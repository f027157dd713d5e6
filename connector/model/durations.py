"""Durations such as `17h`, `1m`, `500ms`, `2d` (or plain milliseconds) in model and config text."""

from __future__ import annotations

import math
import re

from connector.model.numbers import is_whole_number, parse_whole_number

_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "min": 60_000, "h": 3_600_000, "d": 86_400_000,
             "w": 604_800_000}
_PATTERN = re.compile(r"^\s*([0-9]{1,20}(?:\.[0-9]{1,20})?)\s*(ms|s|min|m|h|d|w)\s*$")


def parse_duration_ms(value: object) -> float:
    """Milliseconds of a duration; raises ValueError with the accepted forms."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 500ms, 30s, 1m, 17h, 2d")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"expected a finite duration, got {value}")
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, str):
        match = _PATTERN.match(value)
        if match:
            return float(match.group(1)) * _UNITS_MS[match.group(2)]
        if is_whole_number(value) and not value.strip().startswith(("-", "+")):
            return float(parse_whole_number(value))
    raise ValueError(f"expected a duration such as 500ms, 30s, 1m, 17h, 2d (got {value!r})")
