"""The audit trail: every enforcement is one row (when, issue, rule, what crossdept did, and why).

`crossdept audit [ISSUE-KEY] [--since ISO] [--json]` prints it, so an admin can answer "why did
crossdept comment on (or change) my issue?" without reading logs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text, func, insert, select

from plugin.spine.store import Store, metadata

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("issue", String(64), nullable=False),
    Column("rule", String(32), nullable=False),
    Column("action", String(64), nullable=False),
    Column("detail", Text, nullable=True),
    # What caused it: the webhook delivery's key, `periodic:<name>`, or `cli-...`.
    Column("cause", String(255), nullable=True),
)
Index("audit_issue_at", audit.c.issue, audit.c.at)


@dataclass(frozen=True)
class AuditEntry:
    """One enforcement."""

    id: int
    at: float
    issue: str
    rule: str
    action: str
    detail: str | None
    cause: str | None


class Audit:
    """The audit table, behind the verbs rules and the command use."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(
        self,
        at: float,
        issue: str,
        rule: str,
        action: str,
        detail: str | None = None,
        cause: str | None = None,
    ) -> None:
        """Add one row."""
        with self.store.begin() as db:
            db.execute(
                insert(audit).values(
                    at=at, issue=issue, rule=rule, action=action, detail=detail, cause=cause
                )
            )

    def record_many(self, rows: list[tuple[float, str, str, str, str | None, str | None]]) -> None:
        """Add rows (at, issue, rule, action, detail, cause) in one transaction."""
        if not rows:
            return
        names = ("at", "issue", "rule", "action", "detail", "cause")
        with self.store.begin() as db:
            db.execute(insert(audit), [dict(zip(names, row, strict=True)) for row in rows])

    def entries(
        self, issue: str | None = None, since: float | None = None, limit: int = 1000
    ) -> list[AuditEntry]:
        """Rows oldest first, for one issue (any case) and/or since a time."""
        query = select(audit).order_by(audit.c.at, audit.c.id).limit(limit)
        if issue is not None:
            query = query.where(func.upper(audit.c.issue) == issue.upper())
        if since is not None:
            query = query.where(audit.c.at >= since)
        with self.store.begin() as db:
            rows = db.execute(query).all()
        return [AuditEntry(**dict(row._mapping)) for row in rows]
