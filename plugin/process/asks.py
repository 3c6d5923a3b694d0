"""Open asks: one clock per person asked on an issue, kept in the store and found by due time.

An ask is a mention of someone in a comment, an assignment to them, or the issue entering a
waiting status (an ask of its assignee). It is open until that person answers, or until it is
cancelled (the asking comment was deleted or no longer mentions them, the issue is done). Each
ask takes the ladder's steps one at a time: `steps_done` counts those taken and `next_due` says
when the next one is due, indexed so a sweep finds what is due in one query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    case,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from plugin.spine.store import Store, metadata

OPEN, ANSWERED, CANCELLED = "open", "answered", "cancelled"

asks = Table(
    "asks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("issue", String(64), nullable=False),
    Column("asked", String(200), nullable=False),
    Column("asked_by", String(200), nullable=True),
    # What asked: mention (source_id = the comment's id), assignment or waiting_status
    # (source_id = the changelog's id), so a redelivered webhook finds its ask already there.
    Column("source", String(16), nullable=False),
    Column("source_id", String(64), nullable=False),
    Column("department", String(64), nullable=True),
    Column("excerpt", Text, nullable=True),
    Column("asked_at", Float, nullable=False),
    Column("state", String(16), nullable=False),
    Column("steps_done", Integer, nullable=False, default=0),
    Column("next_due", Float, nullable=True),
    Column("closed_at", Float, nullable=True),
    Column("response_hours", Float, nullable=True),
    UniqueConstraint("issue", "asked", "source", "source_id", name="asks_once"),
)
Index("asks_open_due", asks.c.state, asks.c.next_due)
Index("asks_issue_state", asks.c.issue, asks.c.state)


@dataclass(frozen=True)
class Ask:
    """One ask and where its clock stands."""

    id: int
    issue: str
    asked: str
    asked_by: str | None
    source: str
    source_id: str
    department: str | None
    excerpt: str | None
    asked_at: float
    state: str
    steps_done: int
    next_due: float | None
    closed_at: float | None
    response_hours: float | None


def _ask(row: Any) -> Ask:
    return Ask(**dict(row._mapping))


class Asks:
    """The asks table, behind the verbs the escalation rule and `crossdept asks` use."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def open(
        self,
        *,
        issue: str,
        asked: str,
        asked_by: str | None,
        source: str,
        source_id: str,
        asked_at: float,
        next_due: float | None,
        department: str | None = None,
        excerpt: str | None = None,
    ) -> bool:
        """Start a clock; False when this very ask was recorded before (a redelivery)."""
        try:
            with self.store.begin() as db:
                db.execute(
                    insert(asks).values(
                        issue=issue,
                        asked=asked,
                        asked_by=asked_by,
                        source=source,
                        source_id=source_id,
                        department=department,
                        excerpt=excerpt,
                        asked_at=asked_at,
                        state=OPEN,
                        steps_done=0,
                        next_due=next_due,
                    )
                )
        except IntegrityError:
            return False
        return True

    def answer(
        self, issue: str, person: str, at: float, hours: Callable[[float, float], float]
    ) -> list[Ask]:
        """Close every open ask of `person` on `issue` as answered at `at`; return them.

        `hours(asked_at, at)` measures the response time in the configured clock. Asks made
        after `at` (a reordered webhook) are left open: an answer cannot precede its question.
        """
        with self.store.begin() as db:
            found = [
                _ask(row)
                for row in db.execute(
                    select(asks).where(
                        asks.c.issue == issue,
                        asks.c.asked == person,
                        asks.c.state == OPEN,
                        asks.c.asked_at <= at,
                    )
                )
            ]
            answered = []
            for ask in found:
                closed = replace(
                    ask,
                    state=ANSWERED,
                    closed_at=at,
                    next_due=None,
                    response_hours=hours(ask.asked_at, at),
                )
                result = db.execute(
                    update(asks)
                    .where(asks.c.id == ask.id, asks.c.state == OPEN)
                    .values(
                        state=closed.state,
                        closed_at=closed.closed_at,
                        next_due=None,
                        response_hours=closed.response_hours,
                    )
                )
                if result.rowcount == 1:  # not answered meanwhile by another worker
                    answered.append(closed)
        return answered

    def cancel(
        self,
        issue: str,
        at: float,
        *,
        source: str | None = None,
        source_id: str | None = None,
        keep: Iterable[str] = (),
    ) -> list[Ask]:
        """Cancel open asks on an issue (of one source, except for the people in `keep`); return
        the asks this call cancelled, as they stood."""
        condition = and_(asks.c.issue == issue, asks.c.state == OPEN)
        if source is not None:
            condition = and_(condition, asks.c.source == source)
        if source_id is not None:
            condition = and_(condition, asks.c.source_id == source_id)
        kept = list(keep)
        if kept:
            condition = and_(condition, asks.c.asked.not_in(kept))
        cancelled = []
        with self.store.begin() as db:
            for ask in [_ask(row) for row in db.execute(select(asks).where(condition))]:
                result = db.execute(
                    update(asks)
                    .where(asks.c.id == ask.id, asks.c.state == OPEN)
                    .values(state=CANCELLED, closed_at=at, next_due=None)
                )
                if result.rowcount == 1:  # not closed meanwhile by another worker
                    cancelled.append(ask)
        return cancelled

    def open_on(self, issue: str) -> list[Ask]:
        """The open asks on one issue."""
        with self.store.begin() as db:
            rows = db.execute(select(asks).where(asks.c.issue == issue, asks.c.state == OPEN))
            return [_ask(row) for row in rows]

    def due(self, now: float, limit: int = 1000) -> list[Ask]:
        """Open asks whose next step is due, oldest first: one query on the (state, next_due) index."""
        with self.store.begin() as db:
            rows = db.execute(
                select(asks)
                .where(asks.c.state == OPEN, asks.c.next_due <= now)
                .order_by(asks.c.next_due, asks.c.id)
                .limit(limit)
            ).all()
        return [_ask(row) for row in rows]

    def record_step(self, ask_id: int, step: int, next_due: float | None) -> bool:
        """Record that step `step` was taken; False when it was already (another sweep, a retry)."""
        return ask_id in self.record_steps([(ask_id, step - 1, step, next_due)])

    def record_steps(self, taken: list[tuple[int, int, int, float | None]]) -> set[int]:
        """Record many steps (ask id, steps done before, step taken, next due) in one
        transaction; return the ids recorded. A step may skip rungs whose time passed while no
        sweep ran. Each is conditional on the steps done before, so a step another sweep
        recorded is left alone.
        """
        recorded: set[int] = set()
        if not taken:
            return recorded
        with self.store.begin() as db:
            for ask_id, before, step, due in taken:
                result = db.execute(
                    update(asks)
                    .where(asks.c.id == ask_id, asks.c.state == OPEN, asks.c.steps_done == before)
                    .values(steps_done=step, next_due=due)
                )
                if result.rowcount == 1:
                    recorded.add(ask_id)
        return recorded

    def any_open(self, *, asked: str | None = None, source_id: str | None = None) -> bool:
        """Say whether any open ask waits on this person, or came from this comment (one indexed
        query; lets a delivery that names no issue skip reading it when it cannot matter)."""
        query = select(asks.c.id).where(asks.c.state == OPEN)
        if asked is not None:
            query = query.where(asks.c.asked == asked)
        if source_id is not None:
            query = query.where(asks.c.source == "mention", asks.c.source_id == source_id)
        with self.store.begin() as db:
            return db.execute(query.limit(1)).first() is not None

    def count(
        self,
        *,
        issue: str | None = None,
        asked_by: str | None = None,
        since: float | None = None,
        open_only: bool = False,
    ) -> int:
        """How many asks people's mentions started (on an issue, by a person, since a moment)."""
        query = select(func.count()).select_from(asks).where(asks.c.source == "mention")
        if issue is not None:
            query = query.where(asks.c.issue == issue)
        if asked_by is not None:
            query = query.where(asks.c.asked_by == asked_by)
        if since is not None:
            query = query.where(asks.c.asked_at >= since)
        if open_only:
            query = query.where(asks.c.state == OPEN)
        with self.store.begin() as db:
            return int(db.execute(query).scalar_one())

    def asked_from(self, source_id: str) -> set[str]:
        """The people a comment has already asked (however their asks stand now)."""
        query = select(asks.c.asked).where(
            asks.c.source == "mention", asks.c.source_id == source_id
        )
        with self.store.begin() as db:
            return {str(person) for (person,) in db.execute(query)}

    def by_id(self, ids: Iterable[int]) -> dict[int, Ask]:
        """The asks with these ids (for naming what a sweep did), whatever their state."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        with self.store.begin() as db:
            rows = db.execute(select(asks).where(asks.c.id.in_(wanted))).all()
        return {found.id: found for found in map(_ask, rows)}

    def listing(self, *, state: str | None = OPEN, department: str | None = None) -> list[Ask]:
        """Asks for `crossdept asks`: open ones by default, oldest first."""
        query = select(asks).order_by(asks.c.asked_at, asks.c.id)
        if state is not None:
            query = query.where(asks.c.state == state)
        if department is not None:
            query = query.where(asks.c.department == department)
        with self.store.begin() as db:
            return [_ask(row) for row in db.execute(query).all()]


# Response-time buckets, in hours of the configured clock: 2 h (a simple question), 24 h (a
# progress reply), 48 h (escalation), and around them.
RESPONSE_BUCKETS = (1.0, 2.0, 4.0, 8.0, 24.0, 48.0, 72.0, 120.0)


@dataclass(frozen=True)
class ResponseTimes:
    """Answered asks of one department: cumulative counts per bucket, their sum and count."""

    department: str
    buckets: tuple[int, ...]
    total_hours: float
    count: int


def response_times(
    store: Store, buckets: tuple[float, ...] = RESPONSE_BUCKETS
) -> list[ResponseTimes]:
    """Answered asks per department, aggregated in the database (one query, any number of rows)."""
    department = func.coalesce(asks.c.department, "")
    columns = [func.sum(case((asks.c.response_hours <= bound, 1), else_=0)) for bound in buckets]
    query = (
        select(department, func.sum(asks.c.response_hours), func.count(), *columns)
        .where(asks.c.state == ANSWERED, asks.c.response_hours.is_not(None))
        .group_by(department)
        .order_by(department)
    )
    with store.begin() as db:
        rows = db.execute(query).all()
    return [
        ResponseTimes(
            str(row[0]), tuple(int(n or 0) for n in row[3:]), float(row[1] or 0), int(row[2])
        )
        for row in rows
    ]
