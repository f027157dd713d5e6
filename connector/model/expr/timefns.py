"""Calendar fields of TIMESTAMP columns (epoch millis) in a time zone, vectorised.

The zone's UTC offset is looked up once per distinct day of the batch (a tick's batch usually
spans one or two days): where the offset differs between the start and end of a day, the exact
transition second is found by bisection. Rows then map to offsets with one searchsorted, and the
civil date comes from integer arithmetic (H. Hinnant's days -> civil algorithm). Assumes at most
one offset change per day, which holds for every zone in tzdata since 1970.
"""

from __future__ import annotations

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


def utc_offsets(secs: _I64, tz: ZoneInfo) -> Value:
    """UTC offset in seconds of each epoch second (a scalar when the batch sees only one)."""
    if secs.size == 0:
        return np.int64(0)
    first_day = int(secs.min()) // _DAY
    last_day = int(secs.max()) // _DAY
    days: list[int]
    if last_day - first_day < _DENSE_DAYS:
        days = list(range(first_day, last_day + 1))
    else:
        days = np.unique(secs // _DAY).tolist()
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
    if len(offsets) == 1:
        return np.int64(offsets[0])
    table = np.asarray(offsets, dtype=np.int64)
    idx = np.searchsorted(np.asarray(starts, dtype=np.int64), secs, side="right") - 1
    return table[np.maximum(idx, 0)]


def local_millis(ms: Value, tz: ZoneInfo) -> Value:
    """Epoch millis shifted by the zone's offset: 'wall clock as if it were UTC'."""
    arr: npt.NDArray[Any] = np.asarray(ms, dtype=np.int64)
    flat = arr.reshape(-1)
    offsets = utc_offsets(np.floor_divide(flat, 1000), tz)
    return (flat + offsets * 1000).reshape(arr.shape)


def _civil(days: Value) -> tuple[Value, Value, Value, Value]:
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
    return _civil(_days(ms, tz))[2]


def month(ms: Value, tz: ZoneInfo) -> Value:
    return _civil(_days(ms, tz))[1]


def year(ms: Value, tz: ZoneInfo) -> Value:
    return _civil(_days(ms, tz))[0]


def day_of_year(ms: Value, tz: ZoneInfo) -> Value:
    """1 = January 1st."""
    year_, _, _, doy = _civil(_days(ms, tz))
    leap = ((year_ % 4 == 0) & (year_ % 100 != 0)) | (year_ % 400 == 0)
    # The March-based day of year puts Jan/Feb at 306..364.
    return np.where(doy >= 306, doy - 305, doy + 60 + leap)
