"""One comment per issue and rule: what crossdept says once is never said again.

Jira redelivers webhooks and workers retry, so a rule that comments must remember what it said.
Each comment a rule posts is recorded by a digest of its text before it is posted (and forgotten
again if posting fails), so a second worker or a redelivery finds it said.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Column, Float, String, Table, and_, insert
from sqlalchemy.exc import IntegrityError

from plugin.ports import JiraPort
from plugin.store import Store, metadata

notices = Table(
    "notices",
    metadata,
    Column("issue_key", String(64), primary_key=True),
    Column("rule", String(32), primary_key=True),
    Column("digest", String(64), primary_key=True),
    Column("said_at", Float, nullable=False),
)


def digest(text: str) -> str:
    """A short fingerprint of a text, to recognise it again."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class Notices:
    """The notices table, behind the one verb rules use."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def comment_once(self, jira: JiraPort, issue: str, rule: str, text: str, now: float) -> bool:
        """Post `text` on `issue` unless this rule said exactly that there before; True if posted."""
        fingerprint = digest(text)
        try:
            with self.store.begin() as db:
                db.execute(
                    insert(notices).values(
                        issue_key=issue, rule=rule, digest=fingerprint, said_at=now
                    )
                )
        except IntegrityError:
            return False
        try:
            jira.add_comment(issue, text)
        except BaseException:
            self._forget(issue, rule, fingerprint)
            raise
        return True

    def forget(self, issue: str, rule: str | None = None) -> None:
        """Forget what was said on an issue (by one rule), e.g. when the issue is not what it was."""
        condition = notices.c.issue_key == issue
        if rule is not None:
            condition = and_(condition, notices.c.rule == rule)
        with self.store.begin() as db:
            db.execute(notices.delete().where(condition))

    def _forget(self, issue: str, rule: str, fingerprint: str) -> None:
        with self.store.begin() as db:
            db.execute(
                notices.delete().where(
                    and_(
                        notices.c.issue_key == issue,
                        notices.c.rule == rule,
                        notices.c.digest == fingerprint,
                    )
                )
            )
