"""Deadlines that start from feedback: an acceptance finding or review comments send an item back.

The guides give the owner a fixed time from the feedback, not from the plan: each non-conforming
item found at acceptance is fixed within 3 working days (seed 000, stage 5), and documents are
revised within 3 working days of review comments (seed 004, step 6). `ownership.feedback` says
which status or label means feedback, for which stages, and how many working days follow. The
item crossdept made is re-dated from the day of the feedback (its stage too, when the stage would
end first, so no child is due after its parent) and its owner is told once. A repeated delivery
finds the date already set and does nothing; a later round of feedback counts afresh.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

from plugin.process.audit import Audit
from plugin.process.config import Feedback, Rules
from plugin.process.items import (
    ITEM_PROPERTY,
    TREE_PROPERTY,
    event_day,
    item_mark,
    person_of,
    read_tree_record,
    stage_of,
)
from plugin.process.notices import Notices
from plugin.process.wording import mention, plain
from plugin.rules.ownership.ownership_checks import due_day
from plugin.rules.ownership.stage_gate import status_change
from plugin.rules.ownership.wording import say
from plugin.spine.context import Context
from plugin.spine.events import JiraEvent
from plugin.spine.routing import Router

log = logging.getLogger(__name__)

RULE = "feedback"
STAGE_MOVED = "stage due date moved for feedback"

router = Router()


def feedback_in(event: JiraEvent, rules: Rules) -> list[Feedback]:
    """The configured feedback an update reports: the status moved into, or a label added."""
    if event.changelog is None:
        return []
    change = status_change(event)
    status = change[1] if change else None
    added: set[str] = set()
    for item in event.changelog.items:
        if (item.field_id or item.field or "").lower() == "labels":
            added |= set((item.to_string or "").split()) - set((item.from_string or "").split())
    return [
        wanted
        for wanted in rules.ownership.feedback
        if (wanted.status is not None and wanted.status == status) or wanted.label in added
    ]


def still_there(wanted: Feedback, fields: Mapping[str, Any]) -> bool:
    """Whether the issue, as just re-read, still shows the feedback (an old event replayed
    after the label came off, or the item moved on, re-dates nothing)."""
    if wanted.status is not None:
        status = fields.get("status") or {}
        return isinstance(status, Mapping) and status.get("name") == wanted.status
    return wanted.label in (fields.get("labels") or [])


def feedback_due(rules: Rules, wanted: Feedback, day: date) -> date:
    """The item's new due date: `within` working days after the day of the feedback."""
    return rules.work_calendar.add_working_days(day, wanted.within)


@router.register("jira:issue_updated")
def redate_after_feedback(event: JiraEvent, context: Context) -> None:
    """An item sent back by feedback is due `within` working days after it; its owner is told."""
    rules = context.rules
    if not rules.ownership.feedback or event.issue_key is None:
        return
    reported = feedback_in(event, rules)
    if not reported:
        return
    key = event.issue_key
    issue = context.jira.get_issue(
        key, ["summary", "status", "labels", "duedate", "assignee"], [ITEM_PROPERTY]
    )
    mark = item_mark(issue)
    fields = issue.get("fields") or {}
    if mark is None:
        return  # not an item crossdept made
    stage = stage_of(mark.ref)
    applies = [
        wanted
        for wanted in reported
        if (not wanted.stages or stage in wanted.stages) and still_there(wanted, fields)
    ]
    if not applies:
        return  # another stage's feedback, or gone again (an old event replayed)
    wanted = applies[0]
    day = event_day(event, context)
    due = feedback_due(rules, wanted, day)
    audit, now = Audit(context.store), context.clock().timestamp()
    # Each step is safe to repeat (a worker killed half-way is retried): the date is set only
    # when it differs, the stage moved only when it ends first, and the comment's words depend
    # on what was done, not on who did it, so a retry finds them said.
    if due_day(fields.get("duedate")) != due:
        context.jira.set_due_date(key, due)
        audit.record(
            now,
            key,
            "ownership",
            f"due date set after {wanted.kind}",
            f"{due.isoformat()}: {wanted.status or wanted.label} on {day.isoformat()}"
            f" + {wanted.within} working days",
            context.delivery_key,
        )
    stage_line = _move_stage(context, mark.request, mark.ref, stage, due, now)
    owner = person_of(fields.get("assignee"))
    lines = [
        say(
            rules,
            f"feedback.{wanted.kind}",
            key=key,
            owner=mention(owner, cloud=context.jira.is_cloud) if owner else "",
            what=plain(wanted.status or wanted.label or ""),
            day=day.isoformat(),
            within=wanted.within,
            due=due.isoformat(),
        ).strip(),
        *([stage_line] if stage_line else []),
        "",
        say(rules, "feedback.marker", key=key, due=due.isoformat()),
    ]
    text = "\n".join(lines)
    Notices(context.store).comment_once(context.jira, key, RULE, text, now)
    log.info(
        "due date set after feedback",
        extra={"issue": key, "kind": wanted.kind, "due": due.isoformat()},
    )


def _move_stage(
    context: Context, request: str, ref: str, stage: int | None, due: date, now: float
) -> str | None:
    """Move the item's stage out to `due` when it would end first; the line that says so, when
    the audit shows it moved for this due date (now, or before a retry)."""
    stage_ref = f"s{stage}" if stage is not None else None
    if stage_ref is None or ref == stage_ref:
        return None
    record = context.jira.get_issue(request, ["summary"], [TREE_PROPERTY])
    stage_key = read_tree_record(record).items.get(stage_ref)
    if stage_key is None:
        return None
    [found] = context.jira.read_issues([stage_key], ["duedate"]) or [{}]
    stage_due = due_day((found.get("fields") or {}).get("duedate"))
    audit = Audit(context.store)
    if stage_due is not None and stage_due < due:
        context.jira.set_due_date(stage_key, due)
        audit.record(
            now,
            stage_key,
            "ownership",
            STAGE_MOVED,
            f"{stage_due.isoformat()} -> {due.isoformat()}",
            context.delivery_key,
        )
    moved = [
        entry
        for entry in audit.entries(stage_key)
        if entry.action == STAGE_MOVED and (entry.detail or "").endswith(f"-> {due.isoformat()}")
    ]
    if not moved:
        return None
    was = (moved[0].detail or "").split(" -> ")[0]
    return say(context.rules, "feedback.stage_moved", stage=stage_key, was=was)
