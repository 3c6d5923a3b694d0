"""The ownership rule: every item keeps one owner and a due date inside its parent, while people work.

A webhook cannot veto a change, so crossdept reacts in the issue, once: on every created or
updated item (an issue of the stage or deliverable type in a project under enforcement), it
re-reads the item and its parent, runs the pure checks (plugin.rules.ownership.ownership_checks), and keeps one
comment per item for this rule, mentioning whoever made the change; a label marks the item while
it breaks a rule. When the item is fixed, the comment says so and the label goes. Every
enforcement is one audit row. Nothing is written when nothing is wrong.

Its periodic work, the delay sweep (`sweep_delays`, also `crossdept sweep`), marks late items
延期, unmarks done or re-dated ones, reminds owners before the due date and tells the project
manager of long delays, as plugin.rules.ownership.delays decides.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from plugin.atlassian.queries import Children, Items, Placement
from plugin.process.audit import Audit
from plugin.process.config import Rules, format_duration
from plugin.process.groups import News, departments_led_by, tell_groups
from plugin.process.items import ITEM_PROPERTY, item_mark, person_of
from plugin.process.notices import COMMENTS_PROPERTY, Notices, RuleComments, kept_comments
from plugin.process.wording import mention
from plugin.rules.ownership.delays import DelayDecision, DueItem, decide, delayed_label, due_item
from plugin.rules.ownership.ownership_checks import (
    Violation,
    check_item,
    item_view,
    render_fixed,
    render_violations,
)
from plugin.rules.ownership.wording import say
from plugin.rules.risks import how_to_warn
from plugin.spine.context import Context
from plugin.spine.events import ISSUE_CREATED_BY_CROSSDEPT, JiraEvent
from plugin.spine.routing import Router
from plugin.spine.schedule import Schedule

log = logging.getLogger(__name__)

RULE = "ownership"
# What the checks read of an item, in one GET (with its crossdept properties).
ITEM_FIELDS = (
    "summary",
    "issuetype",
    "project",
    "assignee",
    "duedate",
    "parent",
    "labels",
    "status",
)
# Changes that can break or fix an ownership rule; any other edit is not worth a read.
WATCHED = frozenset({"assignee", "duedate", "parent", "issuetype", "project"})

router = Router()
schedule = Schedule()


def violation_label(rules: Rules) -> str:
    """The label an item carries while it breaks a rule (the rules file's, else by language)."""
    return rules.ownership.violation_label or say(rules, "ownership.label")


def worth_checking(event: JiraEvent, rules: Rules) -> bool:
    """Cheap filter on the payload: an issue changed in a way that matters (created, or an
    owner, due date, parent, type or project changed). The router admitted its project."""
    kind = ((event.issue.fields if event.issue else {}).get("issuetype") or {}).get("name")
    if kind is not None and kind not in _item_types(rules):
        return False  # a request, a meeting, a bug: not an item, known without a read
    if event.name == "jira:issue_created":
        return True
    changed = {
        (item.field_id or item.field or "").lower()
        for item in (event.changelog.items if event.changelog else [])
    }
    return bool(changed & WATCHED) or "due date" in changed


def _item_types(rules: Rules) -> tuple[str, str]:
    return (rules.jira.issue_types.stage, rules.jira.issue_types.deliverable)


def is_checked_item(issue: Mapping[str, Any], rules: Rules) -> bool:
    """Items crossdept made, and any issue of the stage or deliverable type."""
    if item_mark(issue) is not None:
        return True
    kind = ((issue.get("fields") or {}).get("issuetype") or {}).get("name")
    return kind in _item_types(rules)


@router.register("jira:issue_created")
@router.register("jira:issue_updated")
def check_ownership(event: JiraEvent, context: Context) -> None:
    """Re-read a changed item and its parent; say once what is wrong, or that it is fixed."""
    if _request_due_date_moved(event, context.rules):
        # The request (the stages' epic) is not an item, but its stages may now be late.
        request = context.jira.get_issue(str(event.issue_key), ["issuetype", "duedate"])
        recheck_children(request, context, actor=event.actor.id if event.actor else None)
        return
    if not worth_checking(event, context.rules):
        return
    actor = event.actor.id if event.actor else None
    issue = check_now(str(event.issue_key), context, actor=actor)
    if issue is None:
        return
    kind = ((issue.get("fields") or {}).get("issuetype") or {}).get("name")
    if _due_date_changed(event) and kind != context.rules.jira.issue_types.deliverable:
        recheck_children(issue, context, actor=actor)  # a sub-task has no children to make late


@router.register(ISSUE_CREATED_BY_CROSSDEPT)
def check_what_crossdept_created(event: JiraEvent, context: Context) -> None:
    """Hold an item another rule created from what people decided (a meeting's action) to the
    same rules as any other, on behalf of whoever decided it."""
    check_now(str(event.issue_key), context, actor=event.actor.id if event.actor else None)


def check_now(key: str, context: Context, *, actor: str | None = None) -> dict[str, Any] | None:
    """Re-read one issue and its parent and enforce the rules on it, if it is an item.

    Returns the issue as read, or None when it is not an item.
    """
    jira = context.jira
    issue = jira.get_issue(key, ITEM_FIELDS, [ITEM_PROPERTY, COMMENTS_PROPERTY])
    if not is_checked_item(issue, context.rules):
        return None
    parent_ref = (issue.get("fields") or {}).get("parent") or {}
    parent = jira.get_issue(str(parent_ref["key"]), ["duedate"]) if parent_ref.get("key") else None
    enforce(issue, parent, context, actor=actor)
    return issue


def enforce(
    issue: Mapping[str, Any],
    parent: Mapping[str, Any] | None,
    context: Context,
    *,
    actor: str | None = None,
    tell_owner: bool = False,
) -> list[Violation]:
    """Check one item as Jira holds it, and make Jira show the outcome: comment and label.

    The comment mentions `actor`, who made the change, and with `tell_owner` the item's owner
    too (a change made elsewhere, such as its parent's due date, broke it)."""
    rules, jira = context.rules, context.jira
    calendar = rules.work_calendar
    view = item_view(issue, parent)
    violations = check_item(view, rules, calendar)
    audit = Audit(context.store)
    now = context.clock().timestamp()
    cause = context.delivery_key

    def note(action: str, detail: str | None = None) -> None:
        audit.record(now, view.key, RULE, action, detail, cause)
        log.info(
            "ownership %s", action, extra={"issue": view.key, "delivery": cause, "detail": detail}
        )

    label = violation_label(rules)
    labels = set((issue.get("fields") or {}).get("labels") or [])
    comments = RuleComments(jira)
    kept = kept_comments(issue).get(RULE)
    if violations:
        checks = ",".join(v.check for v in violations)
        people = [actor] if actor else []
        owner = person_of((issue.get("fields") or {}).get("assignee"))
        if tell_owner and owner and owner not in people:
            people.append(owner)
        who = " ".join(mention(p, cloud=jira.is_cloud) for p in people) or None
        text = render_violations(rules, view.key, violations, who)
        action = comments.show(
            issue,
            RULE,
            text,
            marker=f"ownership:{view.key}",
            topics=tuple(v.check for v in violations),
        )
        if action != "unchanged":
            note("check failed", checks)
            note(f"comment {action}")
        if label not in labels:
            jira.edit_labels(view.key, add=[label])
            note("label added", label)
        return violations
    if kept is not None and kept.open:
        comments.close(issue, RULE, render_fixed(rules, view.key, list(kept.topics)))
        note("check passed again")
        note("comment edited", "fixed")
    if label in labels:
        jira.edit_labels(view.key, remove=[label])
        note("label removed", label)
    return violations


def _request_due_date_moved(event: JiraEvent, rules: Rules) -> bool:
    kind = ((event.issue.fields if event.issue else {}).get("issuetype") or {}).get("name")
    request_types = (rules.jira.request.issue_type, rules.jira.request.epic_issue_type)
    return event.name == "jira:issue_updated" and kind in request_types and _due_date_changed(event)


def _due_date_changed(event: JiraEvent) -> bool:
    items = event.changelog.items if event.changelog else []
    return any(
        (item.field_id or item.field or "").lower() in ("duedate", "due date") for item in items
    )


def recheck_children(
    parent: Mapping[str, Any], context: Context, *, actor: str | None = None
) -> None:
    """A parent's due date moved: its children may now be late. One search, then each child,
    whose comment names both the person who moved the parent and the child's owner."""
    rules = context.rules
    kind = ((parent.get("fields") or {}).get("issuetype") or {}).get("name")
    epics = (rules.jira.request.issue_type, rules.jira.request.epic_issue_type)
    placement: Placement = "epic_child" if kind in epics else "subtask"
    children = context.jira.search(
        Children((str(parent["key"]),), placement, rules.jira.epic_link_field),
        fields=ITEM_FIELDS,
        properties=[ITEM_PROPERTY, COMMENTS_PROPERTY],
    )
    for child in children:
        if is_checked_item(child, rules):
            enforce(child, parent, context, actor=actor, tell_owner=True)


# -- the delay sweep ---------------------------------------------------------------------------

SWEEP_FIELDS = ("summary", "duedate", "status", "labels", "assignee")
DELAYS = "delays"  # the sweep's notices: one reminder per item and due date
DELAYS_PM = "delays-pm"  # and one notice to the project manager per item and due date


@dataclass(frozen=True)
class SweepReport:
    """What one sweep found and did (or, dry, would do)."""

    read: int
    decisions: tuple[DelayDecision, ...]
    dry_run: bool

    def lines(self) -> list[str]:
        """One line per item acted on, for `crossdept sweep`."""
        found = []
        for decision in self.decisions:
            said = []
            if decision.add_label:
                said.append(f"delayed ({decision.days_late} working days late)")
            if decision.remove_label:
                said.append("no longer delayed")
            if decision.remind_owner:
                said.append("owner reminded")
            if decision.tell_pm:
                said.append("project manager told")
            found.append(f"{decision.key}: {', '.join(said)}")
        return found


@schedule.every(minutes=5)
def sweep_delays(context: Context) -> str:
    """Mark late items delayed, unmark done or re-dated ones, remind owners, tell the PM."""
    report = run_sweep(context)
    return f"{report.read} items read, {len(report.decisions)} acted on"


def run_sweep(context: Context, *, dry_run: bool = False) -> SweepReport:
    """The delay sweep: one search (paged) over every project, then only the writes needed."""
    rules, jira = context.rules, context.jira
    calendar = rules.work_calendar
    now = context.clock()
    label = delayed_label(rules)
    horizon = (now + rules.ownership.warn_before_due).astimezone(rules.tz).date()
    by_status = rules.ownership.delayed_status
    due_or_delayed = Items(
        tuple(rules.jira.projects),
        tuple(_item_types(rules)),
        open_due_by=horizon,
        or_label=None if by_status else label,
        or_status=by_status.status if by_status else None,
    )
    hits = jira.search(due_or_delayed, fields=SWEEP_FIELDS)
    notices = Notices(context.store)
    wanted_by_key = {
        str(hit.get("key")): decide(due_item(hit, rules), now, rules, calendar) for hit in hits
    }
    requests = _requests_of(hits, wanted_by_key, context)
    managers = _project_managers(set(requests.values()), context)
    decisions: list[DelayDecision] = []
    for hit in hits:
        item = due_item(hit, rules)
        wanted = wanted_by_key[item.key]
        request = requests.get(item.key)
        pm = managers.get(request, rules.project_manager) if request else rules.project_manager
        texts = _notices_for(wanted, item, context, pm)
        # A reminder or a PM notice goes out once per due date: drop those already sent.
        decision = replace(
            wanted,
            remind_owner=DELAYS in texts and not notices.has_said(item.key, DELAYS, texts[DELAYS]),
            tell_pm=DELAYS_PM in texts
            and not notices.has_said(item.key, DELAYS_PM, texts[DELAYS_PM]),
        )
        if not decision.acts:
            continue
        if not dry_run:
            _act(decision, item, texts, context, notices, label)
            if decision.tell_pm and pm is not None:
                tell_groups(context, _delay_news(decision, item, pm, request, context))
        decisions.append(decision)
    return SweepReport(len(hits), tuple(decisions), dry_run)


def _requests_of(
    hits: Sequence[Mapping[str, Any]],
    decisions: Mapping[str, DelayDecision],
    context: Context,
) -> dict[str, str]:
    """The request of each item whose project manager is to be told, from the items' marks.

    Read for those items only (one bulk read per 100, on Data Center from the mark book), so the
    sweep's search carries no properties: most sweeps tell no project manager at all.
    """
    keys = [str(hit.get("key")) for hit in hits if decisions[str(hit.get("key"))].tell_pm]
    if not keys or context.rules.jira.request.fields.project_manager is None:
        return {}
    found: dict[str, str] = {}
    for issue in context.jira.read_issues(keys, fields=["summary"], properties=[ITEM_PROPERTY]):
        mark = item_mark(issue)
        if mark is not None:
            found[str(issue.get("key"))] = mark.request
    return found


def _project_managers(requests: set[str], context: Context) -> dict[str, str]:
    """The project manager each request names in its PM field; one bulk read of the requests,
    none when the field is not mapped."""
    field = context.rules.jira.request.fields.project_manager
    if field is None or not requests:
        return {}
    found: dict[str, str] = {}
    for request in context.jira.read_issues(sorted(requests), fields=[field]):
        person = person_of((request.get("fields") or {}).get(field))
        if person:
            found[str(request.get("key"))] = person
    return found


def _notices_for(
    decision: DelayDecision, item: DueItem, context: Context, pm: str | None
) -> dict[str, str]:
    """The texts of the reminder and the PM notice this decision calls for, by notice kind."""
    rules, jira = context.rules, context.jira
    due = item.due.isoformat() if item.due else ""
    texts: dict[str, str] = {}
    if decision.remind_owner and item.assignee:
        texts[DELAYS] = say(
            rules,
            "delays.remind",
            key=item.key,
            mention=mention(item.assignee, cloud=jira.is_cloud),
            due=due,
            warn=format_duration(rules.ownership.warn_before_due),
            how=f"\n{how}" if (how := how_to_warn(rules)) else "",
        )
    if decision.tell_pm:
        if pm is None:
            log.warning(
                "an item is late but no project manager is named to tell",
                extra={"issue": item.key, "days_late": decision.days_late},
            )
        else:
            owner = mention(item.assignee, cloud=jira.is_cloud) if item.assignee else "-"
            texts[DELAYS_PM] = say(
                rules,
                "delays.tell_pm",
                key=item.key,
                mention=mention(pm, cloud=jira.is_cloud),
                due=due,
                days=decision.days_late,
                limit=rules.ownership.overdue_after_days,
                owner=owner,
            )
    return texts


def _delay_news(
    decision: DelayDecision, item: DueItem, pm: str, request: str | None, context: Context
) -> News:
    """The PM hears of a long delay in the groups too: the owner's department's and the request's."""
    rules = context.rules
    due = item.due.isoformat() if item.due else ""
    return News(
        "delay",
        f"delay:{item.key}:{due}",
        say(rules, "delays.group.title", key=item.key, days=decision.days_late),
        (say(rules, "delays.group.line", due=due, days=decision.days_late),),
        link=context.jira.issue_url(item.key),
        link_text=item.key,
        issue=item.key,
        request=request,
        departments=departments_led_by(rules, [item.assignee] if item.assignee else []),
        mention=(pm,),
    )


def _act(
    decision: DelayDecision,
    item: DueItem,
    texts: Mapping[str, str],
    context: Context,
    notices: Notices,
    label: str,
) -> None:
    """Carry out one decision in Jira, auditing each step."""
    jira, audit = context.jira, Audit(context.store)
    stamp, cause = context.clock().timestamp(), context.delivery_key
    by_status = context.rules.ownership.delayed_status
    if by_status and (decision.add_label or decision.remove_label):
        target = by_status.status if decision.add_label else by_status.back_to
        moved = jira.transition_to(item.key, target)
        action = f"moved to {target}" if moved else f"no transition to {target}"
        audit.record(stamp, item.key, DELAYS, action, None, cause)
        if not moved:
            log.warning(
                "the workflow has no transition to the delayed status",
                extra={"issue": item.key, "status": target},
            )
    elif decision.add_label or decision.remove_label:
        jira.edit_labels(
            item.key,
            add=[label] if decision.add_label else [],
            remove=[label] if decision.remove_label else [],
        )
        action = "label added" if decision.add_label else "label removed"
        audit.record(stamp, item.key, DELAYS, action, label, cause)
    due = item.due.isoformat() if item.due else ""
    if decision.remind_owner and notices.comment_once(jira, item.key, DELAYS, texts[DELAYS], stamp):
        audit.record(stamp, item.key, DELAYS, "owner reminded", due, cause)
    if decision.tell_pm and notices.comment_once(
        jira, item.key, DELAYS_PM, texts[DELAYS_PM], stamp
    ):
        detail = f"{decision.days_late} working days late"
        audit.record(stamp, item.key, DELAYS, "project manager told", detail, cause)
