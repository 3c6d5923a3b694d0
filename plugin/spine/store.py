"""crossdept's own state in SQL: SQLite in a data directory by default, PostgreSQL when scaled out."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    Table,
    create_engine,
    event,
    inspect,
    text,
    update,
)

log = logging.getLogger(__name__)

# Every table declares itself on this metadata; `Store.create_all` creates the ones it is given
# (plugin.composition lists them).
metadata = MetaData()

# One row /healthz rewrites, so a store that answers but cannot write (a read-only file or
# replica, a full disk) is reported, not only one that does not answer at all.
health_probe = Table(
    "health_probe",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("written_at", Float, nullable=False),
)

# Pages (4 KiB each) the WAL may grow to before a committing writer checkpoints it itself.
WAL_AUTOCHECKPOINT_PAGES = 10_000
# PostgreSQL advisory lock key under which one process at a time creates tables ("xd" in ASCII).
SCHEMA_LOCK_ID = 0x7864


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web processes write while workers read; busy_timeout makes writers wait, not fail.
    # synchronous=NORMAL in WAL mode: a commit is written to the WAL but not fsynced, so a crashed
    # or SIGKILLed process loses nothing committed (the OS has the pages); a power cut or kernel
    # panic can lose the last transactions before a checkpoint, never corrupt the database.
    # https://www.sqlite.org/pragma.html#pragma_synchronous
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # A commit that crosses the auto-checkpoint threshold copies the WAL into the database and
    # fsyncs it, inside the writer's transaction: a web request paid 5-10 ms for it every few
    # hundred deliveries, and every other writer waited. Workers checkpoint instead, outside
    # any write (`Store.checkpoint`); this high threshold only bounds the WAL when none runs.
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def driver_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs (SQLAlchemy would otherwise look for psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


PRIVATE_FILE = 0o600
PRIVATE_DIRECTORY = 0o700


def keep_private(path: Path) -> None:
    """Make a database file (created empty if missing) and its directory crossdept's alone.

    They hold every webhook body, e-mail addresses included. SQLite creates the -wal and -shm
    files with the database file's own permissions, so they follow.
    """
    try:
        path.parent.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE))
        for name in (path.name, path.name + "-wal", path.name + "-shm"):
            if (path.parent / name).exists():
                os.chmod(path.parent / name, PRIVATE_FILE)
    except OSError as error:  # SQLite says what is wrong when it opens the file
        log.warning("cannot make %s private (0600): %s", path, error)


def keep_directory_private(path: Path) -> None:
    """Create a directory of crossdept's (its data directory) as 0700, and tighten it if looser."""
    path.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        try:
            os.chmod(path, PRIVATE_DIRECTORY)
        except PermissionError:
            log.warning("cannot make %s private (0700): it belongs to another user", path)


class WriterLock:
    """Let one SQLite writer at a time in, across threads and processes, without SQLite's sleeps.

    SQLite admits one writer; the others retry in its busy handler, which sleeps 1, 2, 5, 10...
    ms between tries whether or not the writer has finished, and that drives tail latency.
    Writers that take this lock first wait in the kernel (flock on a file beside the database)
    and wake the moment it is released. Correctness never depends on it: a writer that skips
    it still gets SQLite's own locking.
    """

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._threads = threading.Lock()
        self._file: tuple[int, int] | None = None  # (pid, fd): a forked child opens its own

    def _descriptor(self) -> int | None:
        if self.path is None:
            return None
        if self._file is not None and self._file[0] == os.getpid():
            return self._file[1]
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:  # e.g. no directory yet: fall back to SQLite's own locking
            return None
        self._file = (os.getpid(), fd)
        return fd

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            fd = self._descriptor()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def __exit__(self, *_exc: object) -> None:
        try:
            if self._file is not None and self._file[0] == os.getpid():
                fcntl.flock(self._file[1], fcntl.LOCK_UN)
        finally:
            self._threads.release()


class Store:
    """A SQLAlchemy engine plus the schema; modules add their own tables to `metadata`."""

    def __init__(self, url: str) -> None:
        self.url = url
        # A local SQLite file cannot drop a connection; a database server can, so ping it first.
        self.engine: Engine = create_engine(
            driver_url(url), future=True, pool_pre_ping=not url.startswith("sqlite")
        )
        self.is_sqlite: bool = self.engine.dialect.name == "sqlite"
        database = self.engine.url.database if self.is_sqlite else None
        if database and database != ":memory:" and not database.startswith("file:"):
            keep_private(Path(database))
        self.write_lock = WriterLock(
            f"{database}-writer" if database and database != ":memory:" else None
        )
        if self.is_sqlite:
            event.listen(self.engine, "connect", _tune_sqlite)

    def create_all(self, tables: Sequence[Table]) -> None:
        """Create the missing ones of `tables`, and their missing columns; safe at every start.

        Several processes starting at once on a new store would each see a table missing and
        the second CREATE would fail, so one at a time: SQLite's writer lock, or a PostgreSQL
        advisory lock held until the transaction ends.
        """
        with self.write() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_ID})")
            metadata.create_all(connection, tables=list(tables))
            self._add_missing_columns(connection, tables)

    def _add_missing_columns(self, connection: Connection, tables: Sequence[Table]) -> None:
        """Add nullable columns (and their indexes) a newer crossdept declares to tables an older
        one created.

        The one kind of schema change crossdept makes so far; anything else would need a
        migration tool (Alembic), and a column that is not nullable is refused here.
        """
        inspector = inspect(connection)
        present = set(inspector.get_table_names())
        for table in tables:
            if table.name not in present:
                continue
            have = {column["name"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in have:
                    continue
                if not column.nullable:
                    raise RuntimeError(
                        f"table {table.name} lacks the required column {column.name}: "
                        "this store needs a migration"
                    )
                kind = column.type.compile(dialect=self.engine.dialect)
                connection.exec_driver_sql(
                    f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'
                )
            for index in table.indexes:  # an index over a column just added, say
                index.create(connection, checkfirst=True)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that writes: on SQLite, taken as the one writer (see WriterLock)."""
        if not self.is_sqlite:
            with self.engine.begin() as connection:
                yield connection
            return
        with self.write_lock, self.engine.begin() as connection:
            yield connection

    def checkpoint(self) -> None:
        """Copy SQLite's write-ahead log into the database file, off the web's hot path.

        PASSIVE: it neither waits for nor blocks readers and writers, and copies what it can.
        Workers call it every second or so; nothing to do on a database server.
        https://www.sqlite.org/pragma.html#pragma_wal_checkpoint
        """
        if not self.is_sqlite:
            return
        with self.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def ping(self) -> bool:
        """Say whether the database answers, for /healthz."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure means unhealthy
            return False

    def can_write(self, now: float) -> bool:
        """Say whether a write commits, for /healthz: one row rewritten in one transaction."""
        try:
            with self.write() as connection:
                done = connection.execute(
                    update(health_probe).where(health_probe.c.id == 1).values(written_at=now)
                )
                if done.rowcount == 0:
                    connection.execute(health_probe.insert().values(id=1, written_at=now))
            return True
        except Exception:  # noqa: BLE001 - any failure to commit means the store cannot take deliveries
            return False

    def dispose(self) -> None:
        """Close pooled connections, e.g. before a fork."""
        self.engine.dispose()
