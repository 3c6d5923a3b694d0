"""crossdept's own state in SQL: SQLite in a data directory by default, PostgreSQL when scaled out."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

# Every table of every module registers here; `Store.create_all` creates them.
metadata = MetaData()

# Modules holding tables of their own, imported by `Store.create_all` so none is forgotten.
_TABLE_MODULES = ("plugin.tree_records",)

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
)
Index("deliveries_state_updated", deliveries.c.state, deliveries.c.updated_at)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web processes write while workers read; busy_timeout makes writers wait, not fail.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def driver_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs (SQLAlchemy would otherwise look for psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


class Store:
    """A SQLAlchemy engine plus the schema; modules add their own tables to `metadata`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(driver_url(url), future=True, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _tune_sqlite)

    def create_all(self) -> None:
        """Create missing tables; safe to call at every start."""
        for module in _TABLE_MODULES:  # Their tables register on `metadata` when imported.
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as error:
                if error.name != module:
                    raise
        metadata.create_all(self.engine)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self.engine.begin() as connection:
            yield connection

    def ping(self) -> bool:
        """Say whether the database answers, for /healthz."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure means unhealthy
            return False

    def dispose(self) -> None:
        """Close pooled connections, e.g. before a fork."""
        self.engine.dispose()


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


_SUMMARY_COLUMNS = [c for c in deliveries.c if c.name != "body"]


def _to_delivery(row: Any) -> Delivery:
    values = dict(row._mapping)
    values["state"] = DeliveryState(values["state"])
    values["body"] = bytes(values.get("body") or b"")
    return Delivery(**values)


class Deliveries:
    """The deliveries table: accept, claim with a lease, and record how processing ended."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        dialect = store.engine.dialect.name
        self._insert_ignoring_duplicates: Any
        if dialect == "sqlite":
            self._insert_ignoring_duplicates = sqlite.insert(deliveries).on_conflict_do_nothing(
                index_elements=["key"]
            )
        elif dialect == "postgresql":
            self._insert_ignoring_duplicates = postgresql.insert(deliveries).on_conflict_do_nothing(
                index_elements=["key"]
            )
        else:  # Any other database: the unique constraint raises IntegrityError instead.
            self._insert_ignoring_duplicates = None

    def add(self, key: str, event: str, issue: str | None, body: bytes) -> int | None:
        """Store a new delivery as queued and return its id; None when the key was seen before."""
        now = self.clock()
        values = {
            "key": key,
            "event": event,
            "issue": issue,
            "body": body,
            "state": DeliveryState.QUEUED.value,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
            "run_after": now,
        }
        if self._insert_ignoring_duplicates is None:
            try:
                with self.store.begin() as connection:
                    result = connection.execute(insert(deliveries).values(**values))
                    primary_key = result.inserted_primary_key
                    assert primary_key is not None
                    return int(primary_key[0])
            except IntegrityError:
                return None
        statement = self._insert_ignoring_duplicates.values(**values).returning(deliveries.c.id)
        with self.store.begin() as connection:
            new_id = connection.execute(statement).scalar()
        return None if new_id is None else int(new_id)

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
        claimable = (
            (deliveries.c.state == DeliveryState.QUEUED.value) & (deliveries.c.run_after <= now)
        ) | ((deliveries.c.state == DeliveryState.RUNNING.value) & (deliveries.c.lease_until < now))
        with self.store.begin() as connection:
            result = connection.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery_id, claimable)
                .values(
                    state=DeliveryState.RUNNING.value,
                    attempts=deliveries.c.attempts + 1,
                    lease_until=now + lease_s,
                    owner=owner,
                    updated_at=now,
                )
            )
            if result.rowcount != 1:
                return None
            row = connection.execute(
                select(deliveries).where(deliveries.c.id == delivery_id)
            ).first()
        return None if row is None else _to_delivery(row)

    def heartbeat(self, delivery_id: int, owner: str, lease_s: float) -> bool:
        """Extend our lease on a running delivery; False if it is no longer ours."""
        now = self.clock()
        with self.store.begin() as connection:
            result = connection.execute(
                update(deliveries)
                .where(
                    deliveries.c.id == delivery_id,
                    deliveries.c.owner == owner,
                    deliveries.c.state == DeliveryState.RUNNING.value,
                )
                .values(lease_until=now + lease_s, updated_at=now)
            )
        return bool(result.rowcount == 1)

    def _settle(self, delivery_id: int, owner: str, **values: Any) -> bool:
        now = self.clock()
        with self.store.begin() as connection:
            result = connection.execute(
                update(deliveries)
                .where(
                    deliveries.c.id == delivery_id,
                    deliveries.c.owner == owner,
                    deliveries.c.state == DeliveryState.RUNNING.value,
                )
                .values(lease_until=None, updated_at=now, **values)
            )
        return bool(result.rowcount == 1)

    def finish(self, delivery_id: int, owner: str) -> bool:
        """Mark our running delivery done; False if another worker took it over meanwhile."""
        return self._settle(delivery_id, owner, state=DeliveryState.DONE.value, last_error=None)

    def defer(self, delivery_id: int, owner: str, delay_s: float, error: str) -> bool:
        """Put our running delivery back in the queue, due after `delay_s`, keeping the error."""
        return self._settle(
            delivery_id,
            owner,
            state=DeliveryState.QUEUED.value,
            run_after=self.clock() + delay_s,
            last_error=error,
        )

    def fail(self, delivery_id: int, owner: str, error: str) -> bool:
        """Give up on our running delivery; it stays visible as failed with its last error."""
        return self._settle(delivery_id, owner, state=DeliveryState.FAILED.value, last_error=error)

    def requeue(self, delivery_id: int) -> bool:
        """Make a failed (or done) delivery due again with a fresh set of attempts."""
        now = self.clock()
        with self.store.begin() as connection:
            result = connection.execute(
                update(deliveries)
                .where(
                    deliveries.c.id == delivery_id,
                    deliveries.c.state.in_([DeliveryState.FAILED.value, DeliveryState.DONE.value]),
                )
                .values(
                    state=DeliveryState.QUEUED.value,
                    attempts=0,
                    run_after=now,
                    updated_at=now,
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
        with self.store.begin() as connection:
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
        """Queued deliveries untouched for `older_than_s` seconds: candidates for re-enqueueing."""
        cutoff = self.clock() - older_than_s
        with self.store.begin() as connection:
            rows = connection.execute(
                select(*_SUMMARY_COLUMNS)
                .where(
                    deliveries.c.state == DeliveryState.QUEUED.value,
                    deliveries.c.updated_at < cutoff,
                )
                .order_by(deliveries.c.id)
            ).all()
        return [_to_delivery(row) for row in rows]

    def touch(self, delivery_ids: list[int]) -> None:
        """Note that queued deliveries were (re-)enqueued just now."""
        if not delivery_ids:
            return
        with self.store.begin() as connection:
            connection.execute(
                update(deliveries)
                .where(
                    deliveries.c.id.in_(delivery_ids),
                    deliveries.c.state == DeliveryState.QUEUED.value,
                )
                .values(updated_at=self.clock())
            )

    def recent(self, state: DeliveryState | None = None, limit: int = 100) -> list[Delivery]:
        """The most recent deliveries (without bodies), newest first, optionally in one state."""
        query = select(*_SUMMARY_COLUMNS).order_by(deliveries.c.id.desc()).limit(limit)
        if state is not None:
            query = query.where(deliveries.c.state == state.value)
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
