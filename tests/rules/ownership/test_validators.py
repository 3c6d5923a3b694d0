"""Workflow validators: Jira expressions built from the rules file, pinned for the shipped rules."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from plugin.process.calendar import WorkCalendar
from plugin.rules.ownership.validators import validators
from tests.fakes import CONTACTS, DC_USERS, HEADS, RULES_FILE, load_default_rules
from webhooks.cli import cli

RULES = load_default_rules()


def by_check(rules=RULES, years=(2026,)):  # type: ignore[no-untyped-def]
    return {v.check: v for v in validators(rules, WorkCalendar.from_rules(rules.calendar), years)}


def lists_in(expression: str) -> list[list[str]]:
    return [json.loads(found) for found in re.findall(r"\[[^\[\]]*\]", expression)]


def test_the_shipped_rules_give_five_validators_with_pinned_expressions() -> None:
    found = by_check()
    assert list(found) == [
        "single_owner",
        "owner_in_department",
        "due_date",
        "due_on_workday",
        "due_within_parent",
    ]
    assert found["single_owner"].expression == "issue.assignee != null"
    assert found["due_date"].expression == "issue.dueDate != null"
    assert found["due_within_parent"].expression == (
        "issue.dueDate == null || issue.parent == null || issue.parent.dueDate == null"
        " || issue.dueDate <= issue.parent.dueDate"
    )
    assert found["single_owner"].message == "每项任务必须有一个负责人：请设置经办人。"


def test_department_owners_are_listed_per_department_by_account_id() -> None:
    expression = by_check()["owner_in_department"].expression
    assert expression.startswith(
        "issue.assignee == null || issue.properties['crossdept.item'] == null"
        " || issue.properties['crossdept.item'].department == null || "
    )
    clause = re.search(
        r"department == \"技术部\" && (\[[^\]]*\])\.includes\(issue\.assignee\.accountId\)",
        expression,
    )
    assert clause is not None
    assert set(json.loads(clause.group(1))) >= {HEADS["技术部"], CONTACTS["技术部"]}


def test_the_working_day_validator_lists_holidays_and_adjusted_working_weekends() -> None:
    expression = by_check()["due_on_workday"].expression
    off, on, weekdays = lists_in(expression)
    assert 20261001 in off and 20260101 in off  # National Day, New Year
    assert 20261003 not in off  # a Saturday: off anyway, so not listed
    assert 20260104 in on  # a Sunday worked to make up for New Year (调休)
    assert weekdays == [1, 2, 3, 4, 5]  # Jira's getDay(): Sunday is 0
    two_years = by_check(years=(2026, 2027))["due_on_workday"].expression
    assert "20271001" in two_years


def test_the_due_day_is_compared_as_numbers_not_as_a_locale_string() -> None:
    """A CalendarDate's toString() is not documented as YYYY-MM-DD; its parts are numbers."""
    expression = by_check()["due_on_workday"].expression
    assert "toString" not in expression
    day = (
        "(issue.dueDate.getFullYear() * 10000 + (issue.dueDate.getMonth() + 1) * 100"
        " + issue.dueDate.getDate())"
    )
    assert expression.count(f".includes({day})") == 2
    # The day number the expression computes for 2026-10-01 (getMonth() is 0-based) is listed.
    year, month, date = 2026, 10 - 1, 1
    assert year * 10000 + (month + 1) * 100 + date in lists_in(expression)[0]


def data_center_rules_text() -> str:
    text = RULES_FILE.read_text(encoding="utf-8")
    for account, name in DC_USERS.items():
        text = text.replace(account, name)
    return text


def test_data_center_rules_get_a_plain_answer_and_no_expression(tmp_path: Path) -> None:
    runner = CliRunner()
    rules = tmp_path / "dc-rules.yaml"
    rules.write_text(data_center_rules_text(), encoding="utf-8")
    shown = runner.invoke(cli, ["validators", str(rules)])
    as_json = runner.invoke(cli, ["validators", str(rules), "--json"])
    assert shown.exit_code == 0, shown.output
    assert "exist only on Jira Cloud" in shown.output
    assert "expression:" not in shown.output and "engineering.contact" not in shown.output
    assert json.loads(as_json.stdout) == []


def test_a_changed_rules_file_changes_its_validators() -> None:
    english = load_default_rules(language="en")
    relaxed = english.model_copy(
        update={
            "ownership": english.ownership.model_copy(
                update={"due_on_workday": False, "owner_in_department": False}
            )
        }
    )
    found = by_check(relaxed)
    assert list(found) == ["single_owner", "due_date", "due_within_parent"]
    assert found["due_date"].message == "Every item needs a due date: set it."


def test_the_command_prints_each_validator_and_json() -> None:
    runner = CliRunner()
    shown = runner.invoke(cli, ["validators", str(RULES_FILE), "--year", "2026"])
    assert shown.exit_code == 0, shown.output
    assert "1. single_owner\n   expression: issue.assignee != null\n" in shown.output
    data = json.loads(
        runner.invoke(cli, ["validators", str(RULES_FILE), "--json", "--year", "2026"]).output
    )
    assert [entry["check"] for entry in data] == list(by_check())
