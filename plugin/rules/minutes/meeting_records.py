"""What crossdept remembers about each meeting: its page, its minutes' due time, its actions' items."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Float, Index, Integer, String, Table, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from plugin.spine.store import Store, metadata

# One row per meeting crossdept has seen: when its minutes are due, the page once published.
meetings = Table(
    "meetings",
    metadata,
    Column("meeting_key", String(64), primary_key=True),
    Column("organiser", String(191), nullable=True),
    Column("minutes_due", Float, nullable=True),  # start + minutes_within; None: no start yet
    Column("page_id", String(64), nullable=True),
    Column("page_digest", String(32), nullable=True),
    Column("published_at", Float, nullable=True),
    Column("overdue_asked", Integer, nullable=False, default=0),
    Column("updated_at", Float, nullable=False),
    Column("ends_at", Float, nullable=True),  # its end; None: no start yet
    Column("missed_told", Integer, nullable=True),  # 1 once its organiser heard it was missed
)
Index("meetings_minutes_due", meetings.c.published_at, meetings.c.minutes_due)

# One row per action once crossdept is about to create its item (intent), then the item's key.
meeting_actions = Table(
    "meeting_actions",
    metadata,
    Column("meeting_key", String(64), primary_key=True),
    Column("ref", String(64), primary_key=True),
    Column("summary", String(255), nullable=False),
    Column("issue_key", String(64), nullable=True),
    Column("intended_at", Float, nullable=False),
    Column("removed_reported", Integer, nullable=False, default=0),
)


@dataclass(frozen=True)
class MeetingRecord:
    """A meeting as the store knows it."""

    meeting_key: str
    organiser: str | None
    minutes_due: float | None
    page_id: str | None
    page_digest: str | None
    published_at: float | None
    overdue_asked: int
    ends_at: float | None = None
    missed_told: int | None = None


@dataclass(frozen=True)
class ActionRecord:
    """An action crossdept intended to track, and its item's key once created."""

    ref: str
    summary: str
    issue_key: str | None
    intended_at: float
    removed_reported: int


def _meeting(row: Any) -> MeetingRecord:
    values = dict(row._mapping)
    values.pop("updated_at", None)
    return MeetingRecord(**values)


class MeetingRecords:
    """The meeting tables, behind the verbs the minutes rule uses."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, key: str) -> MeetingRecord | None:
        """The stored meeting, if crossdept has seen it."""
        with self.store.begin() as db:
            row = db.execute(select(meetings).where(meetings.c.meeting_key == key)).first()
        return None if row is None else _meeting(row)

    def note(
        self,
        key: str,
        organiser: str | None,
        minutes_due: float | None,
        now: float,
        ends_at: float | None = None,
    ) -> None:
        """Remember (or update) a meeting's organiser, its end and when its minutes are due."""
        values = {
            "organiser": organiser,
            "minutes_due": minutes_due,
            "ends_at": ends_at,
            "updated_at": now,
        }
        try:
            with self.store.begin() as db:
                db.execute(insert(meetings).values(meeting_key=key, overdue_asked=0, **values))
        except IntegrityError:
            with self.store.begin() as db:
                db.execute(update(meetings).where(meetings.c.meeting_key == key).values(**values))

    def published(self, key: str, page_id: str, page_digest: str, now: float) -> None:
        """Record the page that holds the meeting's minutes (a meeting never seen before too)."""
        values = {
            "page_id": page_id,
            "page_digest": page_digest,
            "published_at": now,
            "updated_at": now,
        }
        with self.store.begin() as db:
            done = db.execute(
                update(meetings).where(meetings.c.meeting_key == key).values(**values)
            )
        if done.rowcount == 0:
            try:
                with self.store.begin() as db:
                    db.execute(insert(meetings).values(meeting_key=key, overdue_asked=0, **values))
            except IntegrityError:  # noted meanwhile by a webhook: update that row
                self.published(key, page_id, page_digest, now)

    def overdue(self, now: float, limit: int = 500) -> list[MeetingRecord]:
        """Meetings whose minutes are past due, unpublished, and not yet made an ask."""
        with self.store.begin() as db:
            rows = db.execute(
                select(meetings)
                .where(
                    meetings.c.published_at.is_(None),
                    meetings.c.minutes_due <= now,
                    meetings.c.overdue_asked == 0,
                )
                .order_by(meetings.c.minutes_due)
                .limit(limit)
            ).all()
        return [_meeting(row) for row in rows]

    def missed(self, before: float, limit: int = 500) -> list[MeetingRecord]:
        """Meetings that ended before `before`, unpublished, whose organiser was not yet told."""
        with self.store.begin() as db:
            rows = db.execute(
                select(meetings)
                .where(
                    meetings.c.published_at.is_(None),
                    meetings.c.ends_at <= before,
                    meetings.c.missed_told.is_(None),
                )
                .order_by(meetings.c.ends_at)
                .limit(limit)
            ).all()
        return [_meeting(row) for row in rows]

    def mark_missed_told(self, key: str) -> bool:
        """Record that the organiser heard the meeting was not held; False when done already."""
        with self.store.begin() as db:
            done = db.execute(
                update(meetings)
                .where(meetings.c.meeting_key == key, meetings.c.missed_told.is_(None))
                .values(missed_told=1)
            )
        return bool(done.rowcount == 1)

    def mark_asked(self, key: str) -> bool:
        """Record that the overdue minutes became an ask; False when another sweep did it first."""
        with self.store.begin() as db:
            done = db.execute(
                update(meetings)
                .where(meetings.c.meeting_key == key, meetings.c.overdue_asked == 0)
                .values(overdue_asked=1)
            )
        return bool(done.rowcount == 1)

    def actions(self, key: str) -> dict[str, ActionRecord]:
        """The meeting's actions crossdept intended or created, by ref."""
        with self.store.begin() as db:
            rows = db.execute(
                select(meeting_actions).where(meeting_actions.c.meeting_key == key)
            ).all()
        return {
            row.ref: ActionRecord(
                row.ref, row.summary, row.issue_key, row.intended_at, row.removed_reported
            )
            for row in rows
        }

    def intend(self, key: str, summaries: Mapping[str, str], now: float) -> None:
        """Record that these actions' items are about to be created (kept if already there)."""
        for ref, summary in summaries.items():
            try:
                with self.store.begin() as db:
                    db.execute(
                        insert(meeting_actions).values(
                            meeting_key=key,
                            ref=ref,
                            summary=summary[:255],
                            intended_at=now,
                            removed_reported=0,
                        )
                    )
            except IntegrityError:
                pass

    def record_created(self, key: str, keys: Mapping[str, str]) -> None:
        """Record the items' keys once Jira created (or the adoption search found) them."""
        with self.store.begin() as db:
            for ref, issue_key in keys.items():
                db.execute(
                    update(meeting_actions)
                    .where(and_(meeting_actions.c.meeting_key == key, meeting_actions.c.ref == ref))
                    .values(issue_key=issue_key)
                )

    def drop_intents(self, key: str, refs: Iterable[str]) -> None:
        """Forget intents that certainly created nothing (Jira refused them)."""
        with self.store.begin() as db:
            for ref in refs:
                db.execute(
                    meeting_actions.delete().where(
                        and_(
                            meeting_actions.c.meeting_key == key,
                            meeting_actions.c.ref == ref,
                            meeting_actions.c.issue_key.is_(None),
                        )
                    )
                )

    def mark_removed_reported(self, key: str, refs: Iterable[str]) -> None:
        """Remember that these actions' removal from the meeting was reported."""
        with self.store.begin() as db:
            for ref in refs:
                db.execute(
                    update(meeting_actions)
                    .where(and_(meeting_actions.c.meeting_key == key, meeting_actions.c.ref == ref))
                    .values(removed_reported=1)
                )
