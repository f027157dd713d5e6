"""Calendar fields of TIMESTAMP columns (epoch millis) in a time zone, vectorised.

The zone's UTC offset is looked up once per distinct day of the batch (a tick's batch usually
spans one or two days): where the offset differs between the start and end of a day, the exact
transition second is found by bisection. Rows then map to offsets (usually one scalar), and the
civil date comes from integer arithmetic (H. Hinnant's days -> civil algorithm). Assumes at most
one offset change per day, which holds for every zone in tzdata since 1970.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from connector.model.expr.types import Value

_DAY = 86_400
_MS_PER_DAY = 86_400_000
# datetime.fromtimestamp works for years 1..9999; look offsets up inside that range.
_MIN_SEC = -62_135_596_800 + 2 * _DAY
_MAX_SEC = 253_402_300_799 - 2 * _DAY
# Beyond this many days in one batch, sample only the days rows fall on.
_DENSE_DAYS = 4_000
# Up to this many offset changes inside a batch, masks beat searchsorted.
_FEW_CHANGES = 4

_I64 = npt.NDArray[np.int64]


def _offset(tz: ZoneInfo, sec: int) -> int:
    delta = datetime.fromtimestamp(min(max(sec, _MIN_SEC), _MAX_SEC), tz).utcoffset()
    return 0 if delta is None else int(delta.total_seconds())


def _transition(tz: ZoneInfo, lo: int, hi: int, before: int) -> int:
    """First second in (lo, hi] whose offset differs from `before` (one exists)."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(tz, mid) == before:
            lo = mid
        else:
            hi = mid
    return hi


def utc_offset_millis(ms: _I64, tz: ZoneInfo) -> Value:
    """UTC offset in milliseconds of each epoch-millis value (a scalar when the batch has one)."""
    if ms.size == 0:
        return np.int64(0)
    lo = int(ms.min()) // 1000
    hi = int(ms.max()) // 1000
    days: list[int]
    if hi // _DAY - lo // _DAY < _DENSE_DAYS:
        days = list(range(lo // _DAY, hi // _DAY + 1))
    else:
        days = np.unique(np.floor_divide(ms, _MS_PER_DAY)).tolist()
    starts: list[int] = []
    offsets: list[int] = []
    for d in days:
        begin, end = d * _DAY, d * _DAY + _DAY - 1
        before, after = _offset(tz, begin), _offset(tz, end)
        if not offsets or offsets[-1] != before:
            starts.append(begin)
            offsets.append(before)
        if after != before:
            starts.append(_transition(tz, begin, end, before))
            offsets.append(after)
    # Only changes inside [lo, hi] matter: usually none, and the offset is one scalar.
    first = bisect.bisect_right(starts, lo) - 1
    last = bisect.bisect_right(starts, hi)
    starts, offsets = starts[first + 1 : last], offsets[first:last]
    if not starts:
        return np.int64(offsets[0] * 1000)
    if len(starts) <= _FEW_CHANGES:
        out = np.full(ms.shape, offsets[0] * 1000, dtype=np.int64)
        for start, offset in zip(starts, offsets[1:], strict=True):
            out[ms >= start * 1000] = offset * 1000
        return out
    idx = np.searchsorted(np.asarray(starts, dtype=np.int64), np.floor_divide(ms, 1000), "right")
    return np.asarray(offsets, dtype=np.int64)[idx] * 1000


def local_millis(ms: Value, tz: ZoneInfo) -> Value:
    """Epoch millis shifted by the zone's offset: 'wall clock as if it were UTC'."""
    arr: npt.NDArray[Any] = np.asarray(ms, dtype=np.int64)
    flat = arr.reshape(-1)
    return (flat + utc_offset_millis(flat, tz)).reshape(arr.shape)


def in_zone_of(fn: Callable[[Value, ZoneInfo], Value], ctx: Any, ms: Value) -> Value:
    """Apply a calendar field function in the evaluation context's zone."""
    return fn(ms, ctx.tz)


def civil(days: Value) -> tuple[Value, Value, Value, Value]:
    """(year, month, day, March-based day of year) of days since 1970-01-01."""
    z = days + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day, doy


def _days(ms: Value, tz: ZoneInfo) -> Value:
    return np.floor_divide(local_millis(ms, tz), _MS_PER_DAY)


def hour(ms: Value, tz: ZoneInfo) -> Value:
    return np.mod(local_millis(ms, tz), _MS_PER_DAY) // 3_600_000


def minute(ms: Value, tz: ZoneInfo) -> Value:
    return np.mod(local_millis(ms, tz), 3_600_000) // 60_000


def second(ms: Value, tz: ZoneInfo) -> Value:
    return np.mod(local_millis(ms, tz), 60_000) // 1000


def weekday(ms: Value, tz: ZoneInfo) -> Value:
    """0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday)."""
    return np.mod(_days(ms, tz) + 3, 7)


def day(ms: Value, tz: ZoneInfo) -> Value:
    return civil(_days(ms, tz))[2]


def month(ms: Value, tz: ZoneInfo) -> Value:
    return civil(_days(ms, tz))[1]


def year(ms: Value, tz: ZoneInfo) -> Value:
    return civil(_days(ms, tz))[0]


def day_of_year(ms: Value, tz: ZoneInfo) -> Value:
    """1 = January 1st."""
    year_, _, _, doy = civil(_days(ms, tz))
    return january_day_of_year(year_, doy)


def january_day_of_year(year_: Value, march_doy: Value) -> Value:
    """1-based day of the year from civil()'s year and March-based day of year."""
    leap = ((year_ % 4 == 0) & (year_ % 100 != 0)) | (year_ % 400 == 0)
    # The March-based day of year puts Jan/Feb at 306..364.
    return np.where(march_doy >= 306, march_doy - 305, march_doy + 60 + leap)
