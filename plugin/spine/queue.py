"""The queue transport (huey) for deliveries, their retry schedule, and recovery of lost jobs.

The store's deliveries table is the source of truth; huey only carries delivery ids to workers.
The web process only inserts a row; each worker runs a `Feeder` that hands new rows to huey in
batches. huey deletes a message as soon as a consumer dequeues it, so a worker killed mid-job
would lose it: `recover` re-enqueues queued deliveries the transport no longer holds and running
ones whose lease expired. Claiming a delivery is a conditional UPDATE, so a duplicate message is
harmless.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huey import Huey, crontab
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from plugin.spine.deliveries import Deliveries
from plugin.spine.errors import SettingsError
from plugin.spine.store import keep_private

log = logging.getLogger(__name__)

# How long a queued delivery may sit untouched before recovery checks the transport still has it.
RECOVERY_GRACE_S = 30.0
# How often an idle feeder looks for new deliveries, and how many it hands over at once.
FEED_INTERVAL_S = 0.05
FEED_BATCH = 200
# How often a feeder copies SQLite's write-ahead log into the database (see Store.checkpoint).
CHECKPOINT_INTERVAL_S = 1.0
# Backoff for transient failures: base * 2**(attempt-1), capped; see `retry_delay`.
BACKOFF_BASE_S = 5.0
BACKOFF_CAP_S = 3600.0

Processor = Callable[[int], object]


@dataclass(frozen=True)
class ScheduledJob:
    """Work the consumer runs every `minutes` minutes (recovery, the rules' periodic work)."""

    name: str
    minutes: int
    run: Callable[[], object]


class DeliveryQueue(Huey):  # type: ignore[misc]  # huey ships no type hints
    """A huey queue carrying delivery ids to whichever worker is attached in this process."""

    def __init__(self, name: str, *, storage_class: type[Any], **storage_kwargs: Any) -> None:
        super().__init__(
            name, results=False, utc=True, storage_class=storage_class, **storage_kwargs
        )
        self._processor: Processor | None = None
        self._process_task = self.task(name="process_delivery")(self._process)
        self.scheduled_jobs: dict[str, ScheduledJob] = {}
        self.runnable_jobs: dict[str, ScheduledJob] = {}

    def attach(
        self,
        processor: Processor,
        jobs: Sequence[ScheduledJob] = (),
        *,
        scheduled_elsewhere: Sequence[ScheduledJob] = (),
    ) -> None:
        """Make this process's consumer run deliveries with `processor`, and `jobs` on schedule.

        Every consumer's scheduler runs every job, so each must be safe to run concurrently
        (recovery is; a rule's sweep takes a lease in the store). A scheduler puts a due job
        on the shared queue, where any consumer may take it: so a process that schedules no
        rule work (`--no-periodic`) still registers it, as `scheduled_elsewhere`, or it would
        drop every run it took ("not found in TaskRegistry") and the work would not happen.
        """
        self._processor = processor
        for job in jobs:
            if job.name in self.runnable_jobs:
                continue  # attached before in this process: huey knows it already
            self.scheduled_jobs[job.name] = self.runnable_jobs[job.name] = job
            self.periodic_task(crontab(minute=f"*/{job.minutes}"), name=job.name)(_logged(job))
        for job in scheduled_elsewhere:
            if job.name in self.runnable_jobs:
                continue
            self.runnable_jobs[job.name] = job
            self.task(name=job.name)(_logged(job))

    def enqueue_delivery(self, delivery_id: int, *, delay_s: float | None = None) -> None:
        """Send a delivery id to the workers, now or after `delay_s` seconds (a retry)."""
        if delay_s is not None and delay_s > 0:
            self._process_task.schedule(args=(delivery_id,), delay=delay_s)
        else:
            self._process_task(delivery_id)

    def delivery_ids_in_transport(self) -> set[int]:
        """Ids of deliveries waiting in the queue or scheduled for a retry."""
        ids: set[int] = set()
        for task in [*self.pending(), *self.scheduled()]:
            args, _kwargs = task.data
            if task.name == self._process_task.task_class.__name__ and args:
                ids.add(int(args[0]))
        return ids

    def consume(self, *, workers: int = 2, poll_max_delay_s: float = 1.0) -> None:
        """Run a consumer in this (main) thread until SIGTERM or SIGINT, finishing jobs in hand."""
        consumer = self.create_consumer(
            workers=workers,
            worker_type="thread",
            periodic=True,
            max_delay=poll_max_delay_s,
            graceful_signal="TERM",
            shutdown_timeout=30,
        )
        consumer.run()

    def _process(self, delivery_id: int) -> None:
        if self._processor is None:
            raise RuntimeError("no worker is attached to this queue in this process")
        self._processor(delivery_id)


def _logged(job: ScheduledJob) -> Callable[[], None]:
    """Run a scheduled job, logging a failure instead of letting it reach huey's consumer."""

    def run() -> None:
        try:
            job.run()
        except Exception:  # noqa: BLE001 - the next run comes in a few minutes
            log.exception("periodic work failed", extra={"task": job.name})

    run.__name__ = job.name
    return run


def make_queue(url: str, *, name: str = "crossdept") -> DeliveryQueue:
    """Build the transport from a URL: sqlite:///path (file created if missing), redis://, memory://."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        keep_private(path)
        # fsync off: the store, not the queue file, is what must survive a power cut (see recover).
        return DeliveryQueue(name, storage_class=SqliteStorage, filename=str(path), fsync=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return DeliveryQueue(name, storage_class=RedisStorage, url=url)
    if url.startswith("memory://"):  # One process only: for tests.
        return DeliveryQueue(name, storage_class=MemoryStorage)
    raise SettingsError(
        f"CROSSDEPT_QUEUE_URL must start with sqlite:///, redis:// or rediss://, not {url!r}"
    )


class Feeder:
    """Hand the deliveries the web processes stored to the queue transport, in batches.

    Runs in every worker process. Taking a batch marks it sent in one UPDATE; if the process
    dies before enqueueing all of it, `recover` finds those deliveries queued but absent from
    the transport and enqueues them. Given `needs_work` (the router's `handles`), it marks
    deliveries of events no rule handles done in that UPDATE rather than enqueueing a job
    that would only parse them and find nothing to do. Between batches it checkpoints
    SQLite's write-ahead log, so no web request has to.
    """

    def __init__(
        self,
        deliveries: Deliveries,
        queue: DeliveryQueue,
        *,
        needs_work: Callable[[str], bool] | None = None,
        batch: int = FEED_BATCH,
        interval_s: float = FEED_INTERVAL_S,
        checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S,
    ) -> None:
        self.deliveries = deliveries
        self.queue = queue
        self.needs_work = needs_work
        self.batch = batch
        self.interval_s = interval_s
        self.checkpoint_interval_s = checkpoint_interval_s

    def feed_once(self) -> int:
        """Enqueue up to one batch of new deliveries; return how many were taken (enqueued or,
        needing no work, finished)."""
        batch = self.deliveries.take_batch(self.batch, needs_work=self.needs_work)
        for delivery_id in batch.to_enqueue:
            self.queue.enqueue_delivery(delivery_id)
        if batch.finished:
            log.debug(
                "deliveries no rule handles marked done", extra={"count": len(batch.finished)}
            )
        return len(batch.to_enqueue) + len(batch.finished)

    def run(self, stop: threading.Event) -> None:
        """Feed until `stop` is set: at once again after a full batch, else after a short pause."""
        checkpointed = time.monotonic()
        while not stop.is_set():
            try:
                taken = self.feed_once()
                if time.monotonic() - checkpointed >= self.checkpoint_interval_s:
                    self.deliveries.store.checkpoint()
                    checkpointed = time.monotonic()
            except Exception:  # noqa: BLE001 - the store or queue is down: wait, then try again
                log.exception("feeding the queue failed; trying again in a second")
                stop.wait(1.0)
                continue
            if taken < self.batch:
                stop.wait(self.interval_s)

    def start(self) -> tuple[threading.Thread, threading.Event]:
        """Run in a daemon thread; set the returned event (and join the thread) to stop it."""
        stop = threading.Event()
        thread = threading.Thread(target=self.run, args=(stop,), name="feeder", daemon=True)
        thread.start()
        return thread, stop


def retry_delay(
    attempt: int,
    retry_after: float | None = None,
    *,
    base_s: float = BACKOFF_BASE_S,
    cap_s: float = BACKOFF_CAP_S,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before attempt `attempt + 1`: the server's Retry-After, else backoff.

    Exponential backoff with jitter, and Retry-After honoured when Jira sends one, as Atlassian
    asks of clients: https://developer.atlassian.com/cloud/jira/platform/rate-limiting/
    """
    if retry_after is not None and retry_after > 0:
        # Never earlier than asked; a little later at random so workers do not return together.
        return float(retry_after) * (1.0 + 0.2 * rng())
    ceiling = min(cap_s, base_s * 2.0 ** max(attempt - 1, 0))
    return ceiling / 2.0 + rng() * ceiling / 2.0


def recover(
    deliveries: Deliveries,
    queue: DeliveryQueue,
    *,
    grace_s: float = RECOVERY_GRACE_S,
    clock: Callable[[], float] = time.time,
) -> list[int]:
    """Re-enqueue deliveries the transport lost; return their ids. Safe to run anywhere, any time.

    Two ways to lose one: its worker died (the lease expired), or an enqueue failed or its
    process died just before it (queued and sent in the store, absent from the transport).
    Deliveries not yet sent are the feeder's; recovery feeds them too, in case no feeder runs.
    """
    Feeder(deliveries, queue).feed_once()
    lost: dict[int, float] = {}
    for delivery in deliveries.release_expired():
        lost[delivery.id] = 0.0
        log.warning(
            "delivery lease expired (its worker died); re-enqueued",
            extra={"delivery": delivery.key, "issue": delivery.issue},
        )
    stale = deliveries.waiting(older_than_s=grace_s)
    if stale:
        in_transport = queue.delivery_ids_in_transport()
        now = clock()
        for delivery in stale:
            if delivery.id in in_transport or delivery.id in lost:
                continue
            # A lost retry keeps its backoff: send it when it is due, not now.
            lost[delivery.id] = max(delivery.run_after - now, 0.0)
            log.warning(
                "delivery missing from the queue; re-enqueued",
                extra={"delivery": delivery.key, "issue": delivery.issue},
            )
    for delivery_id, delay_s in lost.items():
        queue.enqueue_delivery(delivery_id, delay_s=delay_s)
    deliveries.touch(list(lost))
    return list(lost)
