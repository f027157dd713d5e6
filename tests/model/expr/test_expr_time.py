"""Calendar functions of TIMESTAMPs in the context's time zone, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from connector.model.expr import EvalContext, ExprType, TypeEnv, check, compile_expr, parse

ENV = TypeEnv({"time": ExprType.TIMESTAMP})
FIELDS = ("hour", "minute", "second", "weekday", "day", "month", "year", "day_of_year")


def ms(text: str) -> int:
    """Epoch millis of an ISO-8601 UTC instant."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def field(name: str, times: Any, tz: str) -> list[int]:
    size = len(times) if isinstance(times, np.ndarray) else 3
    compiled = compile_expr(check(parse(f"{name}(time)"), ENV))
    out = compiled.evaluate(EvalContext(size, {"time": times}, tz=ZoneInfo(tz)))
    assert out.dtype == np.int64
    return list(out.tolist())


def reference(name: str, times: np.ndarray, tz: str) -> list[int]:
    """Per-row Python datetime: the slow, obviously right answer."""
    out = []
    for t in times.tolist():
        d = datetime.fromtimestamp(t // 1000, ZoneInfo(tz))
        out.append(
            {
                "hour": d.hour,
                "minute": d.minute,
                "second": d.second,
                "weekday": d.weekday(),
                "day": d.day,
                "month": d.month,
                "year": d.year,
                "day_of_year": d.timetuple().tm_yday,
            }[name]
        )
    return out


def test_spring_forward_in_prague() -> None:
    """At the March DST change local hours jump 1:59 -> 3:00 exactly at 01:00 UTC."""
    change = ms("2024-03-31T01:00:00")
    times = np.array([change - 3_600_000, change - 1, change, change + 1_800_000])
    assert field("hour", times, "Europe/Prague") == [1, 1, 3, 3]
    assert field("minute", times, "Europe/Prague") == [0, 59, 0, 30]
    assert field("day", times, "Europe/Prague") == [31, 31, 31, 31]


def test_fall_back_in_prague() -> None:
    """At the October DST change the local 2 o'clock hour happens twice."""
    change = ms("2024-10-27T01:00:00")
    times = np.array([change - 3_600_000, change - 1, change, change + 3_600_000])
    assert field("hour", times, "Europe/Prague") == [2, 2, 2, 3]
    assert field("minute", times, "Europe/Prague") == [0, 59, 0, 0]


@pytest.mark.parametrize(
    ("tz", "around"),
    [
        ("Europe/Prague", "2024-03-31T01:00:00"),
        ("Europe/Prague", "2024-10-27T01:00:00"),
        ("America/New_York", "2024-03-10T07:00:00"),
        ("America/New_York", "2024-11-03T06:00:00"),
        ("Australia/Lord_Howe", "2024-04-06T15:00:00"),  # half-hour DST shift
        ("Asia/Kathmandu", "2024-01-01T00:00:00"),  # +05:45
        ("America/St_Johns", "2024-03-10T05:30:00"),  # -03:30 with DST
        ("UTC", "2024-02-29T12:00:00"),
    ],
)
@pytest.mark.parametrize("name", FIELDS)
def test_matches_datetime_around_transitions(tz: str, around: str, name: str) -> None:
    """Every calendar field equals Python's datetime in that zone, minute by minute."""
    start = ms(around) - 6 * 3_600_000
    times = start + np.arange(0, 12 * 60) * 60_000 + 999
    assert field(name, times, tz) == reference(name, times, tz)


@pytest.mark.parametrize("tz", ["Europe/Prague", "America/Sao_Paulo", "Pacific/Apia"])
@pytest.mark.parametrize("name", FIELDS)
def test_matches_datetime_over_two_centuries(tz: str, name: str) -> None:
    """Timestamps scattered over 1900-2100 (sparse lookup path) match datetime too."""
    rng = np.random.default_rng(11)
    times = rng.integers(ms("1900-01-01T00:00:00"), ms("2100-01-01T00:00:00"), 3000)
    assert field(name, times, tz) == reference(name, times, tz)


def test_calendar_edges() -> None:
    """Leap days, day of year, weekday (0 = Monday) and pre-1970 instants."""
    times = np.array(
        [
            ms("2024-02-29T12:00:00"),
            ms("2024-12-31T12:00:00"),
            ms("2023-12-31T12:00:00"),
            ms("2000-02-29T00:00:00"),
            ms("1900-03-01T00:00:00"),
            -1,
            0,
        ]
    )
    assert field("day_of_year", times, "UTC") == [60, 366, 365, 60, 60, 365, 1]
    assert field("month", times, "UTC") == [2, 12, 12, 2, 3, 12, 1]
    assert field("day", times, "UTC") == [29, 31, 31, 29, 1, 31, 1]
    assert field("year", times, "UTC") == [2024, 2024, 2023, 2000, 1900, 1969, 1970]
    assert field("weekday", times, "UTC") == [3, 1, 6, 1, 3, 2, 3]
    assert field("hour", times, "UTC") == [12, 12, 12, 0, 0, 23, 0]


def test_scalar_time_column() -> None:
    """A batch-wide scalar time (the tick's event time) fills every row."""
    assert field("hour", np.int64(ms("2024-07-01T18:30:00")), "Europe/Prague") == [20, 20, 20]
    assert field("weekday", ms("2024-07-01T18:30:00"), "Europe/Prague") == [0, 0, 0]


def test_evening_profile_expression() -> None:
    """A typical time-profile condition works across a DST change."""
    compiled = compile_expr(check(parse("hour(time) >= 18 and weekday(time) < 5"), ENV))
    times = np.array([ms("2024-03-29T16:30:00"), ms("2024-04-01T16:30:00")])  # Fri CET, Mon CEST
    out = compiled.evaluate(EvalContext(2, {"time": times}, tz=ZoneInfo("Europe/Prague")))
    assert out.tolist() == [False, True]
