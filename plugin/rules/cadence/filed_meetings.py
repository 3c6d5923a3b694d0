"""What crossdept remembers of each meeting it files: the intent before the create call, then
the meeting's key, or Jira's reason for refusing it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Column, Float, String, Table, Text, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from plugin.atlassian.ports import NewIssue
from plugin.spine.store import Store, metadata

# One row per meeting crossdept meant to file (weekly:<request>:<week>, goal:<set>:<month>).
filed_meetings = Table(
    "filed_meetings",
    metadata,
    Column("ref", String(191), primary_key=True),
    Column("starts_at", Float, nullable=False),
    Column("intended_at", Float, nullable=True),  # set just before its create call
    Column("issue_key", String(64), nullable=True),  # the meeting, once created or adopted
    Column("refused", Text, nullable=True),  # Jira's reason, when it refused to create it
    Column("skipped", String(32), nullable=True),  # "done": its request was done by then
)


@dataclass(frozen=True)
class FiledMeeting:
    """A meeting as the store keeps it."""

    ref: str
    starts_at: float
    intended_at: float | None
    issue_key: str | None
    refused: str | None
    skipped: str | None = None

    @property
    def settled(self) -> bool:
        """Filed (or found filed), refused or skipped: nothing more to do."""
        return any(value is not None for value in (self.issue_key, self.refused, self.skipped))


class FiledMeetings:
    """The filed_meetings table; also the intents of plugin.process.creation for its meetings."""

    def __init__(self, store: Store, starts_at: Mapping[str, float] | None = None) -> None:
        self.store = store
        self.starts_at = dict(starts_at or {})  # the meetings about to be created, by ref

    def get(self, ref: str) -> FiledMeeting | None:
        """What crossdept did about this meeting, if anything."""
        with self.store.begin() as db:
            row = db.execute(select(filed_meetings).where(filed_meetings.c.ref == ref)).first()
        return None if row is None else FiledMeeting(**dict(row._mapping))

    def settled(self, ref: str) -> bool:
        """Whether this meeting was filed (or found filed), refused or skipped."""
        row = self.get(ref)
        return row is not None and row.settled

    def refused_before(self, prefix: str) -> bool:
        """Whether Jira refused a meeting whose ref starts so (a request's weekly meetings)."""
        pattern = prefix.replace("\\", "").replace("%", "").replace("_", "\\_") + "%"
        with self.store.begin() as db:
            row = db.execute(
                select(filed_meetings.c.ref).where(
                    filed_meetings.c.ref.like(pattern, escape="\\"),
                    filed_meetings.c.refused.is_not(None),
                )
            ).first()
        return row is not None

    def intend(self, issues: Mapping[str, NewIssue], now: float) -> None:
        """Record, before the create call, the meetings about to be created."""
        for ref in issues:
            values = {"intended_at": now, "starts_at": self.starts_at.get(ref, now)}
            try:
                with self.store.begin() as db:
                    db.execute(insert(filed_meetings).values(ref=ref, **values))
            except IntegrityError:
                with self.store.begin() as db:
                    db.execute(
                        update(filed_meetings).where(filed_meetings.c.ref == ref).values(**values)
                    )

    def created(self, keys: Mapping[str, str], now: float) -> None:
        """Record the meetings Jira created (or the adoption search found)."""
        with self.store.begin() as db:
            for ref, key in keys.items():
                db.execute(
                    update(filed_meetings).where(filed_meetings.c.ref == ref).values(issue_key=key)
                )

    def forget(self, refs: Sequence[str]) -> None:
        """Drop intents that certainly created nothing."""
        if not refs:
            return
        with self.store.begin() as db:
            db.execute(
                delete(filed_meetings).where(
                    filed_meetings.c.ref.in_(list(refs)), filed_meetings.c.issue_key.is_(None)
                )
            )

    def skip(self, ref: str, starts_at: float, why: str) -> None:
        """Remember a meeting not to file (its request is done), so its request is not read
        again at every sweep of the filing window."""
        try:
            with self.store.begin() as db:
                db.execute(insert(filed_meetings).values(ref=ref, starts_at=starts_at, skipped=why))
        except IntegrityError:
            pass  # an intent or a refusal is already there: it says more

    def refuse(self, ref: str, starts_at: float, reason: str) -> None:
        """Record Jira's refusal, so the meeting is not attempted again every sweep."""
        try:
            with self.store.begin() as db:
                db.execute(
                    insert(filed_meetings).values(ref=ref, starts_at=starts_at, refused=reason)
                )
        except IntegrityError:
            with self.store.begin() as db:
                db.execute(
                    update(filed_meetings)
                    .where(filed_meetings.c.ref == ref)
                    .values(refused=reason, intended_at=None)
                )
