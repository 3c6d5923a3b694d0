"""The ownership checks, pure: one owner, a due date on a working day inside its parent and stage.

The collaboration process: every item has exactly one owner (唯一负责人) and a due date; a department's
item is owned by that department's head, contact or members (supporting departments never make a
second owner); no child is due after its parent; nothing is due before its stage starts. Each
check takes what Jira holds of the item (an `ItemView`) and returns its violations, in the
configured language, without calling anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from plugin.process.calendar import WorkCalendar
from plugin.process.config import Rules
from plugin.process.items import item_mark, person_of
from plugin.process.owners import department_people
from plugin.process.wording import department_name, join_names
from plugin.rules.ownership.wording import say

# The checks, in the order a comment lists them; each is named after its `ownership` key.
CHECKS = (
    "single_owner",
    "owner_in_department",
    "due_date",
    "due_on_workday",
    "due_within_parent",
    "due_after_stage_start",
)


@dataclass(frozen=True)
class ItemView:
    """What the checks read of one item and its parent, as Jira holds them now."""

    key: str
    assignee: str | None  # Cloud accountId or Data Center username
    due: date | None
    department: str | None = None  # from crossdept.item: whose item it is
    stage_start: date | None = None  # from crossdept.item: when its stage starts
    parent_key: str | None = None
    parent_due: date | None = None


@dataclass(frozen=True)
class Violation:
    """One broken rule: which check, and what to tell people (what is wrong, the rule, the fix)."""

    check: str
    message: str


def due_day(value: Any) -> date | None:
    """A Jira date field's day (a date or the start of a date-time), None when unset or odd."""
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def item_view(issue: Mapping[str, Any], parent: Mapping[str, Any] | None = None) -> ItemView:
    """Build the view of an issue read with `crossdept.item`, and of its parent if it has one."""
    fields: Mapping[str, Any] = issue.get("fields") or {}
    mark = item_mark(issue)
    raw = (issue.get("properties") or {}).get("crossdept.item") or {}
    parent_fields: Mapping[str, Any] = (parent or {}).get("fields") or {}
    parent_ref = fields.get("parent") or {}
    return ItemView(
        key=str(issue.get("key", "")),
        assignee=person_of(fields.get("assignee")),
        due=due_day(fields.get("duedate")),
        department=str(raw["department"]) if mark and raw.get("department") else None,
        stage_start=due_day(raw.get("stage_start")) if mark else None,
        parent_key=str(parent_ref.get("key"))
        if isinstance(parent_ref, Mapping) and parent_ref.get("key")
        else None,
        parent_due=due_day(parent_fields.get("duedate")),
    )


def check_item(item: ItemView, rules: Rules, calendar: WorkCalendar) -> list[Violation]:
    """Every ownership rule the item breaks, in `CHECKS` order; empty when it keeps them all."""
    wanted = rules.ownership
    found: list[Violation] = []

    def broken(check: str, **values: Any) -> None:
        found.append(Violation(check, say(rules, f"ownership.{check}", key=item.key, **values)))

    if wanted.single_owner and item.assignee is None:
        broken("single_owner")
    if wanted.owner_in_department and item.department and item.assignee is not None:
        allowed = department_people(rules, item.department)
        if allowed and item.assignee not in allowed:
            name = department_name(rules, item.department)
            broken("owner_in_department", department=name)
    if item.due is None:
        if wanted.due_date == "required":
            broken("due_date")
        return found
    if wanted.due_on_workday and not calendar.is_working_day(item.due):
        broken(
            "due_on_workday",
            due=item.due.isoformat(),
            next=calendar.next_working_day(item.due).isoformat(),
        )
    if wanted.due_within_parent and item.parent_due is not None and item.due > item.parent_due:
        broken(
            "due_within_parent",
            due=item.due.isoformat(),
            parent=item.parent_key or "",
            parent_due=item.parent_due.isoformat(),
        )
    if item.stage_start is not None and item.due < item.stage_start:
        broken(
            "due_after_stage_start", due=item.due.isoformat(), start=item.stage_start.isoformat()
        )
    return found


def render_violations(
    rules: Rules, key: str, violations: list[Violation], actor_mention: str | None
) -> str:
    """The one comment a rule keeps on an issue while it is broken (wiki markup)."""
    lines = [say(rules, "ownership.heading", key=key)]
    if actor_mention:
        lines.append(say(rules, "ownership.to_actor", mention=actor_mention))
    lines += [f"* {violation.message}" for violation in violations]
    lines += ["", say(rules, "ownership.rule"), "", say(rules, "ownership.marker", key=key)]
    return "\n".join(lines)


def render_fixed(rules: Rules, key: str, checks: list[str]) -> str:
    """What the rule's comment says once the issue keeps every rule again."""
    names = join_names(rules, [say(rules, f"ownership.name.{check}") for check in checks])
    return "\n".join(
        [
            say(rules, "ownership.fixed", key=key, checks=names),
            "",
            say(rules, "ownership.marker", key=key),
        ]
    )
