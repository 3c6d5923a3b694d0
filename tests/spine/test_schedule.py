"""Periodic work is registered like event handlers, composed like routers, and run by name."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from plugin.spine.context import Context
from plugin.spine.leases import Leases
from plugin.spine.schedule import Periodic, Schedule, run_periodic
from plugin.spine.store import Store


def test_work_registers_under_its_name_and_runs_at_most_once_a_minute() -> None:
    schedule = Schedule()

    @schedule.every(minutes=5)
    def sweep(context: object) -> str:
        """Mark late items delayed."""
        return "swept"

    assert [(task.name, task.minutes) for task in schedule] == [("sweep", 5)]
    assert schedule.get("sweep").run(None) == "swept"  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at most once a minute"):
        schedule.add(Periodic("fast", 0, sweep))


def test_schedules_compose_and_refuse_two_tasks_of_one_name() -> None:
    first, second = Schedule(), Schedule()
    first.add(Periodic("b", 1, lambda context: None))
    second.add(Periodic("a", 10, lambda context: None))

    both = Schedule(first, second)

    assert [task.name for task in both] == ["a", "b"]
    assert len(both) == 2
    with pytest.raises(ValueError, match="two periodic tasks are named 'a'"):
        Schedule(both, second)


def test_an_unknown_name_lists_the_known_ones() -> None:
    schedule = Schedule()
    schedule.add(Periodic("sweep", 5, lambda context: None))
    with pytest.raises(KeyError, match="no periodic task 'sweeep'; known: sweep"):
        schedule.get("sweeep")


def context_at(store: Store, now: float) -> Context:
    moment = datetime.fromtimestamp(now, UTC)
    return Context(rules=None, jira=None, store=store, clock=lambda: moment)  # type: ignore[arg-type]


def test_exclusive_work_runs_once_at_a_time_and_gives_its_lease_back_even_when_it_fails(
    sqlite_store: Store,
) -> None:
    store = sqlite_store
    schedule = Schedule()
    runs: list[str] = []

    @schedule.every(minutes=5, exclusive=True)
    def tidy(context: Context) -> str:
        runs.append("tidy")
        if len(runs) == 2:
            raise RuntimeError("Jira went away")
        return "tidied"

    task = schedule.get("tidy")
    assert task.lease_s == 600  # two periods: a dead worker's run is taken over by a later one
    Leases(store).take("tidy", "worker-that-died", 0.0, task.lease_s)
    assert run_periodic(task, context_at(store, 10.0)) == "another worker is running tidy"
    assert runs == []
    assert run_periodic(task, context_at(store, 601.0)) == "tidied"  # the dead one's lease ran out
    with pytest.raises(RuntimeError):
        run_periodic(task, context_at(store, 700.0))
    assert run_periodic(task, context_at(store, 701.0)) == "tidied"  # given back despite the error
    assert runs == ["tidy", "tidy", "tidy"]


def test_work_not_marked_exclusive_takes_no_lease(sqlite_store: Store) -> None:
    store = sqlite_store
    schedule = Schedule()
    schedule.add(Periodic("look", 5, lambda context: "looked"))
    Leases(store).take("look", "someone", 0.0, 600)
    assert run_periodic(schedule.get("look"), context_at(store, 1.0)) == "looked"
