"""format_time(t, pattern): TIMESTAMP columns as text with strftime-like directives, vectorised.

The pattern is parsed at validation time; evaluation computes the local calendar fields of the
whole column in the model's time zone (timefns.py, DST-correct) and joins table look-ups of
their text, never calling strftime per row. Names are English (the C locale's).

Directives: %Y year (at least 4 digits), %y (2 digits), %m, %d, %H, %I (12-hour), %M, %S,
%f (microseconds, 6 digits; milliseconds * 1000), %L (milliseconds, 3 digits, as in Ruby/Java),
%j (day of year, 3 digits), %p (AM/PM), %a %A (weekday), %b %B (month), %u (ISO weekday 1-7),
%w (0 = Sunday), %z (+HHMM), %Z (the zone's abbreviation, e.g. CET/CEST), %e (day, space
padded), %F (= %Y-%m-%d), %T (= %H:%M:%S), %% (a percent sign).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import numpy as np

from connector.model.expr import timefns
from connector.model.expr.callspec import LiteralTextError
from connector.model.expr.types import Value

_MS_DAY = 86_400_000
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_EXPAND = {"F": "%Y-%m-%d", "T": "%H:%M:%S"}
DIRECTIVES = "YymdHIMSfLjpaAbBuwzZeFT%"



@functools.cache
def _padded(width: int, count: int, fill: str = "0") -> np.ndarray:
    out = np.empty(count, dtype=object)
    out[:] = [str(i).rjust(width, fill) for i in range(count)]
    return out


def _table(names: tuple[str, ...]) -> np.ndarray:
    return np.array(names, dtype=object)


def parse_pattern(pattern: str) -> tuple[str | tuple[str], ...]:
    """Literal text and directives (1-tuples) in order; LiteralTextError on an unknown one."""
    out: list[str | tuple[str]] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        d = pattern[i + 1] if i + 1 < len(pattern) else ""
        if not d or d not in DIRECTIVES:
            shown = f"%{d}" if d else "a lone '%' at the end"
            raise LiteralTextError(f"unknown directive {shown}; supported: "
                               + " ".join("%" + x for x in DIRECTIVES), i)
        if d == "%":
            out.append("%")
        elif d in _EXPAND:
            out.extend(parse_pattern(_EXPAND[d]))
        else:
            out.append((d,))
        i += 2
    merged: list[str | tuple[str]] = []
    for part in out:  # adjacent literal characters as one piece
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    return tuple(merged)


class _Fields:
    """Calendar fields of one column, each computed when a directive first asks for it."""

    def __init__(self, ms: np.ndarray, tz: ZoneInfo) -> None:
        self.ms, self.tz = ms, tz
        self.offset = timefns.utc_offset_millis(ms, tz)
        self.local = ms + self.offset
        self.day_ms = np.mod(self.local, _MS_DAY)
        self._civil: tuple[Any, ...] | None = None

    @property
    def civil(self) -> tuple[Any, ...]:
        if self._civil is None:
            days = np.floor_divide(self.local, _MS_DAY)
            year, month, day, march_doy = timefns.civil(days)
            doy = timefns.january_day_of_year(year, march_doy)
            self._civil = (year, month, day, doy, np.mod(days + 3, 7))
        return self._civil

    def zone_names(self) -> np.ndarray:
        """Looked up once per distinct (offset, local day): a tick's batch spans a day or two.
        (The offset alone is not enough: New York's EWT and EDT share one.)"""
        offsets = np.broadcast_to(self.offset, self.ms.shape)
        keys = np.stack([offsets, np.floor_divide(self.local, _MS_DAY)], axis=1)
        _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        table = np.array([datetime.fromtimestamp(int(self.ms[i]) // 1000, self.tz).tzname() or ""
                          for i in first.tolist()], dtype=object)
        names: np.ndarray = table[inverse.reshape(-1)]
        return names


def _directive(d: str, f: _Fields) -> Value:
    hour = f.day_ms // 3_600_000
    simple: dict[str, Callable[[], Value]] = {
        "H": lambda: _padded(2, 24)[hour],
        "I": lambda: _padded(2, 13)[(hour + 11) % 12 + 1],
        "M": lambda: _padded(2, 60)[(f.day_ms // 60_000) % 60],
        "S": lambda: _padded(2, 60)[(f.day_ms // 1000) % 60],
        "L": lambda: _padded(3, 1000)[f.day_ms % 1000],
        "f": lambda: _padded(3, 1000)[f.day_ms % 1000] + "000",
        "p": lambda: np.where(hour < 12, "AM", "PM").astype(object),
        "z": lambda: _offset_text(f.offset, f.ms.shape[0]),
        "Z": f.zone_names,
    }
    if d in simple:
        return simple[d]()
    year, month, day, doy, weekday = f.civil
    if d == "Y":
        return np.strings.zfill(np.asarray(year).astype(np.dtypes.StringDType()), 4).astype(object)
    by_date: dict[str, Callable[[], Value]] = {
        "y": lambda: _padded(2, 100)[np.mod(year, 100)],
        "m": lambda: _padded(2, 13)[month],
        "d": lambda: _padded(2, 32)[day],
        "e": lambda: _padded(2, 32, " ")[day],
        "j": lambda: _padded(3, 367)[doy],
        "a": lambda: _table(tuple(n[:3] for n in _DAYS))[weekday],
        "A": lambda: _table(_DAYS)[weekday],
        "b": lambda: _table(tuple(n[:3] for n in _MONTHS))[month - 1],
        "B": lambda: _table(_MONTHS)[month - 1],
        "u": lambda: _padded(1, 8)[weekday + 1],
        "w": lambda: _padded(1, 7)[(weekday + 1) % 7],
    }
    return by_date[d]()


def _offset_text(offset: Value, size: int) -> np.ndarray:
    minutes = np.broadcast_to(np.asarray(offset) // 60_000, (size,))
    sign = np.where(minutes < 0, "-", "+").astype(object)
    mag = np.abs(minutes)
    return np.asarray(sign + _padded(2, 100)[mag // 60 % 100] + _padded(2, 60)[mag % 60])


@attrs.frozen
class TimeFormat:
    """The implementation of one format_time(t, pattern) call: `fn(ms, tz)`. Picklable."""

    pattern: str
    parts: tuple[str | tuple[str], ...]

    def __call__(self, ms: Value, tz: ZoneInfo) -> Value:
        arr = np.asarray(ms, dtype=np.int64)
        flat = arr.reshape(-1)
        fields = _Fields(flat, tz)
        out: Value = np.full(flat.shape[0], "", dtype=object)
        for part in self.parts:
            piece = part if isinstance(part, str) else _directive(part[0], fields)
            out = np.add(out, piece)
        out = np.asarray(out, dtype=object)
        return str(out[0]) if arr.ndim == 0 else out
