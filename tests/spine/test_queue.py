"""The transport: URL forms, delayed retries, backoff figures, and recovery of lost deliveries."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from plugin.spine.deliveries import Deliveries, DeliveryState
from plugin.spine.errors import SettingsError
from plugin.spine.queue import DeliveryQueue, Feeder, ScheduledJob, make_queue, recover, retry_delay
from plugin.spine.store import Store
from tests.fakes import EpochClock


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    return sqlite_store


def test_a_sqlite_queue_creates_its_directory(tmp_path: Path) -> None:
    make_queue(f"sqlite:///{tmp_path}/a/b/queue.db").pending_count()
    assert (tmp_path / "a" / "b" / "queue.db").exists()


def test_an_unknown_queue_url_names_the_setting() -> None:
    with pytest.raises(SettingsError, match="CROSSDEPT_QUEUE_URL"):
        make_queue("amqp://localhost")


def test_enqueued_and_delayed_deliveries_are_both_in_transport(queue: DeliveryQueue) -> None:
    queue.enqueue_delivery(1)
    queue.enqueue_delivery(2, delay_s=600)

    assert queue.delivery_ids_in_transport() == {1, 2}
    assert queue.pending_count() == 2


def test_a_task_runs_through_the_attached_processor(queue: DeliveryQueue) -> None:
    ran: list[int] = []
    queue.attach(ran.append)
    queue.enqueue_delivery(7)

    queue.execute(queue.dequeue())

    assert ran == [7]


def test_attached_jobs_become_periodic_tasks_whose_failures_are_logged(
    queue: DeliveryQueue, caplog: pytest.LogCaptureFixture
) -> None:
    from datetime import datetime

    ran: list[str] = []

    def sweep() -> None:
        ran.append("sweep")
        raise RuntimeError("Jira was down")

    queue.attach(
        ran.append, [ScheduledJob("sweep", 5, sweep), ScheduledJob("recover", 1, ran.clear)]
    )
    queue.attach(ran.append, [ScheduledJob("sweep", 5, sweep)])  # again: installed once

    assert set(queue.scheduled_jobs) == {"sweep", "recover"}
    due = {task.name for task in queue.read_periodic(datetime(2026, 12, 1, 10, 5))}
    assert {"sweep", "recover"} <= due
    assert {task.name for task in queue.read_periodic(datetime(2026, 12, 1, 10, 6))} >= {"recover"}
    assert "sweep" not in {task.name for task in queue.read_periodic(datetime(2026, 12, 1, 10, 6))}
    [sweep_task] = [
        task for task in queue.read_periodic(datetime(2026, 12, 1, 10, 5)) if task.name == "sweep"
    ]
    queue.execute(sweep_task)  # raises inside, logged, the consumer goes on
    assert ran == ["sweep"]
    assert "periodic work failed" in caplog.text


def test_a_consumer_that_schedules_no_rule_work_runs_what_the_scheduler_queued(
    tmp_path: Path,
) -> None:
    from datetime import datetime

    url = f"sqlite:///{tmp_path}/queue.db"  # one transport, two processes
    scheduler, worker = make_queue(url), make_queue(url)
    ran: list[str] = []
    sweep = ScheduledJob("sweep", 5, lambda: ran.append("sweep"))
    scheduler.attach(ran.append, [sweep])
    worker.attach(ran.append, scheduled_elsewhere=[sweep])

    for task in scheduler.read_periodic(datetime(2026, 12, 1, 10, 5)):
        scheduler.enqueue(task)  # what the scheduler's consumer does when a job is due
    worker.execute(worker.dequeue())  # the shared queue handed it to the other process

    assert ran == ["sweep"]
    assert list(worker.scheduled_jobs) == [] and list(worker.runnable_jobs) == ["sweep"]
    assert worker.read_periodic(datetime(2026, 12, 1, 10, 5)) == []  # it schedules nothing


def test_a_consumer_that_does_not_know_a_job_cannot_run_it(tmp_path: Path) -> None:
    from datetime import datetime

    from huey.exceptions import HueyException

    url = f"sqlite:///{tmp_path}/queue.db"
    scheduler, worker = make_queue(url), make_queue(url)
    scheduler.attach(print, [ScheduledJob("sweep", 5, lambda: None)])
    worker.attach(print)
    for task in scheduler.read_periodic(datetime(2026, 12, 1, 10, 5)):
        scheduler.enqueue(task)

    with pytest.raises(HueyException, match="not found in TaskRegistry"):
        worker.dequeue()  # why every process must register every job


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    assert retry_delay(1, rng=lambda: 0.0) == 2.5
    assert retry_delay(1, rng=lambda: 1.0) == 5.0
    assert retry_delay(4, rng=lambda: 1.0) == 40.0
    assert retry_delay(30, rng=lambda: 1.0) == 3600.0
    delays = {retry_delay(3, rng=random.random) for _ in range(20)}
    assert len(delays) > 1 and all(10.0 <= d <= 20.0 for d in delays)


def test_retry_after_is_honoured_never_earlier() -> None:
    assert retry_delay(1, 30, rng=lambda: 0.0) == 30.0
    assert 30.0 <= retry_delay(7, 30, rng=lambda: 1.0) <= 36.0


def test_recovery_re_enqueues_a_delivery_whose_worker_died(
    deliveries: Deliveries, queue: DeliveryQueue, clock: EpochClock
) -> None:
    delivery_id = deliveries.add("d-1", "jira:issue_created", "CD-1", b"{}")
    assert delivery_id is not None
    deliveries.claim(delivery_id, "dead-worker", lease_s=10)  # its message is gone from huey
    clock.now += 11

    assert recover(deliveries, queue, clock=clock) == [delivery_id]

    assert deliveries.get(delivery_id).state is DeliveryState.QUEUED  # type: ignore[union-attr]
    assert queue.delivery_ids_in_transport() == {delivery_id}


def test_recovery_enqueues_a_delivery_taken_for_sending_but_never_enqueued(
    deliveries: Deliveries, queue: DeliveryQueue, clock: EpochClock
) -> None:
    lost = deliveries.add("d-1", "e", None, b"{}")
    in_queue = deliveries.add("d-2", "e", None, b"{}")
    assert lost is not None and in_queue is not None
    assert deliveries.take_batch(10).to_enqueue == [
        lost,
        in_queue,
    ]  # ...and the feeder died after one
    queue.enqueue_delivery(in_queue)

    assert recover(deliveries, queue, grace_s=30, clock=clock) == []  # too recent to judge
    clock.now += 31
    assert recover(deliveries, queue, grace_s=30, clock=clock) == [lost]
    assert recover(deliveries, queue, grace_s=30, clock=clock) == []  # now in transport

    assert queue.pending_count() == 2


def test_recovery_also_feeds_new_deliveries_in_case_no_feeder_runs(
    deliveries: Deliveries, queue: DeliveryQueue, clock: EpochClock
) -> None:
    new = deliveries.add("d-1", "e", None, b"{}")

    assert recover(deliveries, queue, clock=clock) == []

    assert queue.delivery_ids_in_transport() == {new}


def test_the_feeder_hands_new_deliveries_over_in_batches(
    deliveries: Deliveries, queue: DeliveryQueue
) -> None:
    added = [deliveries.add(f"d-{n}", "e", None, b"{}") for n in range(5)]
    feeder = Feeder(deliveries, queue, batch=2)

    assert [feeder.feed_once() for _ in range(4)] == [2, 2, 1, 0]

    assert queue.delivery_ids_in_transport() == set(added)


def test_a_running_feeder_enqueues_within_its_interval_and_stops(
    deliveries: Deliveries, queue: DeliveryQueue
) -> None:
    thread, stop = Feeder(deliveries, queue, interval_s=0.01).start()
    try:
        new = deliveries.add("d-1", "e", None, b"{}")
        deadline = time.monotonic() + 10
        while not queue.delivery_ids_in_transport() and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(timeout=10)

    assert not thread.is_alive()
    assert queue.delivery_ids_in_transport() == {new}


def test_recovery_keeps_the_backoff_of_a_lost_retry(
    deliveries: Deliveries, queue: DeliveryQueue, clock: EpochClock
) -> None:
    delivery_id = deliveries.add("d-1", "e", None, b"{}")
    assert delivery_id is not None
    deliveries.claim(delivery_id, "w", lease_s=10)
    deliveries.defer(delivery_id, "w", 600, "503")  # ...and the scheduled message was lost
    clock.now += 60

    assert recover(deliveries, queue, clock=clock) == [delivery_id]

    [task] = queue.pending()
    assert task.eta is not None  # due in about 540 s, not now


def test_the_feeder_marks_deliveries_no_rule_handles_done_without_a_job(
    deliveries: Deliveries, queue: DeliveryQueue
) -> None:
    comment = deliveries.add("d-comment", "comment_created", "XD-1", b"{}")
    update = deliveries.add("d-update", "jira:issue_updated", "XD-1", b"{}")
    feeder = Feeder(deliveries, queue, needs_work=lambda event: event == "jira:issue_updated")

    assert feeder.feed_once() == 2
    assert queue.delivery_ids_in_transport() == {update}
    assert comment is not None and update is not None
    finished = deliveries.get(comment)
    assert finished is not None and finished.state is DeliveryState.DONE
    assert finished.attempts == 0 and finished.sent_at is not None
    waiting = deliveries.get(update)
    assert waiting is not None and waiting.state is DeliveryState.QUEUED
    assert feeder.feed_once() == 0
