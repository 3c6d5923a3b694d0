"""Named leases in the store: one holder at a time across every worker and machine.

Periodic work marked `exclusive` holds a lease by its name for each run (plugin.spine.schedule),
and a rule may lease what it works on (a meeting's minutes); a holder that dies loses its lease
when it expires, so the next run goes ahead.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid

from sqlalchemy import Column, Float, String, Table, and_, insert, update
from sqlalchemy.exc import IntegrityError

from plugin.spine.store import Store, metadata

leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(200), nullable=True),
    Column("until", Float, nullable=False),
)


HOLDER_MAX = 64  # the narrowest column a holder is stored in (tree_requests.holder)


def new_holder(purpose: str = "") -> str:
    """A holder name unique to this run of this thread on this machine, in the one format every
    lease and claim uses (`weekly-2026-W11@host:pid.thread.1a2b3c4d`): a name shared by two
    workers would let both hold the same lease. A long host name is cut to fit HOLDER_MAX;
    the process, thread and random part keep it unique."""
    unique = f":{os.getpid()}.{threading.get_ident()}.{uuid.uuid4().hex[:8]}"
    prefix = f"{purpose}@" if purpose else ""
    host = socket.gethostname()[: max(0, HOLDER_MAX - len(prefix) - len(unique))]
    return f"{prefix}{host}{unique}"


def holder_pid(holder: str) -> int | None:
    """The process id inside a holder name from new_holder, so a supervisor can tell which of its
    processes holds a claim; None for a name in another format."""
    _, _, unique = holder.rpartition(":")
    pid = unique.split(".", 1)[0]
    return int(pid) if pid.isdigit() else None


class Leases:
    """Take and give back named leases."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def take(self, name: str, holder: str, now: float, seconds: float) -> bool:
        """Hold `name` for `seconds`; False while someone else holds it."""
        try:
            with self.store.begin() as db:
                db.execute(insert(leases).values(name=name, holder=holder, until=now + seconds))
            return True
        except IntegrityError:
            pass
        with self.store.begin() as db:
            taken = db.execute(
                update(leases)
                .where(
                    and_(
                        leases.c.name == name,
                        (leases.c.until < now) | (leases.c.holder == holder),
                    )
                )
                .values(holder=holder, until=now + seconds)
            )
        return bool(taken.rowcount == 1)

    def give_back(self, name: str, holder: str) -> None:
        """Release a lease we hold, so the next taker need not wait for it to expire."""
        with self.store.begin() as db:
            db.execute(
                update(leases)
                .where(and_(leases.c.name == name, leases.c.holder == holder))
                .values(holder=None, until=0.0)
            )
