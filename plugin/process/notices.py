"""One comment per issue and rule: what crossdept says once is never said again.

Two kinds. `Notices.comment_once` posts a text once ever (a problem that blocks a tree): each
text is recorded by digest before it is posted, and forgotten if posting fails. `RuleComments`
keeps one living comment per issue and rule (a rule the issue breaks), edited as things change,
whose id Jira itself holds in the issue property `crossdept.comments`, so crossdept finds it
again after a restart or with a new store.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Float, String, Table, and_, insert, select
from sqlalchemy.exc import IntegrityError

from plugin.atlassian.ports import JiraPort
from plugin.spine.errors import RefusedError
from plugin.spine.store import Store, metadata

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
        if not self.first_time(issue, rule, text, now):
            return False
        fingerprint = digest(text)
        try:
            jira.add_comment(issue, text)
        except BaseException:
            self._forget(issue, rule, fingerprint)
            raise
        return True

    def first_time(self, issue: str, rule: str, text: str, now: float) -> bool:
        """Record that this rule meets `text` on `issue`; True only the first time (across
        every worker: the row is unique), for what must happen once however often it is met."""
        try:
            with self.store.begin() as db:
                db.execute(
                    insert(notices).values(
                        issue_key=issue, rule=rule, digest=digest(text), said_at=now
                    )
                )
        except IntegrityError:
            return False
        return True

    def has_said(self, issue: str, rule: str, text: str) -> bool:
        """Say whether this rule said exactly this on the issue before (for dry runs)."""
        with self.store.begin() as db:
            found = db.execute(
                select(notices.c.said_at).where(
                    and_(
                        notices.c.issue_key == issue,
                        notices.c.rule == rule,
                        notices.c.digest == digest(text),
                    )
                )
            ).first()
        return found is not None

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


COMMENTS_PROPERTY = "crossdept.comments"


@dataclass(frozen=True)
class KeptComment:
    """The living comment of one rule on one issue, as the issue property records it.

    `topics` names what the comment is about (e.g. the checks an item broke), so the rule can
    say later what was fixed.
    """

    id: str
    digest: str
    open: bool
    topics: tuple[str, ...] = ()


def kept_comments(issue: Mapping[str, Any]) -> dict[str, KeptComment]:
    """Every rule's comment recorded on an issue read with `crossdept.comments`, by rule."""
    raw = (issue.get("properties") or {}).get(COMMENTS_PROPERTY)
    found: dict[str, KeptComment] = {}
    if isinstance(raw, Mapping):
        for rule, entry in raw.items():
            if isinstance(entry, Mapping) and entry.get("id"):
                topics = entry.get("topics")
                found[str(rule)] = KeptComment(
                    str(entry["id"]),
                    str(entry.get("digest", "")),
                    bool(entry.get("open", True)),
                    tuple(str(t) for t in topics) if isinstance(topics, list) else (),
                )
    return found


def find_own_comment(jira: JiraPort, key: str, marker: str) -> str | None:
    """The id of crossdept's own comment on an issue that ends with `(marker)`, if there is one.

    Finds a comment posted just before a crash, before its id was recorded anywhere. The marker
    stands in the comment's last line in parentheses (full-width in Chinese), so `tree:XD-1`
    never matches `tree:XD-10`.
    """
    pattern = re.compile(re.escape(marker) + "[)）]")
    me = jira.myself()
    for comment in jira.list_comments(key):
        author = comment.get("author") or {}
        if pattern.search(str(comment.get("body", ""))) and me in (
            author.get("accountId"),
            author.get("name"),
            author.get("key"),
        ):
            return str(comment["id"])
    return None


class RuleComments:
    """One comment per issue and rule, posted once and edited after; never a second one."""

    def __init__(self, jira: JiraPort) -> None:
        self.jira = jira

    def show(
        self,
        issue: Mapping[str, Any],
        rule: str,
        text: str,
        marker: str,
        topics: tuple[str, ...] = (),
    ) -> str:
        """Make the rule's comment say `text`: "posted", "edited" or "unchanged".

        `marker` is a string only this rule's comment on this issue contains (its last line),
        used to find a comment posted just before a crash, before its id was recorded.
        """
        key = str(issue["key"])
        comments = kept_comments(issue)
        kept = comments.get(rule)
        fingerprint = digest(text)
        if kept is not None and kept.digest == fingerprint and kept.open:
            return "unchanged"
        comment_id = kept.id if kept is not None else find_own_comment(self.jira, key, marker)
        action = "edited"
        if comment_id is not None:
            try:
                self.jira.edit_comment(key, comment_id, text)
            except RefusedError as error:
                if error.status != 404:
                    raise
                comment_id = None  # a person deleted it: the rule speaks again
        if comment_id is None:
            comment_id = self.jira.add_comment(key, text)
            action = "posted"
        if kept is not None and kept.open:  # still the same episode: remember all it covered
            topics = tuple(dict.fromkeys(kept.topics + topics))
        comments[rule] = KeptComment(comment_id, fingerprint, True, topics)
        self._record(issue, comments)
        return action

    def close(self, issue: Mapping[str, Any], rule: str, text: str) -> bool:
        """Turn an open comment into `text` (the issue is fixed); False when there was none open."""
        key = str(issue["key"])
        comments = kept_comments(issue)
        kept = comments.get(rule)
        if kept is None or not kept.open:
            return False
        try:
            self.jira.edit_comment(key, kept.id, text)
        except RefusedError as error:
            if error.status != 404:
                raise
        comments[rule] = KeptComment(kept.id, digest(text), False, kept.topics)
        self._record(issue, comments)
        return True

    def _record(self, issue: Mapping[str, Any], comments: Mapping[str, KeptComment]) -> None:
        """Write the record to Jira, and into `issue` as read, so a second rule speaking on the
        same issue in the same job keeps this one's entry."""
        value = {
            rule: {
                "id": kept.id,
                "digest": kept.digest,
                "open": kept.open,
                "topics": list(kept.topics),
            }
            for rule, kept in sorted(comments.items())
        }
        self.jira.set_issue_property(str(issue["key"]), COMMENTS_PROPERTY, value)
        if isinstance(issue, dict):
            issue.setdefault("properties", {})[COMMENTS_PROPERTY] = value
