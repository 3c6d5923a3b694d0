"""The ownership checks as pure functions: one owner, a due date on a working day inside its parent."""

from __future__ import annotations

from datetime import date

import pytest

from plugin.process.calendar import WorkCalendar
from plugin.rules.ownership.ownership_checks import (
    ItemView,
    check_item,
    item_view,
    render_fixed,
    render_violations,
)
from tests.fakes import CONTACTS, DC_USERS, HEADS, data_center_rules, load_default_rules

RULES = load_default_rules()
DC_RULES = data_center_rules(RULES)
CALENDAR = WorkCalendar.from_rules(RULES.calendar)
MONDAY = date(2026, 3, 2)


def view(**changes: object) -> ItemView:
    base: dict[str, object] = {
        "key": "XD-9",
        "assignee": CONTACTS["技术部"],
        "due": date(2026, 3, 4),
        "department": "技术部",
        "stage_start": MONDAY,
        "parent_key": "XD-2",
        "parent_due": date(2026, 3, 5),
    }
    base.update(changes)
    return ItemView(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "broken"),
    [
        ({}, []),
        ({"assignee": None}, ["single_owner"]),
        ({"assignee": HEADS["技术部"]}, []),  # the head may own a department's item
        ({"assignee": CONTACTS["财务部"]}, ["owner_in_department"]),  # a supporting department
        ({"department": None, "assignee": CONTACTS["财务部"]}, []),  # not a department's item
        ({"due": None}, ["due_date"]),
        ({"due": date(2026, 3, 7)}, ["due_on_workday", "due_within_parent"]),  # a Saturday
        ({"due": date(2026, 10, 1), "parent_due": None}, ["due_on_workday"]),  # National Day
        ({"due": date(2025, 10, 11), "parent_due": None, "stage_start": None}, []),  # 调休 Saturday
        ({"due": date(2026, 3, 6)}, ["due_within_parent"]),
        ({"parent_due": date(2026, 3, 3)}, ["due_within_parent"]),  # the parent was moved earlier
        ({"parent_key": None, "parent_due": None}, []),  # an item with no parent
        ({"due": date(2026, 2, 27)}, ["due_after_stage_start"]),
        ({"assignee": None, "due": None}, ["single_owner", "due_date"]),
    ],
)
def test_each_rule_is_checked_on_what_jira_holds(
    changes: dict[str, object], broken: list[str]
) -> None:
    assert [v.check for v in check_item(view(**changes), RULES, CALENDAR)] == broken


def test_data_center_items_are_owned_by_usernames() -> None:
    owner = DC_USERS[CONTACTS["技术部"]]
    assert check_item(view(assignee=owner), DC_RULES, CALENDAR) == []
    outsider = DC_USERS[CONTACTS["财务部"]]
    assert [v.check for v in check_item(view(assignee=outsider), DC_RULES, CALENDAR)] == [
        "owner_in_department"
    ]


def test_rules_turned_off_are_not_checked() -> None:
    relaxed = RULES.model_copy(
        update={
            "ownership": RULES.ownership.model_copy(
                update={
                    "single_owner": False,
                    "owner_in_department": False,
                    "due_date": "optional",
                    "due_on_workday": False,
                    "due_within_parent": False,
                }
            )
        }
    )
    for changes in (
        {"assignee": None},
        {"assignee": CONTACTS["财务部"]},
        {"due": None},
        {"due": date(2026, 3, 7)},
    ):
        assert check_item(view(**changes), relaxed, CALENDAR) == []


def test_messages_say_what_is_wrong_and_how_to_fix_it_in_both_languages() -> None:
    [zh] = check_item(view(due=date(2026, 3, 6)), RULES, CALENDAR)
    assert zh.message == (
        "截止日期 2026-03-06 晚于上级任务 XD-2 的截止日期 2026-03-05：子任务不得晚于上级任务。"
        "请提前截止日期，或与 XD-2 的负责人商定推迟 XD-2。"
    )
    [en] = check_item(
        view(due=date(2026, 3, 7), parent_due=None), load_default_rules(language="en"), CALENDAR
    )
    assert en.message.startswith("The due date 2026-03-07 is not a working day")
    assert "e.g. 2026-03-09" in en.message


def test_a_view_is_read_from_the_issue_its_mark_and_its_parent() -> None:
    issue = {
        "key": "XD-9",
        "fields": {
            "assignee": {"name": "engineering.contact"},
            "duedate": "2026-03-04",
            "parent": {"key": "XD-2"},
        },
        "properties": {
            "crossdept.item": {
                "request": "XD-1",
                "ref": "s1.d2.技术部",
                "department": "技术部",
                "stage_start": "2026-03-02",
            }
        },
    }
    parent = {"key": "XD-2", "fields": {"duedate": "2026-03-05"}}
    assert item_view(issue, parent) == ItemView(
        "XD-9", "engineering.contact", date(2026, 3, 4), "技术部", MONDAY, "XD-2", date(2026, 3, 5)
    )
    bare = item_view({"key": "XD-3", "fields": {"assignee": None, "duedate": None}})
    assert bare == ItemView("XD-3", None, None)


def test_the_comment_names_the_actor_each_problem_and_the_rule() -> None:
    violations = check_item(view(assignee=None, due=None), RULES, CALENDAR)
    text = render_violations(RULES, "XD-9", violations, "[~accountid:557058:x]")
    lines = text.splitlines()
    assert lines[0] == "h4. 协作规则提醒：XD-9"
    assert lines[1].startswith("[~accountid:557058:x] 本次修改后")
    assert [line[:7] for line in lines if line.startswith("* ")] == ["* 没有负责人", "* 没有截止日"]
    assert lines[-1] == "_本评论由 crossdept 维护（ownership:XD-9）。_"
    fixed = render_fixed(RULES, "XD-9", ["single_owner", "due_date"])
    assert fixed.splitlines()[0] == "h4. 已符合协作规则：XD-9"
    assert "负责人、截止日期" in fixed
