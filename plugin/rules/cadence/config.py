"""The cadence rule's part of the rules file: `cadence` (the weekly meeting of each active request
and the monthly goal-alignment meetings, which crossdept files itself)."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from pydantic import Field

from plugin.process.config import Duration, FieldPath, Model, Rules, Section, Text, Weekday


class WeeklyMeeting(Model):
    """Each active request's weekly meeting (the guides: every week at a fixed time, 30-60
    minutes; seed 004: Fridays)."""

    day: Weekday = Field(default="fri", description="Day of the week, in the rules' timezone.")
    at: time = Field(default=time(15, 0), description="Time of day it starts, e.g. 15:00.")
    length: Duration = Field(default=timedelta(hours=1), description="How long it lasts.")
    agenda: list[Text] | None = Field(
        default=None,
        description="Agenda lines of each meeting; default: the guides' (each department's "
        "progress against plan and why, next week's plan, what needs coordinating).",
    )


class GoalAlignment(Model):
    """A monthly goal-alignment meeting of a set of departments (seed 003: monthly, at most 1.5
    hours, to review the goals' deviations and move resources where a department lags)."""

    departments: list[Text] = Field(
        min_length=2, description="The departments' keys; their heads attend."
    )
    organiser: Text | None = Field(
        default=None,
        description="The department whose head organises it; default: the first of them.",
    )
    day: int = Field(
        default=1,
        ge=1,
        le=28,
        description="Day of the month; a day nobody works moves to the next working day.",
    )
    at: time = Field(default=time(10, 0), description="Time of day it starts.")
    length: Duration = Field(default=timedelta(minutes=90), description="How long it lasts.")
    agenda: list[Text] | None = Field(
        default=None,
        description="Agenda lines; default: the guides' (goals' progress and deviations, "
        "resources for a department that lags, next month's goals).",
    )


class CadenceRules(Model):
    """Meetings crossdept files on a cadence, each the notice period ahead with its agenda."""

    weekly: WeeklyMeeting | None = Field(
        default=None, description="The weekly meeting of each active request; off when absent."
    )
    goal_alignment: list[GoalAlignment] = Field(
        default_factory=list, description="Monthly goal-alignment meetings, one per set."
    )


def _check(rules: Any) -> list[tuple[FieldPath, str]]:
    """A cadence needs meetings that name their organiser, and departments the file has."""
    cadence: CadenceRules | None = SECTION.of(rules)
    if cadence is None:
        return []
    problems: list[tuple[FieldPath, str]] = []
    meetings = getattr(rules, "meetings", None)
    if meetings is None:
        problems.append(
            (("cadence",), "crossdept files meetings only with a meetings section: add one")
        )
    elif meetings.fields.organiser is None:
        problems.append(
            (
                ("cadence",),
                "crossdept files each meeting with its organiser, so meetings.fields needs "
                "organiser (a user-picker field); without it the organiser would be crossdept",
            )
        )
    known = list(rules.departments)
    for index, goal in enumerate(cadence.goal_alignment):
        here: FieldPath = ("cadence", "goal_alignment", index)
        for position, key in enumerate(goal.departments):
            if key not in rules.departments:
                problems.append(
                    (
                        (*here, "departments", position),
                        f'unknown department "{key}"; known: {", ".join(known)}',
                    )
                )
        if goal.organiser is not None and goal.organiser not in goal.departments:
            problems.append(
                (
                    (*here, "organiser"),
                    f'"{goal.organiser}" is not one of this meeting\'s departments '
                    f"({', '.join(goal.departments)})",
                )
            )
    return problems


SECTION: Section[CadenceRules | None] = Section(
    "cadence",
    CadenceRules | None,
    None,
    "Meetings crossdept files itself: each active request's weekly meeting and the monthly "
    "goal-alignment meetings; off when absent.",
    check=_check,
)


def cadence_rules(rules: Rules) -> CadenceRules | None:
    """The `cadence` section, or None when the rules file has none."""
    return SECTION.of(rules)
