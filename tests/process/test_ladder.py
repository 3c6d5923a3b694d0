"""The ladder: steps in time order, one due at a time, and the right person for each."""

from __future__ import annotations

from datetime import timedelta

import pytest

from plugin.process.config import EscalationStep
from plugin.process.ladder import Recipient, Step, due_step, recipient, steps
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


def test_the_shipped_ladder_reminds_at_24_hours_tells_the_head_at_48_then_the_pm() -> None:
    assert steps(RULES) == [
        Step(1, "reminder", 24.0, "asked"),
        Step(2, "escalation", 48.0, "head"),
        Step(3, "escalation", 72.0, "pm"),
    ]


def test_steps_come_in_time_order_reminders_first_when_equal() -> None:
    rules = with_ladder([(24, "asked"), (48, "asked")], [(72, "pm"), (48, "head")])
    assert [(s.kind, s.after_hours, s.to) for s in steps(rules)] == [
        ("reminder", 24.0, "asked"),
        ("reminder", 48.0, "asked"),
        ("escalation", 48.0, "head"),
        ("escalation", 72.0, "pm"),
    ]


@pytest.mark.parametrize(
    ("done", "elapsed", "expected"),
    [
        (0, 23.9, None),
        (0, 24.0, 1),
        (1, 47.0, None),
        (1, 50.0, 2),
        (2, 71.0, None),
        (3, 500.0, None),
    ],
)
def test_one_step_is_due_at_a_time(done: int, elapsed: float, expected: int | None) -> None:
    step = due_step(RULES, done, elapsed)
    assert (step.number if step else None) == expected


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
