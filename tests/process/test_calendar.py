"""The working calendar counts China's public holidays and its adjusted working weekends (调休)."""

from __future__ import annotations

from datetime import date

from plugin.process.calendar import WorkCalendar
from plugin.process.config import CalendarRules


def china() -> WorkCalendar:
    return WorkCalendar.from_rules(CalendarRules())


def test_an_adjusted_saturday_is_a_working_day() -> None:
    assert date(2025, 10, 11).weekday() == 5
    assert china().is_working_day(date(2025, 10, 11))


def test_national_day_is_not_a_working_day() -> None:
    assert not china().is_working_day(date(2026, 10, 1))
    assert not china().is_working_day(date(2025, 10, 8))  # a Wednesday inside the golden week


def test_plain_weekends_are_off_and_weekdays_on() -> None:
    assert not china().is_working_day(date(2026, 3, 7))
    assert china().is_working_day(date(2026, 3, 9))


def test_counting_skips_the_golden_week_and_uses_the_makeup_saturday() -> None:
    # 2025-09-30 (Tue) + 1 working day: 10-01..10-08 are off, 10-09 (Thu) is the next.
    assert china().add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    # 10-10 (Fri), then Saturday 10-11 is a working day.
    assert china().add_working_days(date(2025, 10, 9), 2) == date(2025, 10, 11)


def test_zero_days_rolls_a_day_off_forward_only() -> None:
    assert china().add_working_days(date(2026, 3, 7), 0) == date(2026, 3, 9)
    assert china().add_working_days(date(2026, 3, 9), 0) == date(2026, 3, 9)


def test_yaml_extras_win_over_the_country_calendar() -> None:
    calendar = WorkCalendar.from_rules(
        CalendarRules(extra_holidays=[date(2026, 3, 9)], extra_workdays=[date(2026, 10, 1)])
    )
    assert not calendar.is_working_day(date(2026, 3, 9))
    assert calendar.is_working_day(date(2026, 10, 1))


def test_no_country_means_weekdays_only() -> None:
    calendar = WorkCalendar.from_rules(CalendarRules(holidays=None))
    assert calendar.is_working_day(date(2026, 10, 1))
    assert not calendar.is_working_day(date(2025, 10, 11))


def test_custom_workdays() -> None:
    calendar = WorkCalendar(workdays=["mon", "tue", "wed", "thu", "fri", "sat"])
    assert calendar.is_working_day(date(2026, 3, 7))
    assert not calendar.is_working_day(date(2026, 3, 8))


def test_working_days_between_inverts_adding() -> None:
    start = date(2026, 9, 28)
    end = china().add_working_days(start, 7)
    assert china().working_days_between(start, end) == 7
