"""Periodic work: rules register it the way they register event handlers; the queue runs it.

A rule declares `schedule = Schedule()` beside its `router` and decorates its periodic functions
with `@schedule.every(minutes=5)`. Each takes the Context (rules, Jira and Confluence ports,
store, and an injected clock), so the same function runs from the queue's scheduler and from a
command with a clock set by hand (`crossdept periodic NAME --now ISO`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plugin.spine.context import Context

PeriodicWork = Callable[["Context"], object]


@dataclass(frozen=True)
class Periodic:
    """One piece of periodic work: its name (unique), how often it runs, and what it does."""

    name: str
    minutes: int
    run: PeriodicWork


class Schedule:
    """Periodic work by name; schedules compose like routers."""

    def __init__(self, *others: Schedule) -> None:
        self._tasks: dict[str, Periodic] = {}
        for other in others:
            for task in other:
                self.add(task)

    def add(self, task: Periodic) -> None:
        """Register a task; a second task of the same name is a mistake, refused at once."""
        if task.name in self._tasks:
            raise ValueError(f"two periodic tasks are named {task.name!r}")
        if task.minutes < 1:
            raise ValueError(f"{task.name}: periodic work runs at most once a minute")
        self._tasks[task.name] = task

    def every(
        self, *, minutes: int, name: str | None = None
    ) -> Callable[[PeriodicWork], PeriodicWork]:
        """Decorator form of `add`; the name defaults to the function's."""

        def decorator(work: PeriodicWork) -> PeriodicWork:
            self.add(Periodic(name or work.__name__, minutes, work))
            return work

        return decorator

    def get(self, name: str) -> Periodic:
        """The task of this name; KeyError names the known ones."""
        try:
            return self._tasks[name]
        except KeyError:
            known = ", ".join(sorted(self._tasks)) or "none"
            raise KeyError(f"no periodic task {name!r}; known: {known}") from None

    def __iter__(self) -> Iterator[Periodic]:
        return iter(sorted(self._tasks.values(), key=lambda task: task.name))

    def __len__(self) -> int:
        return len(self._tasks)
