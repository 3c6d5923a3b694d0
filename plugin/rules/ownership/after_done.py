"""Deadlines that start from an event: a stage actually done sets a later stage's due date.

The guides count the retrospective from the acceptance's *actual* end (within 5 working days),
not from the plan: `ownership.after_done` says which stage's completion counts, which stage is
re-dated, and by how many working days. The re-dated stage and everything under it get the new
due date once, with one comment saying why; crossdept's own edits come back as webhooks it
ignores, and a repeated delivery finds the dates already set and does nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from plugin.process.audit import Audit
from plugin.process.config import Rules
from plugin.process.items import (
    ITEM_PROPERTY,
    TREE_PROPERTY,
    event_day,
    is_done,
    item_mark,
    read_tree_record,
)
from plugin.process.notices import Notices
from plugin.rules.ownership.ownership_checks import due_day
from plugin.rules.ownership.stage_gate import status_change
from plugin.rules.ownership.wording import say
from plugin.spine.context import Context
from plugin.spine.events import JiraEvent
from plugin.spine.routing import Router

log = logging.getLogger(__name__)

RULE = "after-done"
_STAGE_REF = re.compile(r"s(\d+)")

router = Router()


@dataclass(frozen=True)
class Redate:
    """One item to re-date, and why: the stage done and the day it was done."""

    key: str
    due: date
    stage_done: int
    done_day: date
    within: int
    stage: str  # the ref of the stage re-dated (its comment goes there)


def redates_after_done(
    rules: Rules,
    done_ref: str,
    done_day: date,
    tree: Mapping[str, str],
    dues: Mapping[str, date | None],
) -> list[Redate]:
    """The items whose due date a stage's completion on `done_day` sets, and to what: only
    those not already due then, so a repeated event changes nothing."""
    match = _STAGE_REF.fullmatch(done_ref)
    if match is None:
        return []  # a deliverable done: no stage ended
    number = int(match[1])
    found: list[Redate] = []
    for clock in rules.ownership.after_done:
        if clock.stage_done != number:
            continue
        due = rules.work_calendar.add_working_days(done_day, clock.within)
        stage = f"s{clock.redates}"
        for ref, key in sorted(tree.items()):
            if (ref == stage or ref.startswith(stage + ".")) and dues.get(key) != due:
                found.append(Redate(key, due, number, done_day, clock.within, stage))
    return found


@router.register("jira:issue_updated")
def redate_after_done(event: JiraEvent, context: Context) -> None:
    """A stage moved to done: the stages counted from its completion get their due dates."""
    rules = context.rules
    if not rules.ownership.after_done or event.issue_key is None or status_change(event) is None:
        return
    issue = context.jira.get_issue(event.issue_key, ["status"], [ITEM_PROPERTY])
    mark = item_mark(issue)
    if mark is None or _STAGE_REF.fullmatch(mark.ref) is None:
        return
    if not is_done(issue.get("fields") or {}, rules):
        return  # re-read: it is not done (any more)
    done_day = event_day(event, context)
    request = context.jira.get_issue(mark.request, ["summary"], [TREE_PROPERTY])
    tree = read_tree_record(request).items
    keys = sorted(tree.values())
    dues = {
        str(found["key"]): due_day((found.get("fields") or {}).get("duedate"))
        for found in context.jira.read_issues(keys, ["duedate"])
    }
    redates = redates_after_done(rules, mark.ref, done_day, tree, dues)
    if not redates:
        return
    audit, now = Audit(context.store), context.clock().timestamp()
    for redate in redates:
        context.jira.set_due_date(redate.key, redate.due)
        audit.record(
            now,
            redate.key,
            "ownership",
            "due date set after a stage was done",
            f"{redate.due.isoformat()}: {event.issue_key} done {redate.done_day.isoformat()}"
            f" + {redate.within} working days",
            context.delivery_key,
        )
    first = redates[0]
    stage = tree.get(first.stage) or first.key  # the comment goes on the stage
    text = say(
        rules,
        "after_done.redated",
        key=stage,
        done=event.issue_key,
        stage_done=_stage_name(rules, first.stage_done),
        day=first.done_day.isoformat(),
        within=first.within,
        due=first.due.isoformat(),
        count=len(redates),
    )
    Notices(context.store).comment_once(context.jira, stage, RULE, text, now)
    log.info(
        "due dates set after a stage was done",
        extra={"issue": event.issue_key, "items": len(redates), "due": first.due.isoformat()},
    )


def _stage_name(rules: Rules, number: int) -> str:
    stage = rules.stages[number - 1]
    return rules.text(stage.name, stage.name_en)
