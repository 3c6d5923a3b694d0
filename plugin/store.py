"""crossdept's own state in SQL: SQLite in a data directory by default, PostgreSQL when scaled out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, text

# Every table of every module registers here; `Store.create_all` creates them.
metadata = MetaData()


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web processes write while workers read; busy_timeout makes writers wait, not fail.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Store:
    """A SQLAlchemy engine plus the schema; modules add their own tables to `metadata`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url, future=True, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _tune_sqlite)

    def create_all(self) -> None:
        """Create missing tables; safe to call at every start."""
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
