"""Periodic work: rules register it the way they register event handlers; the queue runs it.

A rule declares `schedule = Schedule()` beside its `router` and decorates its periodic functions
with `@schedule.every(minutes=5)`. Each takes the Context (rules, Jira and Confluence ports,
store, and an injected clock), so the same function runs from the queue's scheduler and from a
command with a clock set by hand (`crossdept periodic NAME --now ISO`). Work that must not run
twice at once says `exclusive=True`: every run then holds a lease named after it in the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from plugin.spine.leases import Leases, new_holder

if TYPE_CHECKING:
    from plugin.spine.context import Context

PeriodicWork = Callable[["Context"], object]


@dataclass(frozen=True)
class Periodic:
    """One piece of periodic work: its name (unique), how often it runs, and what it does."""

    name: str
    minutes: int
    run: PeriodicWork
    exclusive: bool = False  # one run at a time across every worker and machine

    @property
    def lease_s(self) -> float:
        """How long an exclusive run holds its lease: two periods (two minutes at least), so a
        run whose worker died is taken over by a later one, never by the next one too early."""
        return max(2.0 * 60 * self.minutes, 120.0)


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
        self, *, minutes: int, name: str | None = None, exclusive: bool = False
    ) -> Callable[[PeriodicWork], PeriodicWork]:
        """Decorator form of `add`; the name defaults to the function's."""

        def decorator(work: PeriodicWork) -> PeriodicWork:
            self.add(Periodic(name or work.__name__, minutes, work, exclusive))
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


@contextmanager
def exclusively(task: Periodic, context: Context) -> Iterator[bool]:
    """Hold the task's lease for the block when it is exclusive; yields False (and holds
    nothing) while another worker runs it."""
    if not task.exclusive:
        yield True
        return
    leases, holder = Leases(context.store), new_holder(task.name)
    if not leases.take(task.name, holder, context.clock().timestamp(), task.lease_s):
        yield False
        return
    try:
        yield True
    finally:
        leases.give_back(task.name, holder)


def run_periodic(task: Periodic, context: Context) -> object:
    """Run a task once, now: what it returns, or why it did not run."""
    with exclusively(task, context) as ours:
        if not ours:
            return f"another worker is running {task.name}"
        return task.run(context)
