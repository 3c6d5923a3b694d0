"""The working calendar: which days count when a due date is "N working days" away."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays

from plugin.process.config import WEEKDAYS, CalendarRules

# A request whose tree spans more than this many calendar days is not a plan but a typo.
MAX_SPAN_DAYS = 3 * 366


@lru_cache(maxsize=16)
def _public_calendar(country: str, year: int) -> tuple[frozenset[date], frozenset[date]]:
    """Return (public holidays, adjusted working weekend days) of one country and year."""
    table = holidays.country_holidays(country, years=year)
    days_off = frozenset(day for day in table if day.year == year)
    # China's 调休: weekends that are working days to make up for a long holiday (e.g. 2025-10-11).
    weekend_workdays = frozenset(
        day for day in getattr(table, "weekend_workdays", ()) if day.year == year
    )
    return days_off, weekend_workdays


def year_published(country: str, year: int) -> bool:
    """Whether the holidays library holds `year`'s own arrangement for a country that moves
    working days (China's 调休, published by the State Council each autumn for the next year).

    The library fills a year it has no arrangement for with the fixed holidays alone, which are
    right for most countries; for one that moves working days, that year has none of them. A
    country that never moved a working day in the last ten years is always known."""
    moves_days = any(_public_calendar(country, earlier)[1] for earlier in range(year - 10, year))
    return bool(_public_calendar(country, year)[1 if moves_days else 0])


class WorkCalendar:
    """Working days from CalendarRules: weekdays, a country's public holidays and 调休, and YAML extras."""

    def __init__(
        self,
        workdays: Iterable[str] = ("mon", "tue", "wed", "thu", "fri"),
        country: str | None = None,
        extra_holidays: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
    ) -> None:
        self._weekdays = frozenset(WEEKDAYS.index(day) for day in workdays)
        self._country = country
        self._extra_holidays = frozenset(extra_holidays)
        self._extra_workdays = frozenset(extra_workdays)

    @classmethod
    def from_rules(cls, rules: CalendarRules) -> WorkCalendar:
        """Build the calendar the admin configured."""
        return cls(
            workdays=rules.workdays,
            country=rules.holidays,
            extra_holidays=rules.extra_holidays,
            extra_workdays=rules.extra_workdays,
        )

    def is_working_day(self, day: date) -> bool:
        """Say whether people work on `day`; YAML extras win over the country's calendar."""
        if day in self._extra_workdays:
            return True
        if day in self._extra_holidays:
            return False
        if self._country:
            days_off, weekend_workdays = _public_calendar(self._country, day.year)
            if day in weekend_workdays:
                return True
            if day in days_off:
                return False
        return day.weekday() in self._weekdays

    def next_working_day(self, day: date) -> date:
        """Return `day` itself when it is a working day, else the first working day after it."""
        probe = day
        while not self.is_working_day(probe):
            probe += timedelta(days=1)
            if (probe - day).days > MAX_SPAN_DAYS:
                raise ValueError("the calendar has no working day within three years")
        return probe

    def add_working_days(self, day: date, count: int) -> date:
        """Return the date `count` working days after `day` (0: `day` rolled to a working day)."""
        if count <= 0:
            return self.next_working_day(day)
        probe = day
        remaining = count
        while remaining:
            probe += timedelta(days=1)
            if (probe - day).days > MAX_SPAN_DAYS:
                raise ValueError("the due date would be more than three years away")
            if self.is_working_day(probe):
                remaining -= 1
        return probe

    def working_days_between(self, start: date, end: date) -> int:
        """Count working days in (start, end]: how many `add_working_days` steps lead from one to the other."""
        count = 0
        probe = start
        while probe < end:
            probe += timedelta(days=1)
            if self.is_working_day(probe):
                count += 1
        return count
