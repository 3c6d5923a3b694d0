"""Periodic work is registered like event handlers, composed like routers, and run by name."""

from __future__ import annotations

import pytest

from plugin.spine.schedule import Periodic, Schedule


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
