"""The assessment's snapshots: every `reports.assessment.every_days`, each department's figures
for the period just ended, and its 协作之星 candidates, kept in the store.

A period is `every_days` whole days ending the day before the snapshot is taken; the next one
follows it without a gap, so a service that was down catches up one period per run. A period's
figures are the board's (the item mirror and the asks) for items due and asks made within it,
read when it is taken: an item done after the snapshot does not change a period already kept.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import (
    Column,
    Date,
    Float,
    Integer,
    String,
    Table,
    and_,
    case,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError

from plugin.process.asks import ANSWERED, asks
from plugin.rules.reports.assessment import (
    AssessmentRow,
    PeriodFigures,
    Snapshot,
    StarCandidate,
    assess,
    rank_stars,
)
from plugin.rules.reports.board import percentile
from plugin.rules.reports.board_sources import MirrorNotBuiltError, read_board
from plugin.rules.reports.config import AssessmentRules, report_rules
from plugin.rules.reports.mirror import item_mirror
from plugin.spine.context import Context
from plugin.spine.schedule import Schedule
from plugin.spine.store import Store, metadata

log = logging.getLogger(__name__)

schedule = Schedule()

assessment_snapshots = Table(
    "assessment_snapshots",
    metadata,
    Column("period_end", Date, primary_key=True),
    Column("department", String(64), primary_key=True),
    Column("place", Integer, nullable=False),  # the board's order: the rules' departments first
    Column("period_start", Date, nullable=False),
    Column("on_time", Integer, nullable=False),
    Column("late", Integer, nullable=False),
    Column("delayed", Integer, nullable=False),
    Column("asks", Integer, nullable=False),
    Column("answered", Integer, nullable=False),
    Column("median_hours", Float, nullable=True),
    Column("taken_at", Float, nullable=False),
)

assessment_stars = Table(
    "assessment_stars",
    metadata,
    Column("period_end", Date, primary_key=True),
    Column("place", Integer, primary_key=True),
    Column("account", String(200), nullable=False),
    Column("name", String(200), nullable=True),
    Column("on_time", Integer, nullable=False),
    Column("measured", Integer, nullable=False),
    Column("median_hours", Float, nullable=True),
)


def next_period(last_end: date | None, today: date, every_days: int) -> tuple[date, date] | None:
    """The period to keep next (first day, last day), or None while it has not ended: the first
    ends yesterday, each later one `every_days` after the one before."""
    end = today - timedelta(days=1) if last_end is None else last_end + timedelta(days=every_days)
    if end >= today:
        return None
    return end - timedelta(days=every_days - 1), end


def kept_snapshots(store: Store, *, since: date | None = None) -> list[Snapshot]:
    """The snapshots kept, oldest first; with `since`, those of periods ending on or after it."""
    s, t = assessment_snapshots.c, assessment_stars.c
    with store.begin() as db:
        rows = db.execute(select(assessment_snapshots).order_by(s.period_end, s.place)).all()
        stars = db.execute(select(assessment_stars).order_by(t.period_end, t.place)).all()
    periods: dict[date, tuple[date, list[PeriodFigures]]] = {}
    for row in rows:
        start, figures = periods.setdefault(row.period_end, (row.period_start, []))
        figures.append(
            PeriodFigures(
                row.department,
                row.on_time,
                row.late,
                row.delayed,
                row.asks,
                row.answered,
                row.median_hours,
            )
        )
    candidates: dict[date, list[StarCandidate]] = {}
    for row in stars:
        candidates.setdefault(row.period_end, []).append(
            StarCandidate(row.account, row.name, row.on_time, row.measured, row.median_hours)
        )
    return [
        Snapshot(start, end, tuple(figures), tuple(candidates.get(end, ())))
        for end, (start, figures) in sorted(periods.items())
        if since is None or end >= since
    ]


def latest_assessment(
    store: Store, settings: AssessmentRules
) -> tuple[list[AssessmentRow], tuple[StarCandidate, ...]]:
    """The latest period's rows against the baseline, and its candidates (the board's trend)."""
    snapshots = kept_snapshots(store)
    if not snapshots:
        return [], ()
    latest = snapshots[-1]
    return [row for row in assess(snapshots, settings) if row.end == latest.end], latest.stars


def take_snapshot(context: Context, settings: AssessmentRules) -> Snapshot | None:
    """Keep the next period's figures when it has ended; None when none is due. Raises
    MirrorNotBuiltError while the item mirror has not read Jira: its zeros would be untrue."""
    store, rules = context.store, context.rules
    today = context.clock().astimezone(rules.tz).date()
    with store.begin() as db:
        last = db.execute(select(func.max(assessment_snapshots.c.period_end))).scalar()
    period = next_period(last, today, settings.every_days)
    if period is None:
        return None
    start, end = period
    board = read_board(context, since=start, until=end)  # MirrorNotBuiltError: not yet
    figures = tuple(
        PeriodFigures(
            row.department,
            row.done_on_time,
            row.done_late,
            row.delayed,
            row.asks,
            row.answered,
            row.median_hours,
        )
        for row in board.departments
    )
    stars = rank_stars(_people(context, start, end, today), settings.stars)
    now = context.clock().timestamp()
    try:
        with store.begin() as db:  # the whole snapshot or none of it
            if figures:
                rows = [_row(f, place, start, end, now) for place, f in enumerate(figures)]
                db.execute(insert(assessment_snapshots), rows)
            if stars:
                db.execute(
                    insert(assessment_stars),
                    [
                        {
                            "period_end": end,
                            "place": place,
                            "account": star.account,
                            "name": star.name,
                            "on_time": star.on_time,
                            "measured": star.measured,
                            "median_hours": star.median_hours,
                        }
                        for place, star in enumerate(stars, 1)
                    ],
                )
    except IntegrityError:
        return None  # another worker kept this period meanwhile
    return Snapshot(start, end, figures, stars)


def _row(
    figures: PeriodFigures, place: int, start: date, end: date, now: float
) -> dict[str, object]:
    return {
        "period_end": end,
        "department": figures.department,
        "place": place,
        "period_start": start,
        "on_time": figures.on_time,
        "late": figures.late,
        "delayed": figures.delayed,
        "asks": figures.asks,
        "answered": figures.answered,
        "median_hours": figures.median_hours,
        "taken_at": now,
    }


def _people(context: Context, start: date, end: date, today: date) -> Sequence[StarCandidate]:
    """Each owner's items due in the period (done on time, or measured: done or delayed) and
    the median hours they took to answer asks made in it."""
    m, a = item_mirror.c, asks.c
    tz = context.rules.tz
    due = and_(m.due.is_not(None), m.due >= start, m.due <= end, m.owner.is_not(None))
    on_time = func.sum(case((and_(m.done.is_(True), m.done_on <= m.due), 1), else_=0))
    measured = func.sum(case((or_(m.done.is_(True), m.due < today), 1), else_=0))
    made_from = datetime.combine(start, time(), tzinfo=tz).timestamp()
    made_until = datetime.combine(end + timedelta(days=1), time(), tzinfo=tz).timestamp()
    with context.store.begin() as db:
        owners = db.execute(
            select(m.owner, func.max(m.owner_name), on_time, measured).where(due).group_by(m.owner)
        ).all()
        answers = db.execute(
            select(a.asked, a.response_hours).where(
                a.state == ANSWERED,
                a.response_hours.is_not(None),
                a.asked_at >= made_from,
                a.asked_at < made_until,
            )
        ).all()
    hours: dict[str, list[float]] = {}
    for person, value in answers:
        hours.setdefault(str(person), []).append(float(value))
    return [
        StarCandidate(
            str(owner),
            str(name) if name else None,
            int(kept or 0),
            int(counted or 0),
            percentile(hours.get(str(owner), []), 0.5),
        )
        for owner, name, kept, counted in owners
    ]


@schedule.every(minutes=60, exclusive=True)
def take_assessment_snapshot(context: Context) -> str:
    """Every `every_days`, keep each department's figures for the period just ended."""
    settings = report_rules(context.rules).assessment
    if settings is None:
        return "assessment off"
    try:
        kept = take_snapshot(context, settings)
    except MirrorNotBuiltError:
        return "the item mirror has not read Jira yet"
    if kept is None:
        return "no period due"
    log.info("assessment snapshot kept", extra={"period_end": kept.end.isoformat()})
    return f"kept {kept.start.isoformat()}..{kept.end.isoformat()} ({len(kept.departments)} departments)"
