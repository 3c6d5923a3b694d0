"""When cadence meetings fall and when each is filed: the notice ahead, never less, never weeks."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from plugin.process.calendar import WorkCalendar
from plugin.rules.cadence.config import CadenceRules, GoalAlignment, WeeklyMeeting
from plugin.rules.cadence.occurrences import (
    due_to_file,
    monthly_occurrences,
    next_filings,
    weekly_occurrences,
)

TZ = ZoneInfo("Asia/Shanghai")
WEEKLY = WeeklyMeeting(day="fri", at=time(15, 0), length=timedelta(hours=1))
GOAL = GoalAlignment(departments=["市场部", "技术部"], day=1, at=time(10, 0))
NOTICE = timedelta(days=3)


def at(day: str, clock: str = "00:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=TZ)


def test_weekly_meetings_fall_on_the_day_and_time_of_each_week() -> None:
    found = list(weekly_occurrences(WEEKLY, WorkCalendar(), TZ, at("2026-12-02", "09:00")))
    assert [o.period for o in found] == ["2026-W49", "2026-W50", "2026-W51", "2026-W52"]
    assert found[0].start == at("2026-12-04", "15:00") and found[0].end == at("2026-12-04", "16:00")


def test_a_weekly_meeting_on_a_holiday_moves_to_the_working_day_before_in_its_week() -> None:
    calendar = WorkCalendar(extra_holidays=[date(2026, 12, 11), date(2026, 12, 10)])
    found = list(weekly_occurrences(WEEKLY, calendar, TZ, at("2026-12-07")))
    assert found[0].start == at("2026-12-09", "15:00")  # Wednesday, same week


def test_a_week_nobody_works_has_no_weekly_meeting() -> None:
    off = [date(2026, 12, 7) + timedelta(days=n) for n in range(5)]
    found = list(weekly_occurrences(WEEKLY, WorkCalendar(extra_holidays=off), TZ, at("2026-12-07")))
    assert "2026-W50" not in [o.period for o in found]


def test_an_adjusted_working_saturday_can_hold_a_saturday_meeting() -> None:
    saturday = WeeklyMeeting(day="sat", at=time(10, 0))
    calendar = WorkCalendar(extra_workdays=[date(2026, 12, 12)])
    first = next(iter(weekly_occurrences(saturday, calendar, TZ, at("2026-12-07"))))
    assert first.start == at("2026-12-12", "10:00")


def test_a_monthly_meeting_on_a_day_off_moves_to_the_next_working_day() -> None:
    found = list(monthly_occurrences(GOAL, WorkCalendar(), TZ, at("2026-12-15")))
    # 2026-12-01 is a Tuesday; 2027-01-01 a Friday holiday here; 2027-02-01 a Monday
    calendar = WorkCalendar(extra_holidays=[date(2027, 1, 1)])
    moved = list(monthly_occurrences(GOAL, calendar, TZ, at("2026-12-15")))
    assert [o.period for o in found] == ["2026-12", "2027-01", "2027-02"]
    assert moved[1].start == at("2027-01-04", "10:00")  # the Monday after
    assert moved[1].end - moved[1].start == timedelta(minutes=90)


@pytest.mark.parametrize(
    ("now", "filed"),
    [
        (at("2026-12-04", "15:00") - NOTICE - timedelta(days=1, seconds=1), False),  # too early
        (at("2026-12-04", "15:00") - NOTICE - timedelta(days=1), True),  # its window opens
        (at("2026-12-04", "15:00") - NOTICE, True),  # the last moment with full notice
        (at("2026-12-04", "15:00") - NOTICE + timedelta(seconds=1), False),  # too late
    ],
)
def test_a_meeting_is_filed_in_the_day_before_its_notice_period_starts(
    now: datetime, filed: bool
) -> None:
    occurrences = weekly_occurrences(WEEKLY, WorkCalendar(), TZ, now)
    due = due_to_file(occurrences, now, NOTICE)
    assert [o.period for o in due] == (["2026-W49"] if filed else [])


def test_the_preview_names_each_cadences_next_meeting_and_its_filing_window() -> None:
    cadence = CadenceRules(weekly=WEEKLY, goal_alignment=[GOAL])
    # Wednesday: this Friday's meeting can no longer have three days' notice, so the next one.
    weekly, goal = next_filings(cadence, NOTICE, WorkCalendar(), TZ, at("2026-12-02", "09:00"))
    assert weekly.what == "weekly meeting" and weekly.occurrence.start == at("2026-12-11", "15:00")
    assert (weekly.filed_from, weekly.filed_by) == (
        at("2026-12-07", "15:00"),
        at("2026-12-08", "15:00"),
    )
    assert goal.what == "goal-alignment meeting of 市场部, 技术部"
    assert goal.occurrence.start == at("2027-01-01", "10:00")  # no holidays in this calendar
