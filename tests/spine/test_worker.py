"""The worker runs each delivery through the router once, retries what is transient, keeps failures."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from plugin.spine.context import Context
from plugin.spine.deliveries import Deliveries, DeliveryState
from plugin.spine.errors import NotYetError, RefusedError, TransientGatewayError
from plugin.spine.events import ISSUE_CREATED_BY_CROSSDEPT, JiraEvent, created_by_crossdept
from plugin.spine.queue import DeliveryQueue, make_queue
from plugin.spine.routing import Router
from plugin.spine.store import Store
from plugin.spine.worker import LeaseKeeper, Outcome, Worker, describe_error, transient_retry_after
from tests.fakes import ALL_TABLES, EpochClock

SAMPLE = (
    Path(__file__).resolve().parents[1]
    / "samples"
    / "jira_issue_created__mattermost_mattermost-plugin-jira__1.json"
)
OWN_ACCOUNT = "crossdept-bot"


def body(actor: str = "5cedcb4355a88a0fc86388ba") -> bytes:
    data = json.loads(SAMPLE.read_text())
    data["user"]["accountId"] = actor
    return json.dumps(data).encode()


class Recorder:
    """A handler that records what it saw and raises what it is told to."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.seen: list[tuple[str | None, str | None]] = []

    def __call__(self, event: JiraEvent, context: Context) -> None:
        self.seen.append((event.issue_key, context.delivery_key))
        if self.errors:
            raise self.errors.pop(0)


def router_with(*handlers: Any) -> Router:
    router = Router()
    for handler in handlers:
        router.add(handler, "jira:issue_created")
    return router


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    return sqlite_store


@pytest.fixture
def queue() -> DeliveryQueue:
    return make_queue("memory://")


def make_worker(
    deliveries: Deliveries, queue: DeliveryQueue, router: Router, **options: Any
) -> Worker:
    def context_for(key: str) -> Context:
        return Context(
            rules=None,  # type: ignore[arg-type]
            jira=None,  # type: ignore[arg-type]
            store=deliveries.store,
            clock=lambda: None,  # type: ignore[arg-type,return-value]
            delivery_key=key,
        )

    options.setdefault("rng", lambda: 0.5)
    return Worker(deliveries, queue, router, context_for, lambda: OWN_ACCOUNT, **options)


def test_a_delivery_is_dispatched_with_its_key_and_marked_done(
    deliveries: Deliveries, queue: DeliveryQueue
) -> None:
    handler = Recorder()
    delivery_id = deliveries.add("d-1", "jira:issue_created", "KT-1", body())
    assert delivery_id is not None

    outcome = make_worker(deliveries, queue, router_with(handler)).run(delivery_id)

    assert outcome is Outcome.DONE
    assert handler.seen == [("KT-22", "d-1")]
    stored = deliveries.get(delivery_id)
    assert stored is not None
    assert (stored.state, stored.attempts, stored.last_error) == (DeliveryState.DONE, 1, None)


def test_events_caused_by_our_own_account_are_skipped(
    deliveries: Deliveries, queue: DeliveryQueue
) -> None:
    handler = Recorder()
    delivery_id = deliveries.add("d-1", "jira:issue_created", "KT-1", body(actor=OWN_ACCOUNT))
    assert delivery_id is not None

    outcome = make_worker(deliveries, queue, router_with(handler)).run(delivery_id)

    assert outcome is Outcome.SKIPPED
    assert handler.seen == []
    assert deliveries.get(delivery_id).state is DeliveryState.DONE  # type: ignore[union-attr]


def test_an_event_no_handler_wants_is_done_without_building_a_context(
    deliveries: Deliveries, queue: DeliveryQueue
) -> None:
    delivery_id = deliveries.add("d-1", "jira:issue_created", "KT-1", body())
    assert delivery_id is not None

    def no_context(key: str) -> Context:
        raise AssertionError("a context (and a Jira connection) was built for nothing")

    worker = Worker(deliveries, queue, Router(), no_context, lambda: OWN_ACCOUNT)

    assert worker.run(delivery_id) is Outcome.DONE


def test_a_transient_failure_is_scheduled_for_later_without_sleeping(
    deliveries: Deliveries, queue: DeliveryQueue, clock: EpochClock
) -> None:
    handler = Recorder(TransientGatewayError("Jira answered 429", retry_after=120))
    delivery_id = deliveries.add("d-1", "jira:issue_created", "KT-1", body())
    assert delivery_id is not None
    started = time.monotonic()

    outcome = make_worker(deliveries, queue, router_with(handler)).run(delivery_id)

    assert time.monotonic() - started < 2.0
    assert outcome is Outcome.RETRIED
    stored = deliveries.get(delivery_id)
    assert stored is not None
    assert stored.state is DeliveryState.QUEUED
    assert stored.run_after >= clock.now + 120  # Retry-After honoured
    assert "429" in (stored.last_error or "")
    # huey parks a task with an eta in the queue; its scheduler holds it until due.
    [task] = queue.pending()
    assert task.args == (delivery_id,)
    assert task.eta is not None


def test_a_retry_is_not_run_before_it_is_due(
    deliveries: Deliveries, queue: DeliveryQueue, clock: EpochClock
) -> None:
    handler = Recorder(TransientGatewayError("timeout"))
    delivery_id = deliveries.add("d-1", "jira:issue_created", "KT-1", body())
    assert delivery_id is not None
    worker = make_worker(deliveries, queue, router_with(handler))
    worker.run(delivery_id)

    assert worker.run(delivery_id) is Outcome.NOT_CLAIMED  # a duplicate message, too early

    clock.now += 3600
    assert worker.run(delivery_id) is Outcome.DONE
    assert deliveries.get(delivery_id).attempts == 2  # type: ignore[union-attr]


def test_handler_failures_that_are_all_transient_are_retried() -> None:
    from plugin.spine.routing import HandlerFailuresError

    all_transient = HandlerFailuresError(
        [("a", TransientGatewayError("502", retry_after=3)), ("b", TransientGatewayError("x"))]
    )
    mixed = HandlerFailuresError(
        [
            ("a", TransientGatewayError("502")),
            (
                "b",
                RefusedError(
                    "PUT /rest/api/2/issue/{key}: HTTP 400 from Jira at J", 400, ["Field x"]
                ),
            ),
        ]
    )

    assert transient_retry_after(all_transient) == (True, 3)
    assert transient_retry_after(mixed) == (False, None)
    assert transient_retry_after(ValueError("bug")) == (False, None)
    # What was refused, by which server, and what it said.
    said = "RefusedError 400: PUT /rest/api/2/issue/{key}: HTTP 400 from Jira at J: Field x"
    assert said in describe_error(mixed)


def test_a_refusal_fails_at_once_with_jiras_reason(
    deliveries: Deliveries, queue: DeliveryQueue
) -> None:
    refusal = RefusedError("refused", 400, errors={"duedate": "Due date is required."})
    delivery_id = deliveries.add("d-1", "jira:issue_created", "KT-1", body())
    assert delivery_id is not None

    outcome = make_worker(deliveries, queue, router_with(Recorder(refusal))).run(delivery_id)

    assert outcome is Outcome.FAILED
    stored = deliveries.get(delivery_id)
    assert stored is not None
    assert stored.state is DeliveryState.FAILED
    assert stored.attempts == 1
    assert "duedate: Due date is required." in (stored.last_error or "")
    assert queue.delivery_ids_in_transport() == set()  # no retry scheduled


def test_a_body_that_is_not_a_jira_event_fails_without_retry(
    deliveries: Deliveries, queue: DeliveryQueue
) -> None:
    delivery_id = deliveries.add("d-1", "jira:issue_created", None, b"[1, 2]")
    assert delivery_id is not None

    handler = Recorder()
    assert make_worker(deliveries, queue, router_with(handler)).run(delivery_id) is Outcome.FAILED
    assert "PayloadError" in (deliveries.get(delivery_id).last_error or "")  # type: ignore[union-attr]
    assert handler.seen == []


def test_an_event_no_rule_handles_is_skipped_without_parsing_its_body(
    deliveries: Deliveries, queue: DeliveryQueue
) -> None:
    delivery_id = deliveries.add("d-1", "worklog_created", None, b"not even JSON")
    assert delivery_id is not None

    worker = make_worker(deliveries, queue, router_with(Recorder()))
    assert worker.run(delivery_id) is Outcome.DONE
    done = deliveries.get(delivery_id)
    assert done is not None and done.outcome == "skipped: no rule"


def test_a_webhook_posing_as_crossdepts_own_announcement_runs_no_handler(
    deliveries: Deliveries, queue: DeliveryQueue
) -> None:
    """Only crossdept announces what it created (`Context.announce`); a webhook saying so is not
    believed, whoever sent it."""
    handler = Recorder()
    router = Router()
    router.add(handler, ISSUE_CREATED_BY_CROSSDEPT)
    forged = json.loads(body())
    forged["webhookEvent"] = ISSUE_CREATED_BY_CROSSDEPT
    delivery_id = deliveries.add(
        "d-1", ISSUE_CREATED_BY_CROSSDEPT, "KT-1", json.dumps(forged).encode()
    )
    assert delivery_id is not None

    assert make_worker(deliveries, queue, router).run(delivery_id) is Outcome.DONE
    assert handler.seen == []
    done = deliveries.get(delivery_id)
    assert done is not None and done.outcome == "skipped: no rule"


def test_an_announcement_runs_every_rules_handler_in_the_same_job(
    deliveries: Deliveries,
) -> None:
    handler = Recorder()
    router = Router()
    router.add(handler, ISSUE_CREATED_BY_CROSSDEPT)
    context = Context(
        rules=None,  # type: ignore[arg-type]
        jira=None,  # type: ignore[arg-type]
        store=deliveries.store,
        clock=lambda: None,  # type: ignore[arg-type,return-value]
        delivery_key="d-7",
        router=router,
    )

    context.announce(created_by_crossdept("KT-9", on_behalf_of="alice"))

    assert handler.seen == [("KT-9", "d-7")]


def run_repeatedly(
    worker: Worker, delivery_id: int, clock: EpochClock, *, times: int
) -> list[Outcome]:
    """Run a delivery `times` times, two hours apart, so every retry is due when it runs."""
    outcomes = []
    for _ in range(times):
        outcomes.append(worker.run(delivery_id))
        clock.now += 7200
    return outcomes


def test_after_the_last_attempt_a_transient_failure_is_kept_as_failed(
    deliveries: Deliveries, queue: DeliveryQueue, clock: EpochClock
) -> None:
    handler = Recorder(*[TransientGatewayError(f"503 #{n}") for n in range(1, 10)])
    delivery_id = deliveries.add("d-1", "jira:issue_created", "KT-1", body())
    assert delivery_id is not None
    worker = make_worker(deliveries, queue, router_with(handler), max_attempts=3)

    outcomes = run_repeatedly(worker, delivery_id, clock, times=4)

    assert outcomes == [Outcome.RETRIED, Outcome.RETRIED, Outcome.FAILED, Outcome.NOT_CLAIMED]
    stored = deliveries.get(delivery_id)
    assert stored is not None
    assert (stored.state, stored.attempts) == (DeliveryState.FAILED, 3)
    assert "503 #3" in (stored.last_error or "")


def test_waiting_for_jira_or_another_worker_never_uses_up_the_attempts(
    deliveries: Deliveries, queue: DeliveryQueue, clock: EpochClock
) -> None:
    waits = [
        TransientGatewayError("429 from Jira", retry_after=30, status=429),
        NotYetError("the shared budget is spent", retry_after=2),
    ]
    handler = Recorder(*(waits * 5), TransientGatewayError("503"), TransientGatewayError("503"))
    delivery_id = deliveries.add("d-1", "jira:issue_created", "KT-1", body())
    assert delivery_id is not None
    worker = make_worker(deliveries, queue, router_with(handler), max_attempts=2)

    outcomes = run_repeatedly(worker, delivery_id, clock, times=12)

    # Ten waits, then two real failures: only those two count, so the second one is the last.
    assert outcomes == [Outcome.RETRIED] * 11 + [Outcome.FAILED]
    stored = deliveries.get(delivery_id)
    assert stored is not None
    assert (stored.state, stored.attempts) == (DeliveryState.FAILED, 2)


def test_a_delivery_whose_worker_died_every_time_is_given_up(
    deliveries: Deliveries, queue: DeliveryQueue, clock: EpochClock
) -> None:
    delivery_id = deliveries.add("d-1", "jira:issue_created", "KT-1", body())
    assert delivery_id is not None
    for _ in range(2):  # two workers claimed it and died holding the lease
        assert deliveries.claim(delivery_id, "dead", lease_s=10) is not None
        clock.now += 11
    handler = Recorder()

    outcome = make_worker(deliveries, queue, router_with(handler), max_attempts=2).run(delivery_id)

    assert outcome is Outcome.FAILED
    assert handler.seen == []
    assert "gave up after 2 attempts" in (deliveries.get(delivery_id).last_error or "")  # type: ignore[union-attr]


def test_a_running_delivery_cannot_be_claimed_twice(
    deliveries: Deliveries, queue: DeliveryQueue
) -> None:
    delivery_id = deliveries.add("d-1", "jira:issue_created", "KT-1", body())
    assert delivery_id is not None
    assert deliveries.claim(delivery_id, "worker-a", lease_s=60) is not None

    assert make_worker(deliveries, queue, router_with(Recorder())).run(delivery_id) is (
        Outcome.NOT_CLAIMED
    )


def test_the_lease_is_renewed_while_a_long_job_runs(tmp_path: Path, queue: DeliveryQueue) -> None:
    store = Store(f"sqlite:///{tmp_path}/crossdept.db")
    store.create_all(ALL_TABLES)
    deliveries = Deliveries(store)  # real clock: the lease must outlive its first term
    delivery_id = deliveries.add("d-1", "jira:issue_created", "KT-1", body())
    assert delivery_id is not None
    stolen: list[bool] = []

    def slow(event: JiraEvent, context: Context) -> None:
        time.sleep(1.0)  # more than twice the lease
        stolen.append(deliveries.claim(delivery_id, "thief", lease_s=60) is not None)

    outcome = make_worker(deliveries, queue, router_with(slow), lease_s=0.4).run(delivery_id)

    assert outcome is Outcome.DONE
    assert stolen == [False]


def test_one_thread_renews_every_running_job_and_stops_when_none_runs(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/crossdept.db")
    store.create_all(ALL_TABLES)
    deliveries = Deliveries(store)  # real clock, as in production
    ids = [deliveries.add(f"d-{n}", "jira:issue_created", "KT-1", body()) for n in range(3)]
    assert None not in ids
    first, second, third = (int(delivery_id or 0) for delivery_id in ids)
    keeper = LeaseKeeper(deliveries, "worker-a", lease_s=0.3)

    def thief_gets(delivery_id: int) -> bool:
        return deliveries.claim(delivery_id, "thief", lease_s=60) is not None

    for delivery_id in (first, second):
        assert deliveries.claim(delivery_id, "worker-a", lease_s=0.3) is not None
    with keeper.held(first), keeper.held(second):
        renewing = [t for t in threading.enumerate() if t.name == "leases-worker-a"]
        assert len(renewing) == 1
        time.sleep(0.8)  # more than twice the lease
        assert not thief_gets(first) and not thief_gets(second)

    deadline = time.monotonic() + 2
    while keeper.renewing and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not keeper.renewing

    # A job after the thread stopped starts it again and is renewed like the first ones.
    assert deliveries.claim(third, "worker-a", lease_s=0.3) is not None
    with keeper.held(third):
        assert keeper.renewing
        time.sleep(0.8)
        assert not thief_gets(third)


def test_a_job_waiting_for_its_retry_does_not_block_the_next_one(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/crossdept.db")
    store.create_all(ALL_TABLES)
    deliveries = Deliveries(store)
    queue = make_queue(f"sqlite:///{tmp_path}/queue.db")
    rate_limited = Recorder(TransientGatewayError("429", retry_after=300))
    later = Recorder()
    router = Router()
    router.add(rate_limited, "jira:issue_created")
    router.add(later, "jira:issue_updated")
    worker = make_worker(deliveries, queue, router)
    queue.attach(worker.run)
    first = deliveries.add("d-1", "jira:issue_created", "KT-1", body())
    updated = json.loads(body())
    updated["webhookEvent"] = "jira:issue_updated"
    second = deliveries.add("d-2", "jira:issue_updated", "KT-1", json.dumps(updated).encode())
    assert first is not None and second is not None
    queue.enqueue_delivery(first)
    queue.enqueue_delivery(second)

    handlers = {
        sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    consumer = queue.create_consumer(workers=1, worker_type="thread", max_delay=0.2)
    consumer.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if deliveries.get(second).state is DeliveryState.DONE:  # type: ignore[union-attr]
                break
            time.sleep(0.05)
    finally:
        consumer.stop(graceful=True)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)

    assert deliveries.get(second).state is DeliveryState.DONE  # type: ignore[union-attr]
    assert deliveries.get(first).state is DeliveryState.QUEUED  # type: ignore[union-attr]
    assert len(rate_limited.seen) == 1
    assert queue.delivery_ids_in_transport() == {first}


def test_a_router_says_which_event_names_it_handles() -> None:
    router = Router()
    router.add(lambda event, context: None, "jira:issue_updated", "issue_assigned")

    assert router.handles("jira:issue_updated")
    assert not router.handles("comment_created")
