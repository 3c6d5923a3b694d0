"""One request budget per Jira site across workers: paced slots, Retry-After for everybody."""

from __future__ import annotations

import threading

import pytest

from plugin.budget import MAX_INLINE_WAIT, RequestBudget
from plugin.errors import TransientGatewayError
from plugin.store import Store


class Clock:
    """Time that moves only when someone sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)


def test_slots_are_spaced_by_the_rate_whoever_takes_them(store: Store) -> None:
    clock = Clock()
    workers = [
        RequestBudget(store, "https://example.atlassian.net", 10, clock=clock, sleep=clock.sleep)
        for _ in range(3)
    ]
    waits = [workers[n % 3].take() for n in range(12)]
    # 12 calls at the same moment, at 10 per second: the n-th waits n/10 s, whichever worker.
    assert waits == pytest.approx([n / 10 for n in range(12)])
    assert clock.slept == pytest.approx([n / 10 for n in range(1, 12)])


def test_sites_have_budgets_of_their_own(store: Store) -> None:
    clock = Clock()
    one = RequestBudget(store, "https://one.atlassian.net", 1, clock=clock, sleep=clock.sleep)
    two = RequestBudget(store, "https://two.atlassian.net", 1, clock=clock, sleep=clock.sleep)
    assert (one.take(), two.take(), one.take()) == (0.0, 0.0, 1.0)


def test_a_retry_after_holds_every_worker_back(store: Store) -> None:
    clock = Clock()
    first = RequestBudget(
        store, "https://example.atlassian.net", None, clock=clock, sleep=clock.sleep
    )
    second = RequestBudget(
        store, "https://example.atlassian.net", None, clock=clock, sleep=clock.sleep
    )
    assert first.take() == 0.0  # no rate set: no pacing
    first.hold_off(1.5)
    assert second.take() == pytest.approx(1.5)  # within the inline wait: slept
    first.hold_off(30)
    with pytest.raises(TransientGatewayError) as later:
        second.take()
    assert later.value.retry_after == pytest.approx(30) and later.value.status == 429
    clock.now += 31
    assert second.take() == 0.0
    assert MAX_INLINE_WAIT < 30


def test_a_shorter_retry_after_never_shortens_a_longer_one(store: Store) -> None:
    clock = Clock()
    budget = RequestBudget(
        store, "https://example.atlassian.net", None, clock=clock, sleep=clock.sleep
    )
    budget.hold_off(20)
    budget.hold_off(1)
    with pytest.raises(TransientGatewayError) as later:
        budget.take()
    assert later.value.retry_after == pytest.approx(20)


def test_gateways_share_jiras_retry_after_and_send_nothing_before_it(store: Store) -> None:
    from datetime import timedelta

    from sandbox.app import installed_sandbox
    from tests.fakes import ManualClock
    from tests.test_trees import SANDBOX_CLOUD, sandbox_gateways

    manual = ManualClock()

    def budget() -> RequestBudget:
        return RequestBudget(
            store,
            SANDBOX_CLOUD,
            None,
            clock=lambda: manual().timestamp(),
            sleep=lambda seconds: manual.advance(seconds=seconds),
        )

    with installed_sandbox(
        "config/sandbox-seed.yaml", clock=manual, jira_url=SANDBOX_CLOUD
    ) as sandbox:
        _requester, first = sandbox_gateways(True)
        _requester, second = sandbox_gateways(True)
        first.budget, second.budget = budget(), budget()
        sandbox.bad_day.rate_limit = 3
        for _ in range(3):
            first.myself()
            first._myself = None  # ask again: one call each
        with pytest.raises(TransientGatewayError) as limited:
            first.myself()
        assert limited.value.status == 429 and limited.value.retry_after == 1
        before = manual()
        second.myself()  # waits out Retry-After (in the budget), then goes through
        assert manual() - before >= timedelta(seconds=1)
    statuses = [call.status for call in sandbox.calls if call.api == "jira"]
    assert statuses[-5:] == [200, 200, 200, 429, 200]  # one 429, nothing sent during the wait
