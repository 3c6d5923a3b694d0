"""The deliveries table: one row per key, claims guarded by state and lease, honest bookkeeping."""

from __future__ import annotations

import pytest

from plugin.spine.deliveries import Deliveries, DeliveryState
from plugin.spine.store import Store
from tests.fakes import EpochClock


def add(deliveries: Deliveries, key: str = "d-1") -> int:
    delivery_id = deliveries.add(key, "jira:issue_created", "CD-1", b"{}")
    assert delivery_id is not None
    return delivery_id


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
