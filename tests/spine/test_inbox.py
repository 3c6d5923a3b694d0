"""The inbox stores each delivery once; the feeder enqueues it; a queue outage loses nothing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from plugin.spine.deliveries import Deliveries, DeliveryState
from plugin.spine.inbox import Inbox
from plugin.spine.queue import RECOVERY_GRACE_S, DeliveryQueue, Feeder, make_queue, recover
from plugin.spine.store import Store


def test_a_new_delivery_is_stored_and_left_for_the_feeder(
    store: Store, queue: DeliveryQueue
) -> None:
    inbox = Inbox(store, queue)

    assert inbox.accept("d-1", "jira:issue_created", "CD-1", b'{"webhookEvent": "x"}') is True

    [delivery] = Deliveries(store).recent()
    assert (delivery.key, delivery.event, delivery.issue) == ("d-1", "jira:issue_created", "CD-1")
    assert delivery.state is DeliveryState.QUEUED
    assert Deliveries(store).get(delivery.id).body == b'{"webhookEvent": "x"}'  # type: ignore[union-attr]
    assert inbox.depth() == 1
    assert queue.pending_count() == 0  # the web process never waits on the transport

    assert Feeder(Deliveries(store), queue).feed_once() == 1
    assert queue.delivery_ids_in_transport() == {delivery.id}
    assert Feeder(Deliveries(store), queue).feed_once() == 0


def test_a_duplicate_key_is_refused_and_not_enqueued_again(
    store: Store, queue: DeliveryQueue
) -> None:
    inbox = Inbox(store, queue)
    inbox.accept("d-1", "jira:issue_created", "CD-1", b"{}")
    Feeder(Deliveries(store), queue).feed_once()

    assert inbox.accept("d-1", "jira:issue_created", "CD-1", b"{}") is False

    assert Feeder(Deliveries(store), queue).feed_once() == 0
    assert len(Deliveries(store).recent()) == 1
    assert queue.pending_count() == 1


def test_duplicates_are_detected_across_processes_sharing_the_database(
    store: Store, queue: DeliveryQueue
) -> None:
    other_process_store = Store(store.url)
    try:
        assert Inbox(store, queue).accept("d-1", "e", None, b"{}") is True
        assert Inbox(other_process_store, queue).accept("d-1", "e", None, b"{}") is False
    finally:
        other_process_store.dispose()


class BrokenQueue(DeliveryQueue):
    def enqueue_delivery(self, delivery_id: int, *, delay_s: float | None = None) -> None:
        raise ConnectionError("queue is down")


def test_a_delivery_is_accepted_while_the_queue_is_down_and_recovered_later(
    store: Store, queue: DeliveryQueue
) -> None:
    from huey.storage import MemoryStorage

    broken = BrokenQueue("broken", storage_class=MemoryStorage)
    inbox = Inbox(store, broken)

    assert inbox.accept("d-1", "jira:issue_created", "CD-1", b"{}") is True
    with pytest.raises(ConnectionError):
        Feeder(Deliveries(store), broken).feed_once()  # taken, then the enqueue failed

    assert Deliveries(store).count(DeliveryState.QUEUED) == 1
    [delivery] = Deliveries(store).recent()
    later = Deliveries(store, clock=lambda: time.time() + RECOVERY_GRACE_S + 1)
    assert recover(later, queue, clock=later.clock) == [delivery.id]
    assert queue.delivery_ids_in_transport() == {delivery.id}


def test_health_needs_both_the_store_and_the_queue(store: Store, tmp_path: Path) -> None:
    queue = make_queue(f"sqlite:///{tmp_path}/q.db")
    assert Inbox(store, queue).health() == {"store": True, "store_writes": True, "queue": True}

    (tmp_path / "a-file").write_text("not a directory")
    unreachable = Store(f"sqlite:///{tmp_path}/a-file/x.db")
    assert Inbox(unreachable, queue).health() == {
        "store": False,
        "store_writes": False,
        "queue": True,
    }
