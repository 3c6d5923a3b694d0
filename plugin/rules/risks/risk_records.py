"""What crossdept remembers of each risk warning: what the owner said, and the item it filed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Float, Index, String, Table, Text, insert, select, update
from sqlalchemy.exc import IntegrityError

from plugin.rules.risks.warning import RiskWarning
from plugin.spine.store import Store, metadata

# One row per warning (a comment on an item): what it says, then its 《风险预警表》's key.
risk_warnings = Table(
    "risk_warnings",
    metadata,
    Column("ref", String(191), primary_key=True),  # risk:<item key>:<comment id>
    Column("request_key", String(64), nullable=False),
    Column("item_key", String(64), nullable=False),
    Column("raised_by", String(191), nullable=False),
    Column("raised_at", Float, nullable=False),
    Column("level", String(64), nullable=False),
    Column("kind", Text, nullable=False),
    Column("impact", Text, nullable=False),
    Column("plan", Text, nullable=False),
    Column("trigger", Text, nullable=False),
    Column("issue_key", String(64), nullable=True),  # the 《风险预警表》 item, once created
    Column("intended_at", Float, nullable=True),  # set just before its create call
)
Index("risk_warnings_request", risk_warnings.c.request_key)


@dataclass(frozen=True)
class RiskRecord:
    """A warning as the store keeps it."""

    ref: str
    request_key: str
    item_key: str
    raised_by: str
    raised_at: float
    level: str
    kind: str
    impact: str
    plan: str
    trigger: str
    issue_key: str | None
    intended_at: float | None

    @property
    def warning(self) -> RiskWarning:
        """What the owner said."""
        return RiskWarning(self.kind, self.impact, self.plan, self.level, self.trigger)


def _record(row: Any) -> RiskRecord:
    return RiskRecord(**dict(row._mapping))


class RiskRecords:
    """The risk_warnings table, behind the verbs the risks rule and the register use."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, ref: str) -> RiskRecord | None:
        """The stored warning, if crossdept has read it before."""
        with self.store.begin() as db:
            row = db.execute(select(risk_warnings).where(risk_warnings.c.ref == ref)).first()
        return None if row is None else _record(row)

    def note(
        self,
        ref: str,
        *,
        request_key: str,
        item_key: str,
        raised_by: str,
        raised_at: float,
        warning: RiskWarning,
    ) -> RiskRecord:
        """Keep what a warning says, once; the row already kept when it is read again."""
        values = {
            "request_key": request_key,
            "item_key": item_key,
            "raised_by": raised_by,
            "raised_at": raised_at,
            "level": warning.level,
            "kind": warning.kind,
            "impact": warning.impact,
            "plan": warning.plan,
            "trigger": warning.trigger,
        }
        try:
            with self.store.begin() as db:
                db.execute(insert(risk_warnings).values(ref=ref, **values))
        except IntegrityError:
            pass  # a repeated delivery: the first reading stands
        found = self.get(ref)
        assert found is not None
        return found

    def intend(self, ref: str, now: float) -> None:
        """Record, before the create call, that the warning's item is about to be created."""
        with self.store.begin() as db:
            db.execute(
                update(risk_warnings).where(risk_warnings.c.ref == ref).values(intended_at=now)
            )

    def created(self, keys: Mapping[str, str]) -> None:
        """Record the 《风险预警表》 items Jira created (or the adoption search found), by ref."""
        with self.store.begin() as db:
            for ref, key in keys.items():
                db.execute(
                    update(risk_warnings).where(risk_warnings.c.ref == ref).values(issue_key=key)
                )

    def forget(self, refs: Sequence[str]) -> None:
        """Drop intents that certainly created nothing."""
        with self.store.begin() as db:
            db.execute(
                update(risk_warnings)
                .where(risk_warnings.c.ref.in_(list(refs)), risk_warnings.c.issue_key.is_(None))
                .values(intended_at=None)
            )

    def of_request(self, request_key: str) -> list[RiskRecord]:
        """The request's warnings that have their item, oldest first: its risk register."""
        with self.store.begin() as db:
            rows = db.execute(
                select(risk_warnings)
                .where(
                    risk_warnings.c.request_key == request_key,
                    risk_warnings.c.issue_key.is_not(None),
                )
                .order_by(risk_warnings.c.raised_at, risk_warnings.c.ref)
            ).all()
        return [_record(row) for row in rows]
