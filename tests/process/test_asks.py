"""Asks in the store: one clock per person asked, found by due time, each step taken once."""

from __future__ import annotations

import threading

from plugin.process.asks import ANSWERED, CANCELLED, OPEN, Asks
from plugin.spine.store import Store


def hours(start: float, end: float) -> float:
    return (end - start) / 3600


def ask(asks: Asks, asked: str = "alice", source_id: str = "c1", at: float = 0.0) -> bool:
    return asks.open(
        issue="XD-9",
        asked=asked,
        asked_by="bob",
        source="mention",
        source_id=source_id,
        asked_at=at,
        next_due=at + 24 * 3600,
        department="技术部",
        excerpt="请确认预算",
    )


def test_an_ask_is_recorded_once_however_often_its_webhook_comes(store: Store) -> None:
    asks = Asks(store)
    assert ask(asks) and not ask(asks)
    [only] = asks.listing()
    assert (only.asked, only.state, only.steps_done) == ("alice", OPEN, 0)


def test_due_asks_are_found_in_due_order_and_each_step_is_taken_once(store: Store) -> None:
    asks = Asks(store)
    ask(asks, "alice", "c1", at=0.0)
    ask(asks, "carol", "c2", at=-3600.0)
    ask(asks, "dave", "c3", at=10 * 3600.0)

    due = asks.due(now=24 * 3600.0)
    assert [a.asked for a in due] == ["carol", "alice"]

    first = due[1]
    assert asks.record_step(first.id, 1, next_due=48 * 3600.0)
    assert not asks.record_step(first.id, 1, next_due=48 * 3600.0)  # a second sweep, a retry
    assert [a.asked for a in asks.due(now=24 * 3600.0)] == ["carol"]


def test_racing_sweeps_take_a_step_once(store: Store) -> None:
    asks = Asks(store)
    ask(asks)
    [due] = asks.due(now=10**9)
    taken: list[bool] = []
    threads = [
        threading.Thread(target=lambda: taken.append(asks.record_step(due.id, 1, None)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == [False, False, False, True]


def test_an_answer_closes_that_persons_asks_with_the_response_time(store: Store) -> None:
    asks = Asks(store)
    ask(asks, "alice", "c1", at=0.0)
    ask(asks, "alice", "c9", at=7200.0)  # asked again after the answer below: stays open
    ask(asks, "carol", "c2", at=0.0)

    answered = asks.answer("XD-9", "alice", at=3600.0, hours=hours)

    assert [(a.source_id, a.state, a.response_hours) for a in answered] == [("c1", ANSWERED, 1.0)]
    assert asks.answer("XD-9", "alice", at=3700.0, hours=hours) == []  # a redelivered answer
    by_source = {a.source_id: a for a in asks.listing(state=None)}
    assert (by_source["c1"].state, by_source["c1"].response_hours) == (ANSWERED, 1.0)
    assert by_source["c9"].state == OPEN and by_source["c2"].state == OPEN


def test_cancelling_by_source_keeps_those_still_asked(store: Store) -> None:
    asks = Asks(store)
    ask(asks, "alice", "c1")
    ask(asks, "carol", "c1")
    ask(asks, "dave", "c2")

    assert len(asks.cancel("XD-9", 5.0, source="mention", source_id="c1", keep=["carol"])) == 1
    states = {a.asked: a.state for a in asks.listing(state=None)}
    assert states == {"alice": CANCELLED, "carol": OPEN, "dave": OPEN}
    assert len(asks.cancel("XD-9", 6.0)) == 2  # the issue is done
    assert asks.listing() == [] and asks.listing(department="技术部", state=CANCELLED)


def test_a_lease_has_one_holder_until_it_expires_or_is_given_back(store: Store) -> None:
    from plugin.spine.leases import Leases

    leases = Leases(store)
    assert leases.take("sweep_asks", "w1", now=0.0, seconds=60)
    assert not leases.take("sweep_asks", "w2", now=30.0, seconds=60)
    assert leases.take("sweep_asks", "w1", now=30.0, seconds=60)  # renewed by its holder
    assert leases.take("sweep_asks", "w2", now=91.0, seconds=60)  # w1 died: expired
    leases.give_back("sweep_asks", "w2")
    assert leases.take("sweep_asks", "w3", now=92.0, seconds=60)


def test_response_times_are_aggregated_per_department_in_the_database(store: Store) -> None:
    from plugin.process.asks import response_times

    asks = Asks(store)
    for n, (person, answered_after) in enumerate([("a", 1.5), ("b", 30.0), ("c", None)]):
        asks.open(
            issue="XD-9",
            asked=person,
            asked_by="x",
            source="mention",
            source_id=f"c{n}",
            asked_at=0.0,
            next_due=None,
            department="技术部",
        )
        if answered_after is not None:
            asks.answer("XD-9", person, answered_after * 3600, hours)

    [engineering] = response_times(store, (2.0, 24.0, 48.0))
    assert engineering.department == "技术部"
    assert engineering.buckets == (1, 1, 2) and engineering.count == 2
    assert engineering.total_hours == 31.5


def test_metrics_show_the_response_time_histogram(store: Store) -> None:
    from plugin.process.asks import RESPONSE_BUCKETS, response_times
    from plugin.spine import metrics

    asks = Asks(store)
    ask(asks, "alice")
    asks.answer("XD-9", "alice", 3 * 3600.0, hours)
    text, _ = metrics.render_metrics(
        extra=[metrics.AskResponseCollector(lambda: response_times(store), RESPONSE_BUCKETS)]
    )
    body = text.decode()
    assert 'crossdept_ask_response_hours_bucket{department="技术部",le="2.0"} 0.0' in body
    assert 'crossdept_ask_response_hours_bucket{department="技术部",le="4.0"} 1.0' in body
    assert 'crossdept_ask_response_hours_count{department="技术部"} 1.0' in body


def test_asks_are_found_by_id_whatever_their_state(store: Store) -> None:
    asks = Asks(store)
    for n in (1, 2):
        asks.open(
            issue=f"XD-{n}",
            asked="a1",
            asked_by="r1",
            source="mention",
            source_id=f"c{n}",
            asked_at=0.0,
            next_due=1.0,
        )
    first, second = (ask.id for ask in asks.listing())
    asks.cancel("XD-1", 2.0)
    found = asks.by_id([second, first, 999])
    assert sorted(found) == sorted([first, second]) and found[first].issue == "XD-1"
    assert asks.by_id([]) == {}
