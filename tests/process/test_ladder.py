"""The ladder: steps in time order, one due at a time, and the right person for each."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from plugin.process.config import EscalationStep
from plugin.process.ladder import Recipient, Step, due_rung, next_due, recipient, steps
from tests.fakes import CONTACTS, HEADS, PM, REQUESTER, load_default_rules

RULES = load_default_rules()


def with_ladder(reminders: list[tuple[int, str]], ladder: list[tuple[int, str]]):  # type: ignore[no-untyped-def]
    escalation = RULES.escalation.model_copy(
        update={
            "reminders": [EscalationStep(after=timedelta(hours=h), to=to) for h, to in reminders],
            "ladder": [EscalationStep(after=timedelta(hours=h), to=to) for h, to in ladder],
        }
    )
    return RULES.model_copy(update={"escalation": escalation})


def test_the_shipped_ladder_asks_after_2_working_hours_reminds_at_24_then_head_then_pm() -> None:
    assert steps(RULES) == [
        Step(1, "reminder", 2.0, "asked", "working_hours"),
        Step(2, "reminder", 24.0, "asked", "hours"),
        Step(3, "escalation", 48.0, "head", "hours"),
        Step(4, "escalation", 72.0, "pm", "hours"),
    ]


def test_steps_come_in_time_order_reminders_first_when_equal() -> None:
    rules = with_ladder([(24, "asked"), (48, "asked")], [(72, "pm"), (48, "head")])
    assert [(s.kind, s.after_hours, s.to) for s in steps(rules)] == [
        ("reminder", 24.0, "asked"),
        ("reminder", 48.0, "asked"),
        ("escalation", 48.0, "head"),
        ("escalation", 72.0, "pm"),
    ]


TUESDAY_10 = datetime(2026, 3, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
FRIDAY_17 = datetime(2026, 3, 6, 17, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _at(start: datetime, hours: float) -> float:
    return (start + timedelta(hours=hours)).timestamp()


@pytest.mark.parametrize(
    ("start", "done", "hours", "expected"),
    [
        (TUESDAY_10, 0, 1.9, None),  # 2 working hours: 12:00 the same day
        (TUESDAY_10, 0, 2.0, 1),
        (TUESDAY_10, 1, 23.9, None),
        (TUESDAY_10, 1, 24.0, 2),
        (TUESDAY_10, 2, 48.0, 3),
        (TUESDAY_10, 0, 49.0, 3),  # an outage: the head hears once, no stale reminders
        (TUESDAY_10, 3, 72.0, 4),
        (TUESDAY_10, 4, 500.0, None),
        # Friday 17:00: 2 working hours end on Monday 10:00, after the 24-hour reminder
        # (Saturday 17:00), so that ask skips the first tier instead of saying it late.
        (FRIDAY_17, 0, 2.0, None),
        (FRIDAY_17, 0, 23.9, None),
        (FRIDAY_17, 0, 24.0, 2),
        (FRIDAY_17, 2, 48.0, 3),
    ],
)
def test_one_step_is_due_at_a_time_each_on_its_own_clock(
    start: datetime, done: int, hours: float, expected: int | None
) -> None:
    asked_at, now = start.timestamp(), _at(start, hours)
    due = next_due(RULES, asked_at, done)
    step = None if due is None or due > now else due_rung(RULES, asked_at, done, now) + 1
    assert step == expected


def test_the_first_tier_counts_only_working_hours() -> None:
    evening = datetime(2026, 3, 3, 17, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    due = next_due(RULES, evening.timestamp(), 0)
    assert due == datetime(2026, 3, 4, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


@pytest.mark.parametrize(
    ("to", "asked", "expected"),
    [
        ("asked", CONTACTS["技术部"], Recipient(CONTACTS["技术部"], "asked")),
        ("head", CONTACTS["技术部"], Recipient(HEADS["技术部"], "head")),
        ("head", HEADS["技术部"], Recipient(PM, "pm", raised=True)),  # the head asked: one up
        (
            "head",
            "557058:stranger",
            Recipient(PM, "pm", missing="departments: 557058:stranger is in no department"),
        ),
        ("requester", CONTACTS["技术部"], Recipient(REQUESTER, "requester")),
        ("pm", CONTACTS["技术部"], Recipient(PM, "pm")),
    ],
)
def test_each_step_reaches_the_right_person(to: str, asked: str, expected: Recipient) -> None:
    step = Step(1, "escalation", 48.0, to)  # type: ignore[arg-type]
    assert recipient(step, asked, RULES, requester=REQUESTER, pm=PM) == expected


def test_a_step_to_a_pm_nobody_named_says_what_is_missing() -> None:
    step = Step(1, "escalation", 48.0, "head")
    found = recipient(step, HEADS["技术部"], RULES, requester=None, pm=None)
    assert found == Recipient(None, "pm", missing="project_manager", raised=True)
