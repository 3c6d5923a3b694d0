"""The deliveries table: one row per key, claims guarded by state and lease, honest bookkeeping."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugin.store import Deliveries, DeliveryState, Store, driver_url, metadata
from tests.fakes import EpochClock


def add(deliveries: Deliveries, key: str = "d-1") -> int:
    delivery_id = deliveries.add(key, "jira:issue_created", "CD-1", b"{}")
    assert delivery_id is not None
    return delivery_id


def test_create_all_can_run_at_every_start(store: Store) -> None:
    store.create_all()
    store.create_all()
    assert store.ping() is True


def test_plain_postgresql_urls_use_psycopg_3() -> None:
    assert driver_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert driver_url("postgres://h/db") == "postgresql+psycopg://h/db"
    assert driver_url("sqlite:///data/x.db") == "sqlite:///data/x.db"


def test_a_key_is_stored_once(deliveries: Deliveries) -> None:
    first = add(deliveries)
    assert deliveries.add("d-1", "jira:issue_created", "CD-1", b"{}") is None
    assert add(deliveries, "d-2") != first
    assert deliveries.count(DeliveryState.QUEUED) == 2


def test_a_claim_starts_an_attempt_under_a_lease(deliveries: Deliveries, clock: EpochClock) -> None:
    delivery_id = add(deliveries)

    claimed = deliveries.claim(delivery_id, "w1", lease_s=30)

    assert claimed is not None
    assert (claimed.state, claimed.attempts, claimed.owner) == (DeliveryState.RUNNING, 1, "w1")
    assert claimed.lease_until == clock.now + 30
    assert claimed.body == b"{}"


def test_a_running_delivery_is_claimable_again_only_once_its_lease_expired(
    deliveries: Deliveries, clock: EpochClock
) -> None:
    delivery_id = add(deliveries)
    deliveries.claim(delivery_id, "w1", lease_s=30)

    assert deliveries.claim(delivery_id, "w2", lease_s=30) is None
    clock.now += 31
    again = deliveries.claim(delivery_id, "w2", lease_s=30)

    assert again is not None and again.attempts == 2
    assert deliveries.finish(delivery_id, "w1") is False  # the dead worker's late answer
    assert deliveries.finish(delivery_id, "w2") is True


def test_a_heartbeat_extends_only_our_own_lease(deliveries: Deliveries, clock: EpochClock) -> None:
    delivery_id = add(deliveries)
    deliveries.claim(delivery_id, "w1", lease_s=30)
    clock.now += 20

    assert deliveries.heartbeat(delivery_id, "w1", lease_s=30) is True
    assert deliveries.heartbeat(delivery_id, "w2", lease_s=30) is False
    clock.now += 20
    assert deliveries.claim(delivery_id, "w2", lease_s=30) is None


def test_a_deferred_delivery_waits_until_it_is_due(
    deliveries: Deliveries, clock: EpochClock
) -> None:
    delivery_id = add(deliveries)
    deliveries.claim(delivery_id, "w1", lease_s=30)

    assert deliveries.defer(delivery_id, "w1", 60, "TransientGatewayError: 503") is True

    assert deliveries.claim(delivery_id, "w1", lease_s=30) is None
    clock.now += 61
    claimed = deliveries.claim(delivery_id, "w1", lease_s=30)
    assert claimed is not None
    assert claimed.last_error == "TransientGatewayError: 503"


def test_a_failed_delivery_keeps_its_error_until_retried(deliveries: Deliveries) -> None:
    delivery_id = add(deliveries)
    deliveries.claim(delivery_id, "w1", lease_s=30)
    deliveries.fail(delivery_id, "w1", "RefusedError 400: summary: required")

    [failed] = deliveries.recent(DeliveryState.FAILED)
    assert (failed.id, failed.last_error) == (delivery_id, "RefusedError 400: summary: required")
    assert deliveries.ids(DeliveryState.FAILED) == [delivery_id]

    assert deliveries.requeue(delivery_id) is True
    again = deliveries.get(delivery_id)
    assert again is not None
    assert (again.state, again.attempts) == (DeliveryState.QUEUED, 0)
    assert deliveries.requeue(delivery_id) is False  # already queued


def test_expired_leases_are_released_to_the_queue(
    deliveries: Deliveries, clock: EpochClock
) -> None:
    dead = add(deliveries, "d-1")
    alive = add(deliveries, "d-2")
    deliveries.claim(dead, "w1", lease_s=10)
    deliveries.claim(alive, "w2", lease_s=100)
    clock.now += 11

    assert [d.id for d in deliveries.release_expired()] == [dead]
    assert deliveries.get(dead).state is DeliveryState.QUEUED  # type: ignore[union-attr]
    assert deliveries.get(alive).state is DeliveryState.RUNNING  # type: ignore[union-attr]


def test_waiting_lists_sent_deliveries_untouched_for_a_while(
    deliveries: Deliveries, clock: EpochClock
) -> None:
    old = add(deliveries, "d-1")
    assert deliveries.take_batch(10).to_enqueue == [old]
    unsent = add(deliveries, "d-2")  # the feeder's, not recovery's, however old
    clock.now += 100
    add(deliveries, "d-3")
    assert deliveries.take_batch(1).to_enqueue == [unsent]

    assert [d.id for d in deliveries.waiting(older_than_s=50)] == [old]
    deliveries.touch([old])
    assert deliveries.waiting(older_than_s=50) == []


def test_new_deliveries_are_taken_for_sending_once_oldest_first(deliveries: Deliveries) -> None:
    first, second, third = add(deliveries, "d-1"), add(deliveries, "d-2"), add(deliveries, "d-3")

    assert deliveries.take_batch(2).to_enqueue == [first, second]
    assert deliveries.take_batch(10).to_enqueue == [third]
    assert deliveries.take_batch(10).to_enqueue == []


def test_a_new_delivery_already_claimed_is_marked_sent_but_not_returned(
    deliveries: Deliveries,
) -> None:
    claimed, waiting = add(deliveries, "d-1"), add(deliveries, "d-2")
    assert deliveries.claim(claimed, "w", lease_s=60) is not None

    assert deliveries.take_batch(10).to_enqueue == [waiting]
    assert deliveries.take_batch(10).to_enqueue == []


def test_concurrent_feeders_take_each_delivery_once(store: Store) -> None:
    from concurrent.futures import ThreadPoolExecutor

    deliveries = Deliveries(store)
    added = [add(deliveries, f"d-{n}") for n in range(60)]
    other_process = Store(store.url)
    try:
        feeders = [Deliveries(store), Deliveries(other_process)]
        with ThreadPoolExecutor(4) as pool:
            batches = list(pool.map(lambda n: feeders[n % 2].take_batch(7).to_enqueue, range(40)))
    finally:
        other_process.dispose()

    taken = [delivery_id for batch in batches for delivery_id in batch]
    assert sorted(taken) == added


def test_the_webhook_insert_survives_a_broken_connection(store: Store) -> None:
    deliveries = Deliveries(store)
    add(deliveries, "d-1")
    if store.is_sqlite:  # the thread's kept connection breaks: the next add opens a new one
        deliveries._hot_connection().close()
        with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises
            add(deliveries, "d-2")

    assert deliveries.add("d-3", "e", None, b"{}") is not None
    assert deliveries.add("d-3", "e", None, b"{}") is None


def test_recent_lists_newest_first_without_bodies(deliveries: Deliveries) -> None:
    first, second = add(deliveries, "d-1"), add(deliveries, "d-2")

    listed = deliveries.recent()

    assert [d.id for d in listed] == [second, first]
    assert all(d.body == b"" for d in listed)
    assert deliveries.recent(DeliveryState.DONE) == []


def test_only_one_of_many_concurrent_claims_wins(store: Store) -> None:
    from concurrent.futures import ThreadPoolExecutor

    deliveries = Deliveries(store)
    delivery_id = add(deliveries)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda n: deliveries.claim(delivery_id, f"w{n}", lease_s=60), range(8))
        )

    assert sum(result is not None for result in results) == 1


def test_create_all_creates_the_tables_of_other_modules(store: Store) -> None:
    from sqlalchemy import inspect

    assert "deliveries" in inspect(store.engine).get_table_names()
    assert len(metadata.tables) > 1  # plugin.tree_records registered its tables
    assert set(metadata.tables) <= set(inspect(store.engine).get_table_names())


def test_sqlite_writers_of_different_processes_wait_for_each_other(tmp_path: Path) -> None:
    import threading
    import time

    url = f"sqlite:///{tmp_path}/crossdept.db"
    web, worker = Store(url), Store(url)  # two engines and two lock files handles, as two processes
    web.create_all()
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
    store.create_all()
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
    store.create_all()
    store.create_all()  # and again: nothing left to add

    [delivery] = Deliveries(store).recent()
    assert delivery.outcome is None and delivery.describe(0) == "done"
    store.dispose()
