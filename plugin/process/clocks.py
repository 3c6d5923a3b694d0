"""The escalation clock: hours on the wall, or only the calendar's working hours.

`escalation.clock: hours` counts wall-clock time; `working_hours` counts only the `calendar`'s
working days between `calendar.work_hours` (default 09:00–18:00) in the rules' timezone, so a
48-hour clock started on a Friday evening before China's National Day ends on the right working
day after the holiday (and its adjusted working weekends count).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from plugin.process.calendar import WorkCalendar

ClockKind = Literal["hours", "working_hours"]
MAX_DAYS = 3 * 366  # a deadline further than this is a configuration mistake


class WorkClock:
    """Adds and measures time in wall-clock hours or in working hours."""

    def __init__(
        self,
        kind: ClockKind,
        calendar: WorkCalendar,
        work_hours: tuple[time, time],
        tz: ZoneInfo,
    ) -> None:
        self.kind = kind
        self.calendar = calendar
        self.start_of_day, self.end_of_day = work_hours
        self.tz = tz

    def _bounds(self, day: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(day, self.start_of_day, tzinfo=self.tz),
            datetime.combine(day, self.end_of_day, tzinfo=self.tz),
        )

    def _next_working_moment(self, moment: datetime) -> datetime:
        """`moment` if it lies inside working hours, else when working hours next begin."""
        local = moment.astimezone(self.tz)
        day = local.date()
        for _ in range(MAX_DAYS):
            opens, closes = self._bounds(day)
            if self.calendar.is_working_day(day) and local < closes:
                return max(local, opens)
            day += timedelta(days=1)
            local = datetime.combine(day, time(0), tzinfo=self.tz)
        raise ValueError("the calendar has no working hours within three years")

    def add(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` of this clock after `start`."""
        if self.kind == "hours":
            return start + timedelta(hours=hours)
        remaining = timedelta(hours=hours)
        current = self._next_working_moment(start)
        while True:
            closes = self._bounds(current.date())[1]
            available = closes - current
            if remaining <= available:
                return current + remaining
            remaining -= available
            current = self._next_working_moment(closes + timedelta(seconds=1))

    def elapsed(self, start: datetime, end: datetime) -> float:
        """Hours of this clock from `start` to `end` (0 when `end` is not later)."""
        if end <= start:
            return 0.0
        if self.kind == "hours":
            return (end - start).total_seconds() / 3600
        total = timedelta()
        current = self._next_working_moment(start)
        while current < end:
            closes = self._bounds(current.date())[1]
            total += min(closes, end) - current
            if end <= closes:
                break
            current = self._next_working_moment(closes + timedelta(seconds=1))
        return total.total_seconds() / 3600
