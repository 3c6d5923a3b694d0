"""Where the board's figures come from: the item mirror and the asks, counted by the database.

A board view, a /metrics scrape and `crossdept report departments` make no Jira call: the
figures are aggregated in SQL over the mirror (plugin.rules.reports.mirror), and only the
delayed items, which the board lists one by one, are read as rows. `compute_board` states the
same figures over plain facts, and a test holds the two together.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select

from plugin.process.asks import ANSWERED, asks
from plugin.process.config import Rules
from plugin.process.ladder import steps
from plugin.rules.reports.board import (
    NO_DEPARTMENT,
    AskCounts,
    Board,
    DelayedItem,
    ItemCounts,
    RequestProgress,
    department_rows,
    supporting_counts,
)
from plugin.rules.reports.mirror import ROWS_PER_STATEMENT, Mirror, fact_of, item_mirror
from plugin.spine.context import Context
from plugin.spine.errors import CrossdeptError

ITEM_FIELDS = ("summary", "assignee", "duedate", "status", "resolutiondate")


class MirrorNotBuiltError(CrossdeptError):
    """The mirror has never read Jira: figures now would say zero where nobody counted."""


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _key_order(key: str) -> tuple[str, int, str]:
    """Issue keys in project, then number order (XD-2 before XD-10); anything else last."""
    project, _, number = key.rpartition("-")
    return (project, int(number), "") if number.isdigit() else (key, -1, key)


def request_keys(context: Context) -> list[str]:
    """The requests the mirrored items belong to, for the board's filter."""
    m = item_mirror.c
    with context.store.begin() as db:
        found = db.execute(select(m.request).where(m.request.is_not(None)).distinct()).scalars()
        return sorted((str(key) for key in found), key=_key_order)


def read_board(
    context: Context,
    *,
    since: date | None = None,
    request: str | None = None,
    delayed_shown: int | None = None,
    until: date | None = None,
) -> Board:
    """The board for items due (and asks made) on or after `since`, of one request or all; with
    `delayed_shown`, only that many delayed items are listed (the latest first), all counted."""
    if not Mirror(context.store).is_built():
        raise MirrorNotBuiltError(
            "the item mirror has not read Jira yet: start the worker (it reads within a minute) "
            "or run `crossdept mirror rebuild`"
        )
    rules = context.rules
    today = context.clock().astimezone(rules.tz).date()
    m = item_mirror.c
    chosen: list[ColumnElement[bool]] = []
    if request is not None:
        chosen.append(m.request == request)
    if since is not None:
        chosen.append(and_(m.due.is_not(None), m.due >= since))
    if until is not None:  # a closed period (the assessment's): items due up to its last day
        chosen.append(and_(m.due.is_not(None), m.due <= until))
    late = and_(m.done.is_(False), m.due.is_not(None), m.due < today)
    on_course = and_(m.done.is_(False), or_(m.due.is_(None), m.due >= today))
    department = func.coalesce(m.department, NO_DEPARTMENT)
    figures = (
        select(
            department,
            func.count(),
            _count(
                and_(
                    m.done.is_(True), m.done_on.is_not(None), m.due.is_not(None), m.done_on <= m.due
                )
            ),
            _count(
                and_(
                    m.done.is_(True), m.done_on.is_not(None), m.due.is_not(None), m.done_on > m.due
                )
            ),
            _count(and_(on_course, m.started.is_(False))),
            _count(and_(on_course, m.started.is_(True))),
            _count(late),
        )
        .where(*chosen)
        .group_by(department)
    )
    progress = (
        select(m.request, func.count(), _count(m.done.is_(True)), _count(late))
        .where(m.request.is_not(None), m.stage.is_not(None), *chosen)
        .group_by(m.request)
    )
    with context.store.begin() as db:
        counts = {
            str(row[0]): ItemCounts(*(int(n) for n in row[1:])) for row in db.execute(figures).all()
        }
        late_keys = db.execute(select(m.key, m.due).where(late, *chosen)).all()
        supported = db.execute(
            select(m.done, m.supporting).where(
                m.supporting.is_not(None), m.done.is_(False), *chosen
            )
        ).all()
        stages = db.execute(progress).all()
    days_late: dict[date, int] = {}  # a few dozen distinct due dates among thousands of items
    for _key, due in late_keys:
        if due not in days_late:
            days_late[due] = rules.work_calendar.working_days_between(due, today)
    order = sorted(late_keys, key=lambda row: (-days_late[row[1]], row[0]))
    listed = order if delayed_shown is None else order[:delayed_shown]
    facts = {}
    with context.store.begin() as db:
        wanted = [str(key) for key, _due in listed]
        for start in range(0, len(wanted), ROWS_PER_STATEMENT):
            chunk = wanted[start : start + ROWS_PER_STATEMENT]
            for row in db.execute(select(item_mirror).where(m.key.in_(chunk))):
                facts[row.key] = fact_of(row)
    delayed = [
        DelayedItem(
            fact.key,
            fact.summary,
            fact.department,
            fact.owner,
            due,
            days_late[due],
            fact.owner_name,
        )
        for fact, due in ((facts[str(key)], due) for key, due in listed)
    ]
    ask_counts = _ask_counts(context, rules, since, until)
    supporting = supporting_counts(
        ((bool(done), names or ()) for done, names in supported), list(rules.departments)
    )
    rows = department_rows(list(rules.departments), counts, ask_counts, supporting)
    progress_rows = [
        RequestProgress(str(key), int(done), int(total), int(behind))
        for key, total, done, behind in sorted(stages, key=lambda row: str(row[0]))
    ]
    every_hour = sorted(hour for asked in ask_counts.values() for hour in asked.hours)
    return Board(today, since, rows, delayed, progress_rows, every_hour, len(late_keys))


def _ask_counts(
    context: Context, rules: Rules, since: date | None, until: date | None = None
) -> dict[str, AskCounts]:
    """Per department: asks, answered and escalated counted in SQL, and the answered asks' hours."""
    a = asks.c
    kinds = [step.kind for step in steps(rules)]
    escalated: ColumnElement[bool] = (
        a.steps_done > kinds.index("escalation") if "escalation" in kinds else false()
    )
    answered = a.state == ANSWERED
    made: list[ColumnElement[bool]] = []
    if since is not None:
        made.append(a.asked_at >= datetime.combine(since, time(), tzinfo=rules.tz).timestamp())
    if until is not None:
        after = until + timedelta(days=1)
        made.append(a.asked_at < datetime.combine(after, time(), tzinfo=rules.tz).timestamp())
    department = func.coalesce(a.department, NO_DEPARTMENT)
    counted = (
        select(department, func.count(), _count(answered), _count(escalated))
        .where(*made)
        .group_by(department)
    )
    timed = select(department, a.response_hours).where(
        answered, a.response_hours.is_not(None), *made
    )
    hours: dict[str, list[float]] = {}
    with context.store.begin() as db:
        figures = db.execute(counted).all()
        for name, value in db.execute(timed):
            hours.setdefault(str(name), []).append(float(value))
    return {
        str(name): AskCounts(
            int(made_n), int(answered_n), int(escalated_n), hours.get(str(name), [])
        )
        for name, made_n, answered_n, escalated_n in figures
    }
