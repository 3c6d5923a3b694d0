"""Deadlines counted from feedback (acceptance findings, review comments), on data alone."""

from __future__ import annotations

from datetime import date
from typing import Any

from plugin.rules.ownership.feedback import feedback_due, feedback_in, still_there
from plugin.spine.events import parse_event
from tests.fakes import load_default_rules

RULES = load_default_rules()  # rework: label 验收不通过 in stage 5; revision: label 待修订


def update(*items: dict[str, Any]) -> Any:
    return parse_event(
        {
            "webhookEvent": "jira:issue_updated",
            "timestamp": 1772416800000,
            "issue": {"id": "10031", "key": "XD-31", "fields": {}},
            "changelog": {"id": "5001", "items": list(items)},
        }
    )


def labels(before: str, after: str) -> dict[str, str]:
    return {"field": "labels", "fieldtype": "jira", "fromString": before, "toString": after}


def test_a_label_added_is_feedback_and_one_already_there_is_not() -> None:
    [rework] = feedback_in(update(labels("", "验收不通过")), RULES)
    assert (rework.kind, rework.stages, rework.within) == ("rework", [5], 3)
    assert feedback_in(update(labels("验收不通过", "验收不通过 复查")), RULES) == []
    both = feedback_in(update(labels("复查", "复查 待修订 验收不通过")), RULES)
    assert [wanted.kind for wanted in both] == ["rework", "revision"]


def test_a_status_reads_as_feedback_when_the_rules_name_one() -> None:
    ownership = RULES.ownership.model_copy(
        update={
            "feedback": [
                RULES.ownership.feedback[0].model_copy(
                    update={"label": None, "status": "验收不通过"}
                )
            ]
        }
    )
    rules = RULES.model_copy(update={"ownership": ownership})
    moved = update(
        {"field": "status", "fieldtype": "jira", "fromString": "进行中", "toString": "验收不通过"}
    )
    [rework] = feedback_in(moved, rules)
    assert still_there(rework, {"status": {"name": "验收不通过"}})
    assert not still_there(rework, {"status": {"name": "进行中"}})  # moved on since: replayed


def test_the_feedback_must_still_be_on_the_issue_when_re_read() -> None:
    rework = RULES.ownership.feedback[0]
    assert still_there(rework, {"labels": ["验收不通过"]})
    assert not still_there(rework, {"labels": ["复查"]})


def test_three_working_days_skip_the_weekend_and_holidays() -> None:
    rework = RULES.ownership.feedback[0]
    assert feedback_due(RULES, rework, date(2026, 3, 5)) == date(2026, 3, 10)  # Thu -> Tue
    assert feedback_due(RULES, rework, date(2026, 4, 2)) == date(2026, 4, 8)  # 清明 4-6 April
