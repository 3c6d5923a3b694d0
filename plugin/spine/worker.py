"""Process one accepted delivery: claim it, run the rules on it, and record how it ended."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum

from plugin.spine.context import Context
from plugin.spine.deliveries import DONE, SKIPPED_NO_RULE, SKIPPED_OWN_EVENT, Deliveries, Delivery
from plugin.spine.errors import NotYetError, RefusedError, TransientGatewayError, uses_an_attempt
from plugin.spine.events import CROSSDEPT_EVENTS, GROUP_NEWS, decode_body, parse_event
from plugin.spine.leases import new_holder
from plugin.spine.queue import DeliveryQueue, retry_delay
from plugin.spine.routing import HandlerFailuresError, Router

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 8
# A running delivery's lease; the worker renews it every third of this while the job runs,
# so only a dead (or frozen) worker lets it expire and recovery hand the job to another.
DEFAULT_LEASE_S = 60.0
_MAX_ERROR_CHARS = 2000

ContextFactory = Callable[[str], Context]
"""Build the Context for one job from its delivery key."""


class LeaseKeeper:
    """Renew the leases of every job a worker is running, from one thread, every third of a lease.

    One thread per worker rather than one per job: starting and joining a thread for each job
    cost more CPU than the rest of a job that finds nothing to do. The thread runs while jobs
    hold leases and ends at the first beat at which none does, so an idle worker keeps no thread
    waking up.
    """

    def __init__(self, deliveries: Deliveries, owner: str, lease_s: float) -> None:
        self.deliveries = deliveries
        self.owner = owner
        self.lease_s = lease_s
        self._held: set[int] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def renewing(self) -> bool:
        """Whether the renewing thread is running (it stops once no job holds a lease)."""
        with self._lock:
            return self._thread is not None

    @contextmanager
    def held(self, delivery_id: int) -> Iterator[None]:
        """Keep renewing this delivery's lease until the block ends."""
        with self._lock:
            self._held.add(delivery_id)
            if self._thread is None:
                name = f"leases-{self.owner}"
                self._thread = threading.Thread(target=self._renew, name=name, daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._held.discard(delivery_id)

    def _renew(self) -> None:
        while True:
            time.sleep(self.lease_s / 3)
            with self._lock:
                if not self._held:
                    # Decided under the lock, so a job arriving now starts a new thread.
                    self._thread = None
                    return
                held = sorted(self._held)
            for delivery_id in held:
                try:
                    self.deliveries.heartbeat(delivery_id, self.owner, self.lease_s)
                except Exception:  # noqa: BLE001 - try again next beat; the lease has slack
                    log.exception("lease renewal failed", extra={"delivery_id": delivery_id})


class Outcome(StrEnum):
    """How one attempt ended (the labels of the job metric)."""

    DONE = "done"
    SKIPPED = "skipped"
    RETRIED = "retried"
    FAILED = "failed"
    NOT_CLAIMED = "not_claimed"


def transient_retry_after(error: BaseException) -> tuple[bool, float | None]:
    """Say whether an error is worth retrying, and after how long the server asked us to wait.

    Network failures, Jira 5xx and 429 are transient; so are handler failures that are all
    transient. Refusals (4xx) and anything else are permanent: the same request fails again.
    """
    if isinstance(error, TransientGatewayError):
        return True, error.retry_after
    if isinstance(error, HandlerFailuresError) and error.failures:
        causes = _causes(error)
        if all(isinstance(cause, TransientGatewayError) for cause in causes):
            waits = [c.retry_after for c in causes if isinstance(c, TransientGatewayError)]
            given = [wait for wait in waits if wait is not None]
            return True, max(given) if given else None
    return False, None


def _causes(error: BaseException) -> list[BaseException]:
    """The errors behind a failure: each handler's, or the error itself."""
    if isinstance(error, HandlerFailuresError) and error.failures:
        return [cause for _name, cause in error.failures]
    return [error]


def comes_back_when_booked(error: BaseException) -> bool:
    """Whether every cause holds a booked moment (NotYetError.booked): come back exactly then."""
    return all(isinstance(cause, NotYetError) and cause.booked for cause in _causes(error))


def counts_as_attempt(error: BaseException) -> bool:
    """Whether a failure uses up one of the job's attempts: not when every cause only waited
    (a busy tree, the shared Jira budget, Jira's own 429), so waiting never ends in `failed`."""
    return not all(
        isinstance(cause, TransientGatewayError) and not uses_an_attempt(cause)
        for cause in _causes(error)
    )


def describe_error(error: BaseException) -> str:
    """One line for the jobs table and the log: the error's type and what the server said."""
    if isinstance(error, RefusedError):
        # What was refused, by which server (the address), and what it said.
        said = error.reason()
        text = f"RefusedError {error.status}: {error}" + (f": {said}" if said != str(error) else "")
    elif isinstance(error, HandlerFailuresError):
        text = "; ".join(f"{name}: {describe_error(cause)}" for name, cause in error.failures)
    else:
        text = f"{type(error).__name__}: {error}"
    return text[:_MAX_ERROR_CHARS]


class Worker:
    """Run deliveries through the router, at least once, retrying transient failures later."""

    def __init__(
        self,
        deliveries: Deliveries,
        queue: DeliveryQueue,
        router: Router,
        context_factory: ContextFactory,
        own_account: Callable[[], str | None],
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        lease_s: float = DEFAULT_LEASE_S,
        observer: Callable[[float, str], None] | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.deliveries = deliveries
        self.queue = queue
        self.router = router
        self.context_factory = context_factory
        self.own_account = own_account
        self.max_attempts = max_attempts
        self.lease_s = lease_s
        self.observer = observer
        self.rng = rng
        # Unique per process run, so a restarted worker never mistakes an old lease for its own.
        self.owner = new_holder("worker")
        self.leases = LeaseKeeper(deliveries, self.owner, lease_s)

    def run(self, delivery_id: int) -> Outcome:
        """Claim and process one delivery; never raises for the job's own failures."""
        delivery = self.deliveries.claim(delivery_id, self.owner, self.lease_s)
        if delivery is None:
            # Not due yet, finished already, or running elsewhere: a duplicate message.
            log.debug("delivery not claimed", extra={"delivery_id": delivery_id})
            return Outcome.NOT_CLAIMED
        fields: dict[str, object] = {
            "delivery": delivery.key,
            "issue": delivery.issue,
            "attempt": delivery.attempts,
        }
        started = time.monotonic()
        if delivery.attempts > self.max_attempts:
            # Its worker died during every attempt (e.g. killed for memory): stop trying.
            error = f"gave up after {self.max_attempts} attempts; last: {delivery.last_error}"
            self.deliveries.fail(delivery.id, self.owner, error)
            log.error("delivery failed", extra={**fields, "error": error})
            return self._observe(started, Outcome.FAILED)
        try:
            outcome, note = self.process(delivery)
        except Exception as error:  # noqa: BLE001 - every failure is recorded on the delivery
            return self._observe(started, self._record_failure(delivery, error, fields))
        if not self.deliveries.finish(delivery.id, self.owner, note):
            log.warning("delivery lease lost before finishing", extra=fields)
        duration_ms = round((time.monotonic() - started) * 1000, 2)
        log.info(f"delivery {outcome.value}", extra={**fields, "duration_ms": duration_ms})
        return self._observe(started, outcome)

    def process(self, delivery: Delivery) -> tuple[Outcome, str]:
        """Parse the stored body and dispatch it, unless crossdept itself caused the event.

        Returns the outcome and how to describe it to people (`crossdept jobs`).

        The web edge already drops our own events when it knows our account; this check also
        covers the account learnt from Jira (`/myself`) and deliveries accepted before.
        """
        own = delivery.event.startswith(CROSSDEPT_EVENTS) and delivery.event != GROUP_NEWS
        if own or not self.router.handles(delivery.event):
            # Nothing to do, known from the stored event name without parsing the body. Only
            # crossdept announces its own events (`Context.announce`); a webhook never does
            # (the receiver refuses them). Group news is the one crossdept stores as a job.
            return Outcome.DONE, SKIPPED_NO_RULE
        # The one parse of this delivery on the worker's side (the receiver validated the same
        # bytes before accepting them; a parse takes far less than a lease).
        event = parse_event(decode_body(delivery.body))
        if not self.router.fetch(event):
            return Outcome.DONE, SKIPPED_NO_RULE
        fields = {"delivery": delivery.key, "issue": delivery.issue, "attempt": delivery.attempts}
        with self.leases.held(delivery.id):  # from here on Jira may be slow: keep the job ours
            if event.caused_by(self.own_account()):
                log.info("delivery skipped: caused by crossdept's own account", extra=fields)
                return Outcome.SKIPPED, SKIPPED_OWN_EVENT
            log.debug("delivery started", extra=fields)
            context = self.context_factory(delivery.key)
            self.router.dispatch(event, context)
        return Outcome.DONE, DONE

    def _record_failure(
        self, delivery: Delivery, error: BaseException, fields: dict[str, object]
    ) -> Outcome:
        transient, retry_after = transient_retry_after(error)
        text = describe_error(error)
        counted = counts_as_attempt(error)
        if transient and (delivery.attempts < self.max_attempts or not counted):
            if retry_after is not None and comes_back_when_booked(error):
                delay_s = max(retry_after, 0.0)  # its booked moment, no jitter
            else:
                delay_s = retry_delay(delivery.attempts, retry_after, rng=self.rng)
            # Store first: if the enqueue below fails, recovery finds the delivery queued and
            # absent from the transport, and enqueues it when it is due.
            if self.deliveries.defer(delivery.id, self.owner, delay_s, text, count_attempt=counted):
                self.queue.enqueue_delivery(delivery.id, delay_s=delay_s)
            log.warning(
                "delivery retry scheduled",
                extra={**fields, "error": text, "retry_in_s": round(delay_s, 1)},
            )
            return Outcome.RETRIED
        self.deliveries.fail(delivery.id, self.owner, text)
        log.error("delivery failed", extra={**fields, "error": text})
        return Outcome.FAILED

    def _observe(self, started: float, outcome: Outcome) -> Outcome:
        if self.observer is not None:
            self.observer(time.monotonic() - started, outcome.value)
        return outcome
