"""The escalation ladder, pure: which step is due for an ask, and who hears of it.

Reminders and escalation steps come from `escalation` in the rules file, in `after` order
(the guides: the person asked is reminded, and after 48 hours their department head is told).
A step addressed to the head of someone who is a head goes one level up, to the project
manager; someone in no department has no head, so the project manager hears instead and the
missing directory entry is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from plugin.process.owners import departments_of
from plugin.process.rules import Rules

Kind = Literal["reminder", "escalation"]
To = Literal["asked", "head", "pm", "requester"]


@dataclass(frozen=True)
class Step:
    """One rung: the n-th step of every ask, `after` hours of the clock, addressed to `to`."""

    number: int
    kind: Kind
    after_hours: float
    to: To


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
        Step(number, kind, step.after.total_seconds() / 3600, step.to)  # type: ignore[arg-type]
        for number, (kind, step) in enumerate(ordered, start=1)
    ]


def due_step(rules: Rules, done_steps: int, elapsed_hours: float) -> Step | None:
    """The next step of an ask that already took `done_steps` steps, if its time has come."""
    ladder = steps(rules)
    if done_steps >= len(ladder):
        return None
    step = ladder[done_steps]
    return step if elapsed_hours >= step.after_hours else None


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
