"""The escalation clock: wall-clock hours, or working hours on the calendar (holidays and 调休)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from plugin.process.calendar import WorkCalendar
from plugin.process.clocks import WorkClock

SHANGHAI = ZoneInfo("Asia/Shanghai")
CN = WorkCalendar(country="CN")
HOURS = (time(9), time(18))


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)  # type: ignore[misc]


def working() -> WorkClock:
    return WorkClock("working_hours", CN, HOURS, SHANGHAI)


def test_wall_clock_hours_are_plain_hours() -> None:
    clock = WorkClock("hours", CN, HOURS, SHANGHAI)
    assert clock.add(at(2025, 9, 26, 17, 0), 48) == at(2025, 9, 28, 17, 0)
    assert clock.elapsed(at(2025, 9, 26, 17, 0), at(2025, 9, 28, 17, 0)) == 48


def test_48_working_hours_from_friday_17_00_before_national_day() -> None:
    # Fri 26 Sep 2025 17:00 → 1 h that day; Sun 28 Sep is an adjusted working day (调休); Mon, Tue;
    # 1–8 Oct off; Thu 9, Fri 10 and the adjusted Sat 11 Oct: the clock runs out at 11:00 that day.
    end = working().add(at(2025, 9, 26, 17, 0), 48)
    assert end == at(2025, 10, 11, 11, 0)
    assert working().elapsed(at(2025, 9, 26, 17, 0), end) == pytest.approx(48)


@pytest.mark.parametrize(
    ("start", "hours", "end"),
    [
        (at(2025, 10, 9, 8, 0), 1, at(2025, 10, 9, 10, 0)),  # before opening: starts at 09:00
        (at(2025, 10, 9, 19, 30), 1, at(2025, 10, 10, 10, 0)),  # after closing: next morning
        (at(2025, 10, 9, 17, 0), 1, at(2025, 10, 9, 18, 0)),  # exactly at closing
        (at(2025, 10, 3, 12, 0), 24, at(2025, 10, 11, 15, 0)),  # asked during the holiday
        (at(2025, 10, 9, 9, 0), 0, at(2025, 10, 9, 9, 0)),
    ],
)
def test_working_hours_start_when_work_starts(start: datetime, hours: float, end: datetime) -> None:
    assert working().add(start, hours) == end


def test_elapsed_working_hours_skip_nights_weekends_and_holidays() -> None:
    clock = working()
    assert clock.elapsed(at(2025, 10, 10, 17, 0), at(2025, 10, 13, 10, 0)) == pytest.approx(
        1 + 9 + 1
    )
    assert clock.elapsed(at(2025, 10, 1, 9, 0), at(2025, 10, 8, 18, 0)) == 0  # all holiday
    assert clock.elapsed(at(2025, 10, 9, 12, 0), at(2025, 10, 9, 11, 0)) == 0
