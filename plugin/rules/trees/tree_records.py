"""What crossdept remembers about each request's tree: who is building it and what it created."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Column, Float, String, Table, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from plugin.spine.store import Store, metadata

# One row per request: the claim (holder + lease) that lets one worker build a tree at a time,
# and the tree's status ("building", "complete", "blocked" = waiting for the request to be fixed).
tree_requests = Table(
    "tree_requests",
    metadata,
    Column("request_key", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("holder", String(64), nullable=True),
    Column("lease_until", Float, nullable=False, default=0.0),
    Column("rules_digest", String(32), nullable=True),
    Column("updated_at", Float, nullable=False),
)

# One row per planned item once crossdept is about to create it (intent), then its issue key.
tree_items = Table(
    "tree_items",
    metadata,
    Column("request_key", String(64), primary_key=True),
    Column("ref", String(191), primary_key=True),
    Column("issue_key", String(64), nullable=True),
    Column("intended_at", Float, nullable=False),
    Column("created_at", Float, nullable=True),
)


@dataclass(frozen=True)
class ItemRecord:
    """An item crossdept intended to create, and its key once created."""

    ref: str
    issue_key: str | None
    intended_at: float


class TreeRecords:
    """The tree tables of the store, behind verbs the tree builder uses."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _insert(self, table: Table, **values: object) -> bool:
        """Insert one row in its own transaction; False when its key is taken."""
        try:
            with self.store.begin() as db:
                db.execute(insert(table).values(**values))
        except IntegrityError:
            return False
        return True

    def claim(self, request: str, holder: str, now: float, lease_seconds: float) -> bool:
        """Take the right to build this request's tree; False when another live holder has it."""
        until = now + lease_seconds
        # The primary key makes the first claim atomic; each statement is its own transaction
        # (no savepoints: SQLite's driver handles them poorly).
        if self._insert(
            tree_requests,
            request_key=request,
            status="building",
            holder=holder,
            lease_until=until,
            updated_at=now,
        ):
            return True
        with self.store.begin() as db:
            # A row exists: take it over only if free, expired (a crashed worker), or already ours.
            taken = db.execute(
                update(tree_requests)
                .where(
                    and_(
                        tree_requests.c.request_key == request,
                        (tree_requests.c.holder.is_(None))
                        | (tree_requests.c.lease_until < now)
                        | (tree_requests.c.holder == holder),
                    )
                )
                .values(holder=holder, lease_until=until, updated_at=now)
            )
            return taken.rowcount == 1

    def lease_left(self, request: str, now: float) -> float:
        """Seconds until the current claim on a request expires (0 when unclaimed)."""
        with self.store.begin() as db:
            until = db.execute(
                select(tree_requests.c.lease_until).where(tree_requests.c.request_key == request)
            ).scalar()
        return max(float(until or 0.0) - now, 0.0)

    def release(
        self, request: str, holder: str, status: str, now: float, digest: str | None = None
    ) -> None:
        """Give up the claim and record how the tree stands."""
        values: dict[str, object] = {
            "holder": None,
            "lease_until": 0.0,
            "status": status,
            "updated_at": now,
        }
        if digest is not None:
            values["rules_digest"] = digest
        with self.store.begin() as db:
            db.execute(
                update(tree_requests)
                .where(
                    and_(tree_requests.c.request_key == request, tree_requests.c.holder == holder)
                )
                .values(**values)
            )

    def status(self, request: str) -> str | None:
        """The tree's status, or None when crossdept never worked on this request."""
        with self.store.begin() as db:
            found = db.execute(
                select(tree_requests.c.status).where(tree_requests.c.request_key == request)
            ).scalar()
        return str(found) if found is not None else None

    def built(self) -> list[str]:
        """The requests whose tree stands (complete, or partial with what Jira refused told)."""
        with self.store.begin() as db:
            rows = db.execute(
                select(tree_requests.c.request_key).where(
                    tree_requests.c.status.in_(("complete", "partial"))
                )
            )
            return [str(row.request_key) for row in rows]

    def items(self, request: str) -> dict[str, ItemRecord]:
        """Every item recorded for a request, by ref."""
        with self.store.begin() as db:
            rows = db.execute(
                select(tree_items.c.ref, tree_items.c.issue_key, tree_items.c.intended_at).where(
                    tree_items.c.request_key == request
                )
            ).all()
        return {row.ref: ItemRecord(row.ref, row.issue_key, float(row.intended_at)) for row in rows}

    def intend(self, request: str, refs: Iterable[str], now: float) -> None:
        """Record, before a bulk create, which items it is about to create."""
        fresh: list[str] = []
        with self.store.begin() as db:
            for ref in refs:
                moved = db.execute(
                    update(tree_items)
                    .where(
                        and_(
                            tree_items.c.request_key == request,
                            tree_items.c.ref == ref,
                            tree_items.c.issue_key.is_(None),
                        )
                    )
                    .values(intended_at=now)
                )
                if moved.rowcount == 0:
                    fresh.append(ref)
        for ref in fresh:
            # A concurrent insert or an already created item wins: its key stays.
            self._insert(tree_items, request_key=request, ref=ref, intended_at=now)

    def record_created(self, request: str, keys: Mapping[str, str], now: float) -> None:
        """Record the issue key of each created (or adopted) item."""
        if not keys:
            return
        with self.store.begin() as db:
            for ref, key in keys.items():
                moved = db.execute(
                    update(tree_items)
                    .where(and_(tree_items.c.request_key == request, tree_items.c.ref == ref))
                    .values(issue_key=key, created_at=now)
                )
                if moved.rowcount == 0:
                    db.execute(
                        insert(tree_items).values(
                            request_key=request,
                            ref=ref,
                            issue_key=key,
                            intended_at=now,
                            created_at=now,
                        )
                    )

    def drop_intents(self, request: str, refs: Iterable[str]) -> None:
        """Forget intents for items Jira refused: they certainly do not exist."""
        refs = list(refs)
        if not refs:
            return
        with self.store.begin() as db:
            db.execute(
                tree_items.delete().where(
                    and_(
                        tree_items.c.request_key == request,
                        tree_items.c.ref.in_(refs),
                        tree_items.c.issue_key.is_(None),
                    )
                )
            )

    def forget_items(self, request: str, refs: Iterable[str]) -> None:
        """Drop item rows Jira contradicts (issue gone, or not carrying this item's marker)."""
        refs = list(refs)
        if not refs:
            return
        with self.store.begin() as db:
            db.execute(
                tree_items.delete().where(
                    and_(tree_items.c.request_key == request, tree_items.c.ref.in_(refs))
                )
            )
