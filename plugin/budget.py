"""One request budget per Jira site, shared by every worker through the store.

Jira Cloud rate-limits per site and answers 429 with Retry-After. Workers on several machines
each pacing themselves would still add up; so each call first takes the next free slot from one
row in the store (`jira_budget`: the site and the earliest moment the next call may go), in one
atomic UPDATE. At `per_second` calls per second the slots are 1/per_second apart, whoever takes
them. A 429's Retry-After moves the row forward for everybody, so no call reaches Jira before
it. A wait longer than MAX_INLINE_WAIT is not slept in the worker: the call fails as transient
with that wait, and the queue runs the job again then, keeping the worker free for other jobs.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Column, Float, String, Table, case, insert, select, update
from sqlalchemy.exc import IntegrityError

from plugin.errors import NotYetError
from plugin.store import Store, metadata

MAX_INLINE_WAIT = 2.0  # seconds a call may wait for its slot in the worker thread

jira_budget = Table(
    "jira_budget",
    metadata,
    Column("site", String(191), primary_key=True),
    Column("next_free", Float, nullable=False),
)


class RequestBudget:
    """Slots for calls to one Jira site, `per_second` of them, shared through the store."""

    def __init__(
        self,
        store: Store,
        site: str,
        per_second: float | None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.site = site
        self.interval = 1.0 / per_second if per_second else 0.0
        self.clock = clock
        self.sleep = sleep

    def take(self) -> float:
        """Wait for this call's slot; return how long it waited. Raise when it is too far off."""
        now = self.clock()
        row = jira_budget.c
        with self.store.begin() as db:
            taken = db.execute(
                update(jira_budget)
                .where(row.site == self.site, row.next_free - now <= MAX_INLINE_WAIT)
                .values(
                    next_free=case((row.next_free > now, row.next_free), else_=now) + self.interval
                )
                .returning(row.next_free)
            ).scalar()
            if taken is None:
                ahead = db.execute(select(row.next_free).where(row.site == self.site)).scalar()
        if taken is None:
            if ahead is None:
                self._create(now + self.interval)
                return 0.0
            raise NotYetError(
                f"Jira budget: the next call to {self.site} may go in {ahead - now:.1f} s",
                retry_after=ahead - now,
                status=429,
            )
        wait = float(taken) - self.interval - now
        if wait > 0:
            self.sleep(wait)
            return wait
        return 0.0

    def hold_off(self, seconds: float) -> None:
        """No call to this site before `seconds` from now (Jira said Retry-After)."""
        until = self.clock() + seconds
        row = jira_budget.c
        with self.store.begin() as db:
            moved = db.execute(
                update(jira_budget)
                .where(row.site == self.site, row.next_free < until)
                .values(next_free=until)
            )
            exists = (
                moved.rowcount or db.execute(select(row.site).where(row.site == self.site)).first()
            )
        if not exists:
            self._create(until)

    def _create(self, next_free: float) -> None:
        try:
            with self.store.begin() as db:
                db.execute(insert(jira_budget).values(site=self.site, next_free=next_free))
        except IntegrityError:
            pass  # another worker made the row first: its slot stands
