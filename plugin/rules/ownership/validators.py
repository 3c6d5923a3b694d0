"""Jira expressions an admin pastes as workflow validators, so Jira itself refuses what breaks a rule.

Jira expressions exist on Jira Cloud only: Data Center has neither them nor a REST API for them,
so there crossdept's own checks (a comment, a label, the stage gate) are the enforcement.
crossdept reacts after a change; on Jira Cloud a workflow validator can refuse the change
before it happens. These are Jira expressions (true = allowed) over the issue being created or
transitioned, each with its error message in the configured language, built from the rules file:
the departments' people and the calendar's days off are written into them, so regenerate them
after changing either. https://developer.atlassian.com/cloud/jira/platform/jira-expressions/
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

from plugin.process.calendar import WorkCalendar
from plugin.process.config import WEEKDAYS, Rules
from plugin.process.owners import department_people
from plugin.rules.ownership.wording import say

ITEM = "issue.properties['crossdept.item']"
# The due date as the number YYYYMMDD. `dueDate` is a CalendarDate, a Date without time; its
# toString() is not documented to give YYYY-MM-DD (a Date's is the user's locale form), so the day
# is compared as numbers from getFullYear(), getMonth() (0 = January) and getDate().
# https://developer.atlassian.com/cloud/jira/platform/jira-expressions-type-reference/
DUE_DAY = (
    "(issue.dueDate.getFullYear() * 10000 + (issue.dueDate.getMonth() + 1) * 100"
    " + issue.dueDate.getDate())"
)


@dataclass(frozen=True)
class Validator:
    """One workflow validator: what it checks, the expression, and the message Jira shows."""

    check: str
    expression: str
    message: str


def _strings(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(value, ensure_ascii=False) for value in values) + "]"


def _day_number(day: date) -> int:
    """A day as the number YYYYMMDD, the form `DUE_DAY` computes in the expression."""
    return day.year * 10000 + day.month * 100 + day.day


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def validators(rules: Rules, calendar: WorkCalendar, years: tuple[int, ...]) -> list[Validator]:
    """The validators for the `ownership` rules that are on, in `CHECKS` order."""
    wanted = rules.ownership
    found: list[Validator] = []

    def add(check: str, expression: str) -> None:
        found.append(Validator(check, expression, say(rules, f"validator.{check}")))

    if wanted.single_owner:
        add("single_owner", "issue.assignee != null")
    if wanted.owner_in_department and rules.departments:
        person = "issue.assignee.accountId"
        cases = " || ".join(
            f"({ITEM}.department == {json.dumps(key, ensure_ascii=False)}"
            f" && {_strings(sorted(department_people(rules, key)))}.includes({person}))"
            for key in rules.departments
        )
        add(
            "owner_in_department",
            f"issue.assignee == null || {ITEM} == null || {ITEM}.department == null || {cases}",
        )
    if wanted.due_date == "required":
        add("due_date", "issue.dueDate != null")
    if wanted.due_on_workday:
        weekdays = sorted((WEEKDAYS.index(day) + 1) % 7 for day in rules.calendar.workdays)
        every = [day for year in years for day in _days(date(year, 1, 1), date(year, 12, 31))]
        usual = {(WEEKDAYS.index(day)) for day in rules.calendar.workdays}
        off = [
            _day_number(d) for d in every if d.weekday() in usual and not calendar.is_working_day(d)
        ]
        on = [
            _day_number(d) for d in every if d.weekday() not in usual and calendar.is_working_day(d)
        ]
        add(
            "due_on_workday",
            f"issue.dueDate == null || (!{off}.includes({DUE_DAY}) && "
            f"({on}.includes({DUE_DAY}) || {weekdays}.includes(issue.dueDate.getDay())))",
        )
    if wanted.due_within_parent:
        add(
            "due_within_parent",
            "issue.dueDate == null || issue.parent == null || issue.parent.dueDate == null"
            " || issue.dueDate <= issue.parent.dueDate",
        )
    return found


def names_cloud_accounts(rules: Rules) -> bool:
    """Cloud rules name people by accountId (they contain a colon or are 24 hex digits); Data
    Center rules by username. Jira expressions exist on Cloud only."""
    people = [department.head for department in rules.departments.values()]
    return any(":" in person or (len(person) == 24 and person.isalnum()) for person in people)
