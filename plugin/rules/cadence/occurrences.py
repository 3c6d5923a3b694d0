"""When cadence meetings fall, and which of them are due to be filed now: data in, data out.

A meeting is filed in the day before its notice period starts (`FILING_WINDOW`), so it is never
filed with less than `meetings.notice` and never weeks ahead, when the request may be done.
A weekly meeting on a day nobody works moves to the last working day before it in the same
week (none when the whole week is off); a monthly one to the first working day on or after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from plugin.process.calendar import WorkCalendar
from plugin.process.config import WEEKDAYS
from plugin.rules.cadence.config import CadenceRules, GoalAlignment, WeeklyMeeting

FILING_WINDOW = timedelta(days=1)  # a sweep every half hour has the whole day to file it


@dataclass(frozen=True)
class Occurrence:
    """One meeting of a cadence: its period (an ISO week or a month) and when it starts."""

    period: str  # e.g. 2026-W50 or 2027-01: each period has one meeting
    start: datetime
    end: datetime

    def filing_window(self, notice: timedelta) -> tuple[datetime, datetime]:
        """When it is filed: from the notice plus a day ahead until the notice ahead."""
        closes = self.start - notice
        return closes - FILING_WINDOW, closes


def weekly_occurrences(
    weekly: WeeklyMeeting, calendar: WorkCalendar, tz: ZoneInfo, around: datetime
) -> Iterator[Occurrence]:
    """The weekly meetings of the week of `around` and the next three, in order."""
    local = around.astimezone(tz).date()
    monday = local - timedelta(days=local.weekday())
    for week in range(4):
        first = monday + timedelta(weeks=week)
        day: date | None = first + timedelta(days=WEEKDAYS.index(weekly.day))
        while day is not None and not calendar.is_working_day(day):
            day = day - timedelta(days=1) if day > first else None
        if day is None:
            continue
        year, number, _ = first.isocalendar()
        start = datetime.combine(day, weekly.at, tzinfo=tz)
        yield Occurrence(f"{year}-W{number:02d}", start, start + weekly.length)


def monthly_occurrences(
    goal: GoalAlignment, calendar: WorkCalendar, tz: ZoneInfo, around: datetime
) -> Iterator[Occurrence]:
    """The goal-alignment meetings of the month of `around` and the next two, in order."""
    local = around.astimezone(tz).date()
    year, month = local.year, local.month
    for _ in range(3):
        day = calendar.next_working_day(date(year, month, goal.day))
        start = datetime.combine(day, goal.at, tzinfo=tz)
        yield Occurrence(f"{year}-{month:02d}", start, start + goal.length)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def due_to_file(
    occurrences: Iterator[Occurrence], now: datetime, notice: timedelta
) -> list[Occurrence]:
    """The occurrences whose filing window holds `now`: at most the notice plus a day ahead,
    at least the notice ahead."""
    due = []
    for each in occurrences:
        opens, closes = each.filing_window(notice)
        if opens <= now <= closes:
            due.append(each)
    return due


@dataclass(frozen=True)
class NextFiling:
    """A cadence's next meeting still to be filed, and when it will be: for a preview."""

    what: str  # "weekly meeting", or "goal-alignment meeting of" its departments
    occurrence: Occurrence
    filed_from: datetime
    filed_by: datetime


def next_filings(
    cadence: CadenceRules, notice: timedelta, calendar: WorkCalendar, tz: ZoneInfo, now: datetime
) -> list[NextFiling]:
    """Each cadence's next meeting whose filing window has not closed, in the file's order."""
    found: list[tuple[str, Iterator[Occurrence]]] = []
    if cadence.weekly is not None:
        found.append(("weekly meeting", weekly_occurrences(cadence.weekly, calendar, tz, now)))
    for goal in cadence.goal_alignment:
        what = f"goal-alignment meeting of {', '.join(goal.departments)}"
        found.append((what, monthly_occurrences(goal, calendar, tz, now)))
    coming = []
    for what, occurrences in found:
        for each in occurrences:
            opens, closes = each.filing_window(notice)
            if now <= closes:
                coming.append(NextFiling(what, each, opens, closes))
                break
    return coming
