"""Delays, decided purely: which items are late (延期), due soon, or late enough to tell the PM.

The collaboration process: a task past its due date and not done is delayed; an owner
who expects a delay warns 24 hours before the due date; a task more than 2 working days late is
flagged to the project manager. `decide` takes an item as the sweep's search returned it and
says what Jira should show; the sweep (plugin.rules.ownership.ownership) carries it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from plugin.process.calendar import WorkCalendar
from plugin.process.config import Rules
from plugin.process.items import is_done, person_of
from plugin.rules.ownership.wording import say


@dataclass(frozen=True)
class DueItem:
    """What the sweep reads of one item."""

    key: str
    due: date | None
    done: bool
    labels: frozenset[str]
    assignee: str | None
    status: str | None = None


@dataclass(frozen=True)
class DelayDecision:
    """What Jira should show for one item; all False means nothing to do."""

    key: str
    add_label: bool = False
    remove_label: bool = False
    remind_owner: bool = False  # due within `warn_before_due`: once per due date
    tell_pm: bool = False  # more than `overdue_after_days` working days late: once per due date
    days_late: int = 0

    @property
    def acts(self) -> bool:
        """Say whether anything is to be done."""
        return self.add_label or self.remove_label or self.remind_owner or self.tell_pm


def delayed_label(rules: Rules) -> str:
    """The label of a delayed item: the rules file's, else 延期 / delayed by language."""
    return rules.ownership.delayed_label or say(rules, "delays.label")


def due_item(issue: Mapping[str, Any], rules: Rules) -> DueItem:
    """Read one search hit."""
    fields: Mapping[str, Any] = issue.get("fields") or {}
    raw_due = fields.get("duedate")
    try:
        due = date.fromisoformat(str(raw_due)[:10]) if raw_due else None
    except ValueError:
        due = None
    return DueItem(
        key=str(issue.get("key", "")),
        due=due,
        done=is_done(fields, rules),
        labels=frozenset(fields.get("labels") or []),
        assignee=person_of(fields.get("assignee")),
        status=(fields.get("status") or {}).get("name"),
    )


def decide(item: DueItem, now: datetime, rules: Rules, calendar: WorkCalendar) -> DelayDecision:
    """What the delay rules want Jira to show for this item at `now` (in the rules' timezone).

    The mark is the delayed label, or the delayed status when the rules file names one (then
    `add_label` / `remove_label` mean: move into that status / back out of it).
    """
    by_status = rules.ownership.delayed_status
    marked = item.status == by_status.status if by_status else delayed_label(rules) in item.labels
    today = now.astimezone(rules.tz).date()
    if item.done or item.due is None:
        # A done item in the delayed status is done: its workflow moved it out already.
        return DelayDecision(item.key, remove_label=marked and not (by_status and item.done))
    if item.due < today:
        late = calendar.working_days_between(item.due, today)
        return DelayDecision(
            item.key,
            add_label=not marked,
            tell_pm=late > rules.ownership.overdue_after_days,
            days_late=late,
        )
    # Due today or later: not delayed (a re-dated item loses its mark); warn when close.
    end_of_due = datetime.combine(item.due, datetime.max.time(), tzinfo=rules.tz)
    soon = end_of_due - now.astimezone(rules.tz) <= rules.ownership.warn_before_due
    return DelayDecision(
        item.key, remove_label=marked, remind_owner=soon and item.assignee is not None
    )
