"""One request budget per Jira site, shared by every worker through the store.

Jira Cloud rate-limits per site and answers 429 with Retry-After. Workers on several machines
each pacing themselves would still add up; so each call first takes the next free slot from one
row in the store (`jira_budget`: the site and the earliest moment the next call may go), read
and moved on under a row lock. At `per_second` calls per second the slots are 1/per_second
apart, whoever takes them. A 429's Retry-After (`held_until`) holds back everybody, also a
worker already sleeping for its slot, so no call reaches Jira before it. With no rate set and
no 429 seen, a call only reads the row. A wait longer than MAX_INLINE_WAIT is not slept in the worker: the call fails as transient
with that wait, and the queue runs the job again then, keeping the worker free for other jobs.

A 429 also means the budget is above what Jira allows today (other apps share the site's
limit): each one doubles the gap between slots (`slowdown`, up to MAX_SLOWDOWN), and every call
that gets its slot shrinks it again by SPEED_UP, so the pace settles just under Jira's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Column, Float, String, Table, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from plugin.spine.errors import NotYetError
from plugin.spine.store import Store, metadata

MAX_INLINE_WAIT = 2.0  # seconds a call may wait for its slot in the worker thread
MAX_SLOWDOWN = 64.0  # at most this many times the configured gap between calls
SPEED_UP = 0.95  # each call taken shrinks the slowdown by this factor, back to 1
PROBE_INTERVAL = 0.05  # the gap a slowdown multiplies when no CROSSDEPT_JIRA_MAX_RPS is set

jira_budget = Table(
    "jira_budget",
    metadata,
    Column("site", String(191), primary_key=True),
    Column("next_free", Float, nullable=False),
    Column("slowdown", Float, nullable=True),  # None (older stores) means 1
    Column("held_until", Float, nullable=True),  # Jira's last Retry-After runs until then
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
        columns = select(row.next_free, row.slowdown, row.held_until).where(row.site == self.site)
        if not self.interval:
            # No pace set: unless Jira's 429s slowed the site down, there is no slot to take,
            # only a Retry-After to respect, and a plain read (no lock, no write) tells it.
            with self.store.begin() as db:
                found = db.execute(columns).first()
            if found is not None and found.slowdown is None:
                held = max(float(found.held_until or 0.0), now)
                self._refuse_long_waits(held, now)
                return self._wait_for(held, now)
        with self.store.write() as db:
            # The row stays locked until the slot is written, so no two callers share a slot.
            found = db.execute(columns.with_for_update()).first()
            if found is None:
                start = None
            else:
                start = max(float(found.next_free), float(found.held_until or 0.0), now)
                self._refuse_long_waits(start, now)
                slowdown = float(found.slowdown or 1.0)
                faster = slowdown * SPEED_UP
                db.execute(
                    update(jira_budget)
                    .where(row.site == self.site)
                    .values(
                        next_free=start + self._gap(slowdown),
                        slowdown=faster if faster > 1.0 else None,
                    )
                )
        if start is None:
            if self._create(now + self.interval):
                return 0.0
            return self.take()  # another worker made the row a moment ago: take a slot in it
        return self._wait_for(start, now)

    def reserve(self) -> float:
        """Take the next slot however far off it is and return when it starts, for work that
        comes back at its slot instead of waiting in a worker: callers queue in slot order
        rather than all asking again each time a slot frees."""
        now = self.clock()
        row = jira_budget.c
        columns = select(row.next_free, row.slowdown, row.held_until).where(row.site == self.site)
        with self.store.write() as db:
            found = db.execute(columns.with_for_update()).first()
            if found is not None:
                start = max(float(found.next_free), float(found.held_until or 0.0), now)
                db.execute(
                    update(jira_budget)
                    .where(row.site == self.site)
                    .values(next_free=start + self._gap(float(found.slowdown or 1.0)))
                )
                return start
        if self._create(now + self.interval):
            return now
        return self.reserve()  # another worker made the row a moment ago

    def _refuse_long_waits(self, start: float, now: float) -> None:
        if start - now > MAX_INLINE_WAIT:
            raise NotYetError(
                f"request budget: the next call to {self.site} may go in {start - now:.1f} s",
                retry_after=start - now,
                status=429,
            )

    def _wait_for(self, start: float, now: float) -> float:
        """Sleep until the slot at `start`, then out any Retry-After learnt meanwhile."""
        wait = start - now
        if wait <= 0:
            return 0.0  # nothing slept: the hold read above is still the latest
        self.sleep(wait)
        return wait + self._wait_out_hold(start)

    def _wait_out_hold(self, slot: float) -> float:
        """Sleep out a Retry-After another worker learnt while this one waited for its slot."""
        waited = 0.0
        for _ in range(3):
            with self.store.begin() as db:
                held = db.execute(
                    select(jira_budget.c.held_until).where(jira_budget.c.site == self.site)
                ).scalar()
            if held is None or float(held) <= slot:
                break
            slot = float(held)
            left = slot - self.clock()
            if left <= 0:
                break
            if left > MAX_INLINE_WAIT:
                raise NotYetError(
                    f"Jira budget: {self.site} asked to wait {left:.1f} s more",
                    retry_after=left,
                    status=429,
                )
            self.sleep(left)
            waited += left
        return waited

    def _gap(self, slowdown: float) -> float:
        """Seconds between two slots: the configured gap, stretched after Jira's 429s."""
        if slowdown <= 1.0:
            return self.interval
        return max(self.interval, PROBE_INTERVAL) * slowdown

    def hold_off(self, seconds: float, *, slow_down: bool = False) -> None:
        """No call to this site before `seconds` from now (Jira said Retry-After); with
        `slow_down` (a 429: more than Jira allows) also double the gap between calls."""
        until = self.clock() + seconds
        row = jira_budget.c
        values: dict[str, Any] = {
            "next_free": case((row.next_free < until, until), else_=row.next_free),
            "held_until": case(
                (func.coalesce(row.held_until, 0.0) < until, until), else_=row.held_until
            ),
        }
        if slow_down:
            doubled = func.coalesce(row.slowdown, 1.0) * 2.0
            values["slowdown"] = case((doubled < MAX_SLOWDOWN, doubled), else_=MAX_SLOWDOWN)
        for _ in range(2):  # a second time if another worker made the row meanwhile
            with self.store.write() as db:
                moved = db.execute(
                    update(jira_budget).where(row.site == self.site).values(**values)
                )
            if moved.rowcount or self._create(
                until, slowdown=2.0 if slow_down else None, held_until=until
            ):
                return

    def _create(
        self, next_free: float, *, slowdown: float | None = None, held_until: float | None = None
    ) -> bool:
        """Make the site's row; False when another worker made it first (its slot stands)."""
        try:
            with self.store.begin() as db:
                db.execute(
                    insert(jira_budget).values(
                        site=self.site,
                        next_free=next_free,
                        slowdown=slowdown,
                        held_until=held_until,
                    )
                )
        except IntegrityError:
            return False
        return True
