"""Accepted webhook deliveries: stored first, claimed with a lease, finished with an outcome.

The deliveries table is the source of truth for every webhook crossdept accepted, whatever the
queue transport holds (see plugin.spine.queue): the web process inserts a row, workers claim it with a
conditional UPDATE and a lease, and record how it ended.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError

from plugin.spine.store import Store, metadata

# One row per accepted webhook delivery: the source of truth, whatever the queue transport holds.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # The delivery key (Jira's X-Atlassian-Webhook-Identifier or a digest): duplicates collide here.
    Column("key", String(255), nullable=False, unique=True),
    Column("event", String(100), nullable=False),
    Column("issue", String(100), nullable=True),
    Column("body", LargeBinary, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    # Times are Unix seconds (floats): portable across SQLite and PostgreSQL, cheap to compare.
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("run_after", Float, nullable=False),
    Column("lease_until", Float, nullable=True),
    Column("owner", String(200), nullable=True),
    # When the id was handed to the queue transport; NULL for a delivery the web just stored.
    Column("sent_at", Float, nullable=True),
    # How a finished delivery ended, for people: "done", "skipped: own event", "skipped: no rule".
    Column("outcome", String(64), nullable=True),
    # SHA-256 of the signed body: the same body under a fresh identifier is a replay, not news.
    Column("digest", String(64), nullable=True),
)
Index("deliveries_digest", deliveries.c.digest, unique=True)
Index("deliveries_state_updated", deliveries.c.state, deliveries.c.updated_at)
# Only the deliveries not yet handed to the transport: what the feeder polls for, kept tiny.
Index(
    "deliveries_unsent",
    deliveries.c.id,
    sqlite_where=deliveries.c.sent_at.is_(None),
    postgresql_where=deliveries.c.sent_at.is_(None),
)


# How a delivery ended, beside its state (see `Delivery.outcome`).
DONE = "done"
SKIPPED_OWN_EVENT = "skipped: own event"
SKIPPED_NO_RULE = "skipped: no rule"


class DeliveryState(StrEnum):
    """Where a delivery is: waiting (or waiting for a retry), being processed, or finished."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    """One accepted webhook delivery and its processing state."""

    id: int
    key: str
    event: str
    issue: str | None
    state: DeliveryState
    attempts: int
    last_error: str | None
    created_at: float
    updated_at: float
    run_after: float
    lease_until: float | None
    owner: str | None
    body: bytes = b""
    sent_at: float | None = None
    outcome: str | None = None
    digest: str | None = None

    def describe(self, now: float) -> str:
        """Say how it went, for people: done, skipped and why, retrying and when, failed."""
        if self.state == DeliveryState.DONE:
            return self.outcome or DONE
        if self.state == DeliveryState.QUEUED and self.attempts > 0:
            wait = self.run_after - now
            return f"retrying in {format_age(wait)}" if wait >= 1 else "retrying"
        return self.state.value


def format_age(seconds: float) -> str:
    """Say how long something is in one short unit: 45s, 12m, 5h, 3d."""
    seconds = max(seconds, 0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


@dataclass(frozen=True)
class Batch:
    """What a feeder took: deliveries to enqueue, and those it finished as needing no work."""

    to_enqueue: list[int]
    finished: list[int]


_SUMMARY_COLUMNS = [c for c in deliveries.c if c.name != "body"]


def _to_delivery(row: Any) -> Delivery:
    values = dict(row._mapping)
    values["state"] = DeliveryState(values["state"])
    values["body"] = bytes(values.get("body") or b"")
    return Delivery(**values)


# The two statements every job runs, built once: executed with parameters, SQLAlchemy reuses
# their compiled form instead of building and compiling a statement per job.
_CLAIM = (
    update(deliveries)
    .where(
        deliveries.c.id == bindparam("b_id"),
        (
            (deliveries.c.state == DeliveryState.QUEUED.value)
            & (deliveries.c.run_after <= bindparam("b_now"))
        )
        | (
            (deliveries.c.state == DeliveryState.RUNNING.value)
            & (deliveries.c.lease_until < bindparam("b_now"))
        ),
    )
    .values(
        state=DeliveryState.RUNNING.value,
        attempts=deliveries.c.attempts + 1,
        lease_until=bindparam("b_lease"),
        owner=bindparam("b_owner"),
        updated_at=bindparam("b_now"),
    )
    .returning(*deliveries.c)
)
_FINISH = (
    update(deliveries)
    .where(
        deliveries.c.id == bindparam("b_id"),
        deliveries.c.owner == bindparam("b_owner"),
        deliveries.c.state == DeliveryState.RUNNING.value,
    )
    .values(
        state=DeliveryState.DONE.value,
        outcome=bindparam("b_outcome"),
        last_error=None,
        lease_until=None,
        updated_at=bindparam("b_now"),
    )
)

# The one statement on the webhook's hot path, in SQLite's own dialect: run straight on the
# DBAPI connection, it costs a fraction of building and compiling a SQLAlchemy statement.
_SQLITE_INSERT = (
    "INSERT INTO deliveries"
    " (key, event, issue, body, state, attempts, created_at, updated_at, run_after, digest)"
    " VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?)"
    " ON CONFLICT DO NOTHING RETURNING id"
)


class Deliveries:
    """The deliveries table: accept, claim with a lease, and record how processing ended."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self._local = threading.local()
        dialect = store.engine.dialect.name
        self._insert_ignoring_duplicates: Any
        if dialect == "postgresql":
            # Built once; executed with a parameter dict, its compiled form is cached.
            self._insert_ignoring_duplicates = (
                postgresql.insert(deliveries)
                .on_conflict_do_nothing()  # the key's or the digest's: either is a duplicate
                .returning(deliveries.c.id)
            )
        else:  # SQLite takes the raw path; any other database raises IntegrityError instead.
            self._insert_ignoring_duplicates = None

    def add(
        self, key: str, event: str, issue: str | None, body: bytes, digest: str | None = None
    ) -> int | None:
        """Store a new delivery as queued and return its id; None when the key (or the body's
        digest) was seen before.

        Committed when this returns. The delivery is not yet in the queue transport: the
        worker's feeder hands it over (`take_batch`).
        """
        now = self.clock()
        queued = DeliveryState.QUEUED.value
        if self.store.is_sqlite:
            return self._add_to_sqlite((key, event, issue, body, queued, now, now, now, digest))
        values = {
            "key": key,
            "event": event,
            "issue": issue,
            "body": body,
            "state": queued,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
            "run_after": now,
            "digest": digest,
        }
        if self._insert_ignoring_duplicates is None:
            try:
                with self.store.write() as connection:
                    result = connection.execute(insert(deliveries), values)
                    primary_key = result.inserted_primary_key
                    assert primary_key is not None
                    return int(primary_key[0])
            except IntegrityError:
                return None
        with self.store.write() as connection:
            new_id = connection.execute(self._insert_ignoring_duplicates, values).scalar()
        return None if new_id is None else int(new_id)

    def _add_to_sqlite(self, parameters: tuple[Any, ...]) -> int | None:
        connection = self._hot_connection()
        try:
            with self.store.write_lock:
                cursor = connection.execute(_SQLITE_INSERT, parameters)
                rows = cursor.fetchall()
                connection.commit()
        except BaseException:
            self._drop_hot_connection()
            raise
        return int(rows[0][0]) if rows else None

    def _hot_connection(self) -> Any:
        """This thread's sqlite3 connection for `add`: checked out of the pool once, then kept.

        Checking a connection out of the pool and back in costs as much as the INSERT itself.
        Keyed by process too, so a connection never crosses a fork.
        """
        held = getattr(self._local, "connection", None)
        if held is not None and held[0] == os.getpid():
            return held[1].dbapi_connection
        pooled = self.store.engine.raw_connection()
        self._local.connection = (os.getpid(), pooled)
        return pooled.dbapi_connection

    def _drop_hot_connection(self) -> None:
        held = getattr(self._local, "connection", None)
        self._local.connection = None
        if held is not None and held[0] == os.getpid():
            held[1].invalidate()  # closes it; never reused after a failure

    def take_batch(self, limit: int, *, needs_work: Callable[[str], bool] | None = None) -> Batch:
        """Take up to `limit` deliveries not yet handed to the transport, marking them sent.

        With `needs_work` (event name -> whether any rule handles it), deliveries of events no
        rule handles are marked done in the same transaction, as the worker would have after
        parsing them; the rest are for the caller to enqueue. Looks before it writes, so an
        idle poll never takes SQLite's write lock. With several feeders (several workers),
        the conditional UPDATEs give each delivery to one of them.
        """
        unsent = deliveries.c.sent_at.is_(None)
        with self.store.begin() as connection:
            candidates = connection.execute(
                select(deliveries.c.id, deliveries.c.event)
                .where(unsent)
                .order_by(deliveries.c.id)
                .limit(limit)
            ).all()
        if not candidates:
            return Batch([], [])
        idle = [] if needs_work is None else [r.id for r in candidates if not needs_work(r.event)]
        now = self.clock()
        queued = DeliveryState.QUEUED.value
        with self.store.write() as connection:
            if idle:
                connection.execute(
                    update(deliveries)
                    .where(deliveries.c.id.in_(idle), unsent, deliveries.c.state == queued)
                    .values(state=DeliveryState.DONE.value, outcome=SKIPPED_NO_RULE, updated_at=now)
                )
            taken = connection.execute(
                update(deliveries)
                .where(deliveries.c.id.in_([row.id for row in candidates]), unsent)
                .values(sent_at=now, updated_at=now)
                .returning(deliveries.c.id, deliveries.c.state)
            ).all()
        done = DeliveryState.DONE.value
        return Batch(
            to_enqueue=sorted(int(row.id) for row in taken if row.state == queued),
            finished=sorted(int(row.id) for row in taken if row.state == done and row.id in idle),
        )

    def get(self, delivery_id: int) -> Delivery | None:
        """Read one delivery, body included."""
        with self.store.begin() as connection:
            row = connection.execute(
                select(deliveries).where(deliveries.c.id == delivery_id)
            ).first()
        return None if row is None else _to_delivery(row)

    def claim(self, delivery_id: int, owner: str, lease_s: float) -> Delivery | None:
        """Take a due delivery for processing (one attempt more); None if it is not ours to run.

        A delivery can be claimed when it is queued and due, or running with an expired lease
        (its worker died). The conditional UPDATE makes duplicate queue messages harmless.
        """
        now = self.clock()
        parameters = {"b_id": delivery_id, "b_now": now, "b_lease": now + lease_s, "b_owner": owner}
        with self.store.write() as connection:
            row = connection.execute(_CLAIM, parameters).first()
        return None if row is None else _to_delivery(row)

    def heartbeat(self, delivery_id: int, owner: str, lease_s: float) -> bool:
        """Extend our lease on a running delivery; False if it is no longer ours."""
        return self._update_own_running(delivery_id, owner, lease_until=self.clock() + lease_s)

    def _update_own_running(self, delivery_id: int, owner: str, **values: Any) -> bool:
        """Change a delivery only while it is running under our lease; False if it is not."""
        with self.store.write() as connection:
            result = connection.execute(
                update(deliveries)
                .where(
                    deliveries.c.id == delivery_id,
                    deliveries.c.owner == owner,
                    deliveries.c.state == DeliveryState.RUNNING.value,
                )
                .values(updated_at=self.clock(), **values)
            )
        return bool(result.rowcount == 1)

    def finish(self, delivery_id: int, owner: str, outcome: str = DONE) -> bool:
        """Mark our running delivery done (`outcome` says how); False if another worker took it."""
        parameters = {
            "b_id": delivery_id,
            "b_owner": owner,
            "b_now": self.clock(),
            "b_outcome": outcome,
        }
        with self.store.write() as connection:
            result = connection.execute(_FINISH, parameters)
        return bool(result.rowcount == 1)

    def defer(
        self,
        delivery_id: int,
        owner: str,
        delay_s: float,
        error: str,
        *,
        count_attempt: bool = True,
    ) -> bool:
        """Put our running delivery back in the queue, due after `delay_s`, keeping the error.

        Without `count_attempt` the attempt this run used is given back (it only had to wait).
        """
        now = self.clock()
        given_back: dict[str, Any] = (
            {} if count_attempt else {"attempts": deliveries.c.attempts - 1}
        )
        return self._update_own_running(
            delivery_id,
            owner,
            **given_back,
            state=DeliveryState.QUEUED.value,
            lease_until=None,
            run_after=now + delay_s,
            last_error=error,
            sent_at=now,  # the caller enqueues it with the delay, not the feeder
        )

    def fail(self, delivery_id: int, owner: str, error: str) -> bool:
        """Give up on our running delivery; it stays visible as failed with its last error."""
        return self._update_own_running(
            delivery_id, owner, state=DeliveryState.FAILED.value, lease_until=None, last_error=error
        )

    def requeue(self, delivery_id: int, *, force: bool = False) -> bool:
        """Make a failed delivery (with `force`, a done one too) due again with fresh attempts."""
        now = self.clock()
        states = [DeliveryState.FAILED.value] + ([DeliveryState.DONE.value] if force else [])
        with self.store.write() as connection:
            result = connection.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery_id, deliveries.c.state.in_(states))
                .values(
                    state=DeliveryState.QUEUED.value,
                    outcome=None,
                    attempts=0,
                    run_after=now,
                    updated_at=now,
                    sent_at=now,  # the caller enqueues it
                    owner=None,
                )
            )
        return bool(result.rowcount == 1)

    def release_expired(self) -> list[Delivery]:
        """Turn running deliveries whose lease expired (their worker died) back into queued ones."""
        now = self.clock()
        expired_now = (deliveries.c.state == DeliveryState.RUNNING.value) & (
            deliveries.c.lease_until < now
        )
        with self.store.write() as connection:
            expired = [
                _to_delivery(row)
                for row in connection.execute(select(*_SUMMARY_COLUMNS).where(expired_now))
            ]
            if expired:
                connection.execute(
                    update(deliveries)
                    .where(deliveries.c.id.in_([d.id for d in expired]), expired_now)
                    .values(state=DeliveryState.QUEUED.value, run_after=now, updated_at=now)
                )
        return expired

    def waiting(self, older_than_s: float) -> list[Delivery]:
        """Queued deliveries sent to the transport but untouched for `older_than_s` seconds:
        candidates for re-enqueueing (unsent ones are the feeder's)."""
        cutoff = self.clock() - older_than_s
        with self.store.begin() as connection:
            rows = connection.execute(
                select(*_SUMMARY_COLUMNS)
                .where(
                    deliveries.c.state == DeliveryState.QUEUED.value,
                    deliveries.c.updated_at < cutoff,
                    deliveries.c.sent_at.is_not(None),
                )
                .order_by(deliveries.c.id)
            ).all()
        return [_to_delivery(row) for row in rows]

    def touch(self, delivery_ids: list[int]) -> None:
        """Note that queued deliveries were (re-)enqueued just now."""
        if not delivery_ids:
            return
        with self.store.write() as connection:
            connection.execute(
                update(deliveries)
                .where(
                    deliveries.c.id.in_(delivery_ids),
                    deliveries.c.state == DeliveryState.QUEUED.value,
                )
                .values(updated_at=self.clock(), sent_at=self.clock())
            )

    def recent(
        self,
        state: DeliveryState | None = None,
        limit: int = 100,
        *,
        issue: str | None = None,
        since: float | None = None,
        own_events: bool = True,
    ) -> list[Delivery]:
        """The most recent deliveries (without bodies), newest first, optionally filtered;
        `own_events=False` leaves out those skipped as crossdept's own change."""
        query = select(*_SUMMARY_COLUMNS).order_by(deliveries.c.id.desc()).limit(limit)
        if not own_events:
            query = query.where(
                or_(deliveries.c.outcome.is_(None), deliveries.c.outcome != SKIPPED_OWN_EVENT)
            )
        if state is not None:
            query = query.where(deliveries.c.state == state.value)
        if issue is not None:
            query = query.where(func.upper(deliveries.c.issue) == issue.upper())
        if since is not None:
            query = query.where(deliveries.c.created_at >= since)
        with self.store.begin() as connection:
            rows = connection.execute(query).all()
        return [_to_delivery(row) for row in rows]

    def ids(self, state: DeliveryState) -> list[int]:
        """Every delivery id in one state, oldest first."""
        with self.store.begin() as connection:
            return [
                int(value)
                for value in connection.execute(
                    select(deliveries.c.id)
                    .where(deliveries.c.state == state.value)
                    .order_by(deliveries.c.id)
                ).scalars()
            ]

    def count(self, state: DeliveryState) -> int:
        """How many deliveries are in one state."""
        with self.store.begin() as connection:
            value = connection.execute(
                select(func.count())
                .select_from(deliveries)
                .where(deliveries.c.state == state.value)
            ).scalar()
        return int(value or 0)
