"""The goal board's figures, purely: per department and per request, from items and asks.

The collaboration process: each department's completion and on-time rate,
its blocked (delayed) items, how fast it answers. Inputs are plain facts read from Jira (items)
and the store (asks); a figure that cannot be known (no item finished yet, no answer yet) is
None and shown as "—", never as 0%.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from plugin.process.calendar import WorkCalendar
from plugin.process.config import Rules
from plugin.process.items import is_done, item_mark, person_of, stage_of
from plugin.process.owners import departments_of

NO_DEPARTMENT = ""  # items and asks whose department nobody can tell


@dataclass(frozen=True)
class ItemFact:
    """One item as the board needs it."""

    key: str
    summary: str
    request: str | None
    department: str | None
    owner: str | None
    due: date | None
    done: bool
    done_on: date | None  # the resolution date, in the rules' timezone
    stage: int | None  # the stage number of a stage item (None for deliverables and others)
    owner_name: str | None = None  # the owner's display name, as Jira gave it
    started: bool = True  # its status is past "To Do" (category new): 进行中 rather than 未开始
    supporting: tuple[str, ...] = ()  # 配合部门, as crossdept's mark records them


@dataclass(frozen=True)
class AskFact:
    """One ask as the board needs it."""

    department: str | None
    asked_on: date
    answered: bool
    response_hours: float | None
    escalated: bool


@dataclass(frozen=True)
class DelayedItem:
    """An open item past its due date."""

    key: str
    summary: str
    department: str | None
    owner: str | None
    due: date
    days_late: int  # working days
    owner_name: str | None = None


@dataclass(frozen=True)
class DepartmentFigures:
    """One department's row on the board."""

    department: str
    items: int
    done_on_time: int
    done_late: int
    not_started: int  # not done, not past due, status still "To Do"
    in_progress: int  # not done, not past due, work begun
    delayed: int  # not done, past due: each item is in exactly one of the five
    on_time_rate: float | None  # on time / (done + delayed); None when nothing is due yet
    asks: int
    answered: int
    median_hours: float | None
    p90_hours: float | None
    escalations: int
    supporting: int = 0  # open items of other departments this one supports (配合部门)


@dataclass(frozen=True)
class RequestProgress:
    """How far a request's stages have come."""

    request: str
    stages_done: int
    stages: int
    delayed: int


@dataclass(frozen=True)
class Board:
    """Everything the board shows for one period."""

    today: date
    since: date | None
    departments: list[DepartmentFigures]
    delayed: list[DelayedItem]
    requests: list[RequestProgress]
    response_hours: list[float] = field(default_factory=list)
    delayed_total: int = 0  # every delayed item, of which `delayed` lists the latest first

    @property
    def delayed_unlisted(self) -> int:
        """Delayed items the list leaves out (a page of 20,000 items shows the latest ones)."""
        return max(self.delayed_total - len(self.delayed), 0)


def _day(value: Any, rules: Rules) -> date | None:
    """A Jira date ("2026-03-05") or date-time ("2026-03-05T10:00:00.000+0800") as a local date."""
    if not isinstance(value, str) or not value:
        return None
    try:
        if len(value) <= 10:
            return date.fromisoformat(value)
        moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return None
    return moment.astimezone(rules.tz).date()


def marked_department(issue: Mapping[str, Any]) -> str | None:
    """The department crossdept's mark gives an item: its own, else the request's 需求部门."""
    raw = (issue.get("properties") or {}).get("crossdept.item") or {}
    found = (raw.get("department") or raw.get("requesting")) if isinstance(raw, Mapping) else None
    return str(found) if found else None


def department_of(marked: str | None, owner: str | None, rules: Rules) -> str | None:
    """The department an item counts to: the mark's, else its owner's first."""
    if marked:
        return marked
    homes = departments_of(rules, owner) if owner else []
    return homes[0] if homes else None


def item_fact(issue: Mapping[str, Any], rules: Rules) -> ItemFact:
    """Read one item (fields and `crossdept.item`) into a fact."""
    fields: Mapping[str, Any] = issue.get("fields") or {}
    mark = item_mark(issue)
    owner = person_of(fields.get("assignee"))
    department = department_of(marked_department(issue), owner, rules)
    stage = stage_of(mark.ref) if mark else None
    is_stage = mark is not None and stage is not None and "." not in mark.ref
    done = is_done(fields, rules)
    return ItemFact(
        key=str(issue.get("key", "")),
        summary=str(fields.get("summary") or ""),
        request=mark.request if mark else None,
        department=department,
        owner=owner,
        due=_day(fields.get("duedate"), rules),
        done=done,
        done_on=_day(fields.get("resolutiondate"), rules) if done else None,
        stage=stage if is_stage else None,
        owner_name=(fields.get("assignee") or {}).get("displayName") if owner else None,
        started=done or has_started(fields),
        supporting=marked_supporting(issue, rules),
    )


def marked_supporting(issue: Mapping[str, Any], rules: Rules) -> tuple[str, ...]:
    """The supporting departments crossdept's mark records for an item (departments the rules
    know, in the mark's order)."""
    raw = (issue.get("properties") or {}).get("crossdept.item") or {}
    found = raw.get("supporting") if isinstance(raw, Mapping) else None
    if not isinstance(found, list):
        return ()
    return tuple(str(name) for name in found if str(name) in rules.departments)


def has_started(fields: Mapping[str, Any]) -> bool:
    """Work on an item has begun when its status left Jira's "To Do" category (`new`); a status
    without a category (an odd workflow) counts as begun rather than as never touched."""
    status = fields.get("status") or {}
    return (status.get("statusCategory") or {}).get("key") != "new"


def percentile(values: Sequence[float], share: float) -> float | None:
    """The `share` (0..1) percentile by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class ItemCounts:
    """One department's items by column (the store counts them in SQL, `compute_board` here)."""

    items: int = 0
    on_time: int = 0
    late: int = 0
    not_started: int = 0
    in_progress: int = 0
    delayed: int = 0


@dataclass(frozen=True)
class AskCounts:
    """One department's asks: made, answered, escalated, and the answered ones' hours."""

    asks: int = 0
    answered: int = 0
    escalated: int = 0
    hours: list[float] = field(default_factory=list)


def department_rows(
    departments: Sequence[str],
    items: Mapping[str, ItemCounts],
    asks: Mapping[str, AskCounts],
    supporting: Mapping[str, int] | None = None,
) -> list[DepartmentFigures]:
    """The board's rows: the rules' departments in their order, then any other an item names;
    items and asks nobody can place get a row only when there are some."""
    names = list(departments) + sorted(set(items) - set(departments))
    rows = []
    for name in names:
        mine, theirs = items.get(name, ItemCounts()), asks.get(name, AskCounts())
        if name == NO_DEPARTMENT and not mine.items and not theirs.asks:
            continue
        measured = mine.on_time + mine.late + mine.delayed
        rows.append(
            DepartmentFigures(
                department=name,
                items=mine.items,
                done_on_time=mine.on_time,
                done_late=mine.late,
                not_started=mine.not_started,
                in_progress=mine.in_progress,
                delayed=mine.delayed,
                on_time_rate=mine.on_time / measured if measured else None,
                asks=theirs.asks,
                answered=theirs.answered,
                median_hours=percentile(theirs.hours, 0.5),
                p90_hours=percentile(theirs.hours, 0.9),
                escalations=theirs.escalated,
                supporting=(supporting or {}).get(name, 0),
            )
        )
    return rows


def compute_board(
    items: Iterable[ItemFact],
    asks: Iterable[AskFact],
    *,
    today: date,
    calendar: WorkCalendar,
    departments: Sequence[str],
    since: date | None = None,
    request: str | None = None,
) -> Board:
    """The board for items due (and asks made) on or after `since`, of one request or all."""
    chosen = [
        item
        for item in items
        if (request is None or item.request == request)
        and (since is None or (item.due is not None and item.due >= since))
    ]
    chosen_asks = [ask for ask in asks if since is None or ask.asked_on >= since]
    delayed = sorted(
        (
            DelayedItem(
                item.key,
                item.summary,
                item.department,
                item.owner,
                item.due,
                calendar.working_days_between(item.due, today),
                item.owner_name,
            )
            for item in chosen
            if not item.done and item.due is not None and item.due < today
        ),
        key=lambda d: (-d.days_late, d.key),
    )
    late_keys = {d.key for d in delayed}
    item_counts: dict[str, ItemCounts] = {}
    for name in {i.department or NO_DEPARTMENT for i in chosen}:
        mine = [i for i in chosen if (i.department or NO_DEPARTMENT) == name]
        on_course = [i for i in mine if not i.done and i.key not in late_keys]
        item_counts[name] = ItemCounts(
            items=len(mine),
            on_time=sum(1 for i in mine if i.done and i.done_on and i.due and i.done_on <= i.due),
            late=sum(1 for i in mine if i.done and i.done_on and i.due and i.done_on > i.due),
            not_started=sum(1 for i in on_course if not i.started),
            in_progress=sum(1 for i in on_course if i.started),
            delayed=sum(1 for i in mine if i.key in late_keys),
        )
    ask_counts: dict[str, AskCounts] = {}
    for name in {a.department or NO_DEPARTMENT for a in chosen_asks}:
        theirs = [a for a in chosen_asks if (a.department or NO_DEPARTMENT) == name]
        ask_counts[name] = AskCounts(
            asks=len(theirs),
            answered=sum(1 for a in theirs if a.answered),
            escalated=sum(1 for a in theirs if a.escalated),
            hours=[a.response_hours for a in theirs if a.answered and a.response_hours is not None],
        )
    rows = department_rows(
        departments,
        item_counts,
        ask_counts,
        supporting_counts(((i.done, i.supporting) for i in chosen), departments),
    )
    progress: dict[str, list[ItemFact]] = {}
    for item in chosen:
        if item.request and item.stage is not None:
            progress.setdefault(item.request, []).append(item)
    requests = [
        RequestProgress(
            key,
            sum(1 for s in stages if s.done),
            len(stages),
            sum(1 for s in stages if s.key in late_keys),
        )
        for key, stages in sorted(progress.items())
    ]
    all_hours = sorted(
        a.response_hours for a in chosen_asks if a.answered and a.response_hours is not None
    )
    return Board(today, since, rows, delayed, requests, all_hours, len(delayed))


def supporting_counts(
    items: Iterable[tuple[bool, Sequence[str]]], departments: Sequence[str]
) -> dict[str, int]:
    """Per department, the open items (done, supporting departments) it supports (配合部门)
    while another owns them."""
    counts: dict[str, int] = {}
    for done, supporting in items:
        if done:
            continue
        for name in supporting:
            if name in departments:
                counts[name] = counts.get(name, 0) + 1
    return counts


def percent(rate: float | None) -> str:
    """A rate for people: "87%", or "—" when it cannot be known."""
    return "—" if rate is None else f"{rate * 100:.0f}%"


def hours_text(value: float | None) -> str:
    """Hours for people: "12.5 h", or "—"."""
    return "—" if value is None else f"{value:.1f} h"


def figure_cells(row: DepartmentFigures) -> tuple[str, ...]:
    """A department's figures as people read them, after its name, in the board's column order."""
    return (
        str(row.items),
        str(row.done_on_time),
        str(row.done_late),
        str(row.not_started),
        str(row.in_progress),
        str(row.delayed),
        percent(row.on_time_rate),
        str(row.asks),
        str(row.answered),
        hours_text(row.median_hours),
        hours_text(row.p90_hours),
        str(row.escalations),
        str(row.supporting),
    )
