"""The escalation ladder, pure: which step of an ask is due and when, and who hears of it.

Reminders and escalation steps come from `escalation` in the rules file, in `after` order
(the guides: the person asked is reminded, and after 48 hours their department head is told).
Each step counts on its own clock (`clock` on the step, else `escalation.clock`), so the 2-hour
first reminder of seed 003 can count working hours while the 48 hours to the head count the wall
clock; a step that would fall due after a later one (2 working hours from a Friday evening end on
Monday, after the 24-hour reminder) is left out for that ask rather than said late.
A step addressed to the head of someone who is a head goes one level up, to the project
manager; someone in no department has no head, so the project manager hears instead and the
missing directory entry is named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from plugin.process.asks import Ask
from plugin.process.clocks import ClockKind, WorkClock
from plugin.process.config import Rules
from plugin.process.owners import departments_of
from plugin.process.wording import say

Kind = Literal["reminder", "escalation"]
To = Literal["asked", "head", "pm", "requester"]


@dataclass(frozen=True)
class Step:
    """One rung: the n-th step of every ask, `after` hours of its clock, addressed to `to`."""

    number: int
    kind: Kind
    after_hours: float
    to: To
    clock: ClockKind = "hours"


@dataclass(frozen=True)
class Recipient:
    """Who hears of a step, and why someone else than planned does (`missing`, `raised`)."""

    person: str | None
    role: To
    missing: str | None = None  # the directory entry that was missing, for the log
    raised: bool = False  # the step went one level up (the asked person is the head)


def steps(rules: Rules) -> list[Step]:
    """Every step of the ladder, reminders first on equal times, numbered from 1 in time order."""
    rungs = [("reminder", step) for step in rules.escalation.reminders]
    rungs += [("escalation", step) for step in rules.escalation.ladder]
    ordered = sorted(
        rungs, key=lambda rung: (rung[1].after.total_seconds(), rung[0] == "escalation")
    )
    return [
        Step(
            number,
            kind,  # type: ignore[arg-type]
            step.after.total_seconds() / 3600,
            step.to,
            step.clock or rules.escalation.clock,
        )
        for number, (kind, step) in enumerate(ordered, start=1)
    ]


def recipient(
    step: Step, asked: str, rules: Rules, *, requester: str | None, pm: str | None
) -> Recipient:
    """Who hears of `step` for an ask of `asked`."""
    if step.to == "asked":
        return Recipient(asked, "asked")
    if step.to == "requester":
        return Recipient(requester, "requester", missing=None if requester else "requester")
    if step.to == "pm":
        return Recipient(pm, "pm", missing=None if pm else "project_manager")
    homes = departments_of(rules, asked)
    if not homes:
        return Recipient(pm, "pm", missing=f"departments: {asked} is in no department")
    heads = [rules.departments[home].head for home in homes]
    if asked in heads:
        return Recipient(pm, "pm", raised=True, missing=None if pm else "project_manager")
    return Recipient(heads[0], "head")


def work_clock(rules: Rules, kind: ClockKind | None = None) -> WorkClock:
    """The clock asks run on (`escalation.clock`), or a step's own."""
    return WorkClock(
        kind or rules.escalation.clock,
        rules.work_calendar,
        rules.calendar.work_hours,
        rules.tz,
    )


def step_dues(rules: Rules, asked_at: float) -> list[float]:
    """When each step of the ladder falls due for an ask made at `asked_at`, on its own clock."""
    start = datetime.fromtimestamp(asked_at, UTC)
    return [
        work_clock(rules, step.clock).add(start, step.after_hours).timestamp()
        for step in steps(rules)
    ]


def _kept(dues: list[float]) -> list[int]:
    """The ladder indexes an ask takes: a step due after a later one is left out."""
    return [
        index for index, due in enumerate(dues) if all(due <= later for later in dues[index + 1 :])
    ]


def standing(rules: Rules, ask: Ask, *, dues: list[float] | None = None) -> int | None:
    """The ladder index an open ask stands at, read from its stored next due time rather than its
    count of steps: the count means another step once the admin adds or removes one (the shipped
    ladder gained its 2-hour tier), and an ask reminded at 24 hours must not be reminded at 24
    hours again. None when nothing is left for it on the ladder as it is now."""
    if ask.next_due is None:
        return None
    dues = dues or step_dues(rules, ask.asked_at)
    return next((index for index in _kept(dues) if dues[index] >= ask.next_due - 1), None)


def next_due(
    rules: Rules, asked_at: float, steps_done: int, *, dues: list[float] | None = None
) -> float | None:
    """When the ask's next step is due, or None after the last one (`dues`: its `step_dues`,
    when the caller has them already)."""
    dues = dues or step_dues(rules, asked_at)
    index = next((index for index in _kept(dues) if index >= steps_done), None)
    return None if index is None else dues[index]


def due_rung(
    rules: Rules, asked_at: float, steps_done: int, now: float, *, dues: list[float] | None = None
) -> int:
    """The ladder index of the step to take now: the next one, or, when a sweep did not run for
    a while (an outage), the last one whose time has come. The skipped rungs are not said: a
    head hears of it once, not after a reminder a minute old."""
    dues = dues or step_dues(rules, asked_at)
    ahead = [index for index in _kept(dues) if index >= steps_done]
    if not ahead:
        return steps_done
    index = ahead[0]
    for later in ahead[1:]:
        if dues[later] > now:
            break
        index = later
    return index


def hours_between(rules: Rules, kind: ClockKind | None = None) -> Callable[[float, float], float]:
    """How an ask's response time is measured: in the configured clock (or a step's)."""
    clock = work_clock(rules, kind)

    def measure(start: float, end: float) -> float:
        return clock.elapsed(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))

    return measure


def escalation_label(rules: Rules) -> str:
    """The label an issue carries while one of its asks is escalated and unanswered."""
    return rules.escalation.label or say(rules, "ask.label")


def escalated(ask: Ask, rules: Rules) -> bool:
    """Whether an ask has been escalated (a step of the ladder past the reminders was taken)."""
    return any(step.kind == "escalation" for step in steps(rules)[: ask.steps_done])
