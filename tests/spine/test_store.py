"""The store: SQLite or PostgreSQL, tables created at every start, writers that wait in the kernel."""

from __future__ import annotations

from pathlib import Path

from plugin.spine.deliveries import Deliveries
from plugin.spine.store import Store, driver_url
from tests.fakes import ALL_TABLES


def test_create_all_can_run_at_every_start(store: Store) -> None:
    store.create_all(ALL_TABLES)
    store.create_all(ALL_TABLES)
    assert store.ping() is True


def test_processes_starting_together_on_a_new_store_each_find_it_ready(store: Store) -> None:
    import threading

    from plugin.spine.store import metadata

    metadata.drop_all(store.engine)
    url = store.engine.url.render_as_string(hide_password=False)
    starting = [Store(url) for _ in range(6)]  # one engine each, as six processes would have
    barrier = threading.Barrier(len(starting))
    failures: list[BaseException] = []

    def start(own: Store) -> None:
        barrier.wait()
        try:
            own.create_all(ALL_TABLES)
        except BaseException as error:  # noqa: BLE001 - collected for the assertion below
            failures.append(error)

    threads = [threading.Thread(target=start, args=(own,)) for own in starting]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for own in starting:
        own.dispose()
    assert failures == []
    assert Deliveries(store).add("d-1", "e", None, b"{}") is not None


def test_plain_postgresql_urls_use_psycopg_3() -> None:
    assert driver_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert driver_url("postgres://h/db") == "postgresql+psycopg://h/db"
    assert driver_url("sqlite:///data/x.db") == "sqlite:///data/x.db"


def test_create_all_creates_exactly_the_tables_it_is_given(tmp_path: Path) -> None:
    from sqlalchemy import inspect

    from plugin.spine.deliveries import deliveries

    store = Store(f"sqlite:///{tmp_path / 'few.db'}")
    store.create_all([deliveries])
    assert inspect(store.engine).get_table_names() == ["deliveries"]
    store.create_all(ALL_TABLES)
    assert set(inspect(store.engine).get_table_names()) == {t.name for t in ALL_TABLES}
    store.dispose()


def test_sqlite_writers_of_different_processes_wait_for_each_other(tmp_path: Path) -> None:
    import threading
    import time

    url = f"sqlite:///{tmp_path}/crossdept.db"
    web, worker = Store(url), Store(url)  # two engines and two lock files handles, as two processes
    web.create_all(ALL_TABLES)
    finished: list[str] = []
    try:
        with worker.write_lock:  # the worker is writing...
            thread = threading.Thread(
                target=lambda: finished.append(str(Deliveries(web).add("d-1", "e", None, b"{}")))
            )
            thread.start()
            time.sleep(0.3)
            assert finished == []  # ...so the web's insert waits in the kernel, not in SQLite
        thread.join(timeout=10)
        assert finished == ["1"]
    finally:
        web.dispose()
        worker.dispose()


def test_commits_leave_the_wal_checkpoint_to_the_workers(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'wal.db'}")
    store.create_all(ALL_TABLES)
    deliveries = Deliveries(store)
    for number in range(1200):  # ~3000 pages of WAL: SQLite's default would checkpoint at 1000
        deliveries.add(f"d-{number}", "jira:issue_updated", "XD-1", b"x" * 5000)
    assert (tmp_path / "wal.db-wal").stat().st_size > 2000 * 4096  # nobody checkpointed yet

    store.checkpoint()

    with store.begin() as connection:
        _busy, frames, copied = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    assert frames > 2000 and copied == frames
    store.dispose()


def test_a_store_an_older_crossdept_made_gains_the_new_nullable_columns(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:  # deliveries as the previous release created it
        old.execute(
            "CREATE TABLE deliveries (id INTEGER PRIMARY KEY, key VARCHAR(255) NOT NULL UNIQUE,"
            " event VARCHAR(100) NOT NULL, issue VARCHAR(100), body BLOB NOT NULL,"
            " state VARCHAR(16) NOT NULL, attempts INTEGER NOT NULL, last_error TEXT,"
            " created_at FLOAT NOT NULL, updated_at FLOAT NOT NULL, run_after FLOAT NOT NULL,"
            " lease_until FLOAT, owner VARCHAR(200), sent_at FLOAT)"
        )
        old.execute(
            "INSERT INTO deliveries (key, event, body, state, attempts, created_at, updated_at,"
            " run_after) VALUES ('k', 'jira:issue_created', x'7b7d', 'done', 1, 1, 1, 1)"
        )
    store = Store(f"sqlite:///{path}")
    store.create_all(ALL_TABLES)
    store.create_all(ALL_TABLES)  # and again: nothing left to add

    [delivery] = Deliveries(store).recent()
    assert delivery.outcome is None and delivery.describe(0) == "done"
    store.dispose()
