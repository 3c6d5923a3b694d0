"""One request budget per Jira site across workers: paced slots, Retry-After for everybody."""

from __future__ import annotations

import threading

import pytest

from plugin.spine.budget import MAX_INLINE_WAIT, RequestBudget
from plugin.spine.errors import TransientGatewayError
from plugin.spine.store import Store


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


def test_a_worker_that_loses_the_race_to_make_the_row_takes_a_slot_in_it(store: Store) -> None:
    clock = Clock()
    site = "https://example.atlassian.net"
    first = RequestBudget(store, site, 10, clock=clock, sleep=clock.sleep)
    second = RequestBudget(store, site, 10, clock=clock, sleep=clock.sleep)
    make_row = second._create

    def racing(next_free: float, **options: float | None) -> bool:
        first.take()  # the other worker makes the row first
        return make_row(next_free, **options)

    second._create = racing  # type: ignore[method-assign]
    assert second.take() == pytest.approx(0.1)  # the slot after the first's, not a free pass


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


def test_a_retry_after_learnt_while_waiting_for_a_slot_is_waited_out_too(store: Store) -> None:
    clock = Clock()
    site = "https://example.atlassian.net"
    other = RequestBudget(store, site, None, clock=clock, sleep=clock.sleep)

    def meanwhile_a_429(seconds: float) -> None:
        clock.slept.append(seconds)
        if len(clock.slept) == 1:  # while this worker sleeps for its slot, another learns of a 429
            other.hold_off(1.8)

    waiting = RequestBudget(store, site, 10, clock=clock, sleep=meanwhile_a_429)
    waiting.take()
    waiting.take()  # its slot is 0.1 s off; the 429 arrives while it sleeps
    assert clock.slept == pytest.approx([0.1, 1.8])


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
    from tests.rules.trees.test_trees import SANDBOX_CLOUD, sandbox_gateways

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
        "sandbox/seeds/cloud.yaml", clock=manual, jira_url=SANDBOX_CLOUD
    ) as sandbox:
        _requester, first = sandbox_gateways(True)
        _requester, second = sandbox_gateways(True)
        first.budget, second.budget = budget(), budget()
        sandbox.bad_day.rate_limit = 3
        for _ in range(3):
            first.myself()
            first._myself = None  # ask again: one call each
        before = manual()
        first.myself()  # 429: the same call goes again once Retry-After is over
        assert manual() - before >= timedelta(seconds=1)
        second.myself()  # at the slower pace the 429 set: no second 429
    statuses = [call.status for call in sandbox.calls if call.api == "jira"]
    assert statuses[-6:] == [200, 200, 200, 429, 200, 200]  # nothing sent during the wait


def test_each_429_halves_the_pace_and_calls_that_go_through_win_it_back(store: Store) -> None:
    clock = Clock()

    def sleep(seconds: float) -> None:
        clock.now += seconds

    budget = RequestBudget(store, "https://x.atlassian.net", 10, clock=clock, sleep=sleep)
    budget.take()
    budget.hold_off(0.0, slow_down=True)
    budget.hold_off(0.0, slow_down=True)  # two 429s: a quarter of the pace
    gaps = []
    for _ in range(40):
        before = clock.now
        budget.take()
        gaps.append(round(clock.now - before, 3))
    assert gaps[1] == pytest.approx(0.4, abs=0.01)  # 4 x the configured 0.1 s
    assert gaps[-1] == pytest.approx(0.1)  # back to the configured pace
    assert gaps[1:] == sorted(gaps[1:], reverse=True)
