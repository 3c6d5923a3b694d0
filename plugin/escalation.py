"""The escalation rule: nobody waits more than 48 hours; one clock per ask, reminders, escalation.

PROCESS.md §4 (seed 003): a department that has not responded for more than 48 hours is
escalated to its head. An ask starts a clock for one person on one issue (a mention in a
comment, an assignment, or the issue entering a waiting status); the person's own comment,
transition or edit answers it (`escalation.answered_by`); an asking comment deleted or edited
so it no longer mentions them, or the issue done, cancels it. The sweep, on one worker at a time
(a lease in the store), finds the asks whose next step is due with one indexed query, re-reads
their issues from Jira in bulk to confirm nobody answered meanwhile, and takes each step once:
one comment mentioning its recipient, and the escalation label.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from plugin.asks import Ask, Asks
from plugin.audit import Audit
from plugin.calendar import WorkCalendar
from plugin.clocks import WorkClock
from plugin.context import Context
from plugin.delays import is_done
from plugin.errors import RefusedError
from plugin.events import JiraEvent
from plugin.items import in_projects
from plugin.ladder import Step, recipient, steps
from plugin.leases import Leases
from plugin.mentions import first_lines, mentioned
from plugin.owners import departments_of
from plugin.ownership_checks import person_of
from plugin.routing import Router
from plugin.rules import Rules
from plugin.schedule import Schedule
from plugin.wording import mention, say

log = logging.getLogger(__name__)

RULE = "escalation"
LEASE = "sweep_asks"
LEASE_SECONDS = 120.0
BATCH = 50  # due asks re-checked per bulk read of their issues
DUE_LIMIT = 1000  # due asks one sweep takes on; the next sweep (a minute later) takes the rest

router = Router()
schedule = Schedule()


def work_clock(rules: Rules) -> WorkClock:
    """The clock asks run on (`escalation.clock`)."""
    return WorkClock(
        rules.escalation.clock,
        WorkCalendar.from_rules(rules.calendar),
        rules.calendar.work_hours,
        rules.tz,
    )


def next_due(rules: Rules, asked_at: float, steps_done: int) -> float | None:
    """When the ask's next step is due, or None after the last one."""
    ladder = steps(rules)
    if steps_done >= len(ladder):
        return None
    start = datetime.fromtimestamp(asked_at, UTC)
    return work_clock(rules).add(start, ladder[steps_done].after_hours).timestamp()


def _moment(text: str | None, fallback: float) -> float:
    """A Jira timestamp ("2026-03-02T10:00:00.000+0800") as epoch seconds, else `fallback`."""
    if not text:
        return fallback
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    except ValueError:
        return fallback


def _event_time(event: JiraEvent, context: Context) -> float:
    return event.timestamp / 1000 if event.timestamp else context.clock().timestamp()


def hours_between(rules: Rules) -> Callable[[float, float], float]:
    """How an ask's response time is measured: in the configured clock."""
    clock = work_clock(rules)

    def measure(start: float, end: float) -> float:
        return clock.elapsed(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))

    return measure


def open_ask(
    context: Context,
    *,
    issue: str,
    asked: str,
    asked_by: str | None,
    source: str,
    source_id: str,
    at: float,
    excerpt: str | None = None,
) -> None:
    """Start one clock (once, however often it is asked for) and audit it."""
    rules = context.rules
    homes = departments_of(rules, asked)
    opened = Asks(context.store).open(
        issue=issue,
        asked=asked,
        asked_by=asked_by,
        source=source,
        source_id=source_id,
        asked_at=at,
        next_due=next_due(rules, at, 0),
        department=homes[0] if homes else None,
        excerpt=excerpt,
    )
    if opened:
        Audit(context.store).record(
            at, issue, RULE, "ask started", f"{source}: {asked}", context.delivery_id
        )


def _answer(context: Context, issue: str, person: str | None, at: float, how: str) -> None:
    if person is None or how not in context.rules.escalation.answered_by:
        return
    for ask in Asks(context.store).answer(issue, person, at, hours_between(context.rules)):
        Audit(context.store).record(
            at,
            issue,
            RULE,
            "ask answered",
            f"{how} by {person} ({ask.response_hours:.1f} h)",
            context.delivery_id,
        )


# What a comment delivery says happened. Jira sends two deliveries for each comment: `comment_*`
# and a companion `jira:issue_updated` named by `issue_event_type_name`, with the comment and the
# whole issue. On Data Center the `comment_*` one carries no `issue` at all, only the comment and
# its `self` (.../rest/api/2/issue/10013/comment/12000). Whichever arrives first, or alone, acts;
# the other finds the ask already open (asks are unique per comment and person) or closed.
# Captures: zulip's Jira fixtures (comment_created_no_issue_details.json, commented_v1.json,
# comment_edited_v2.json), mattermost-plugin-jira PR #118, Commit451/skyhook#152.
COMMENT_EVENTS = {
    "comment_created": "created",
    "comment_updated": "edited",
    "comment_deleted": "deleted",
}
COMMENT_ISSUE_EVENTS = {
    "issue_commented": "created",
    "issue_comment_edited": "edited",
    "issue_comment_deleted": "deleted",
}


def comment_change(event: JiraEvent) -> str | None:
    """Say what a delivery did to a comment ("created", "edited", "deleted"), if it is about one."""
    if event.comment is None or not event.comment.id:
        return None
    if event.name in COMMENT_EVENTS:
        return COMMENT_EVENTS[event.name]
    if event.name == "jira:issue_updated" and event.issue_event_type:
        return COMMENT_ISSUE_EVENTS.get(event.issue_event_type)
    return None


def commented_issue(event: JiraEvent, context: Context) -> str | None:
    """The key of the commented issue in a project under enforcement, or None.

    A Data Center `comment_*` delivery names its issue only by id in the comment's address, so
    the issue is read once to learn its key and project.
    """
    if event.issue_key is not None:
        return event.issue_key if in_projects(event, context.rules) else None
    if event.issue_id is None:
        return None
    try:
        issue = context.jira.get_issue(event.issue_id, ["project"])
    except RefusedError as error:
        if error.status == 404:
            return None  # the issue is gone (a delete's comment_deleted comes after it)
        raise
    project = ((issue.get("fields") or {}).get("project") or {}).get("key")
    key = issue.get("key")
    if not key or project not in context.rules.jira.projects:
        return None
    return str(key)


def _may_matter(
    change: str, comment_id: str, author: str | None, asked: list[str], context: Context
) -> bool:
    """Whether a comment can start, answer or cancel an ask: it mentions someone, its author is
    waited on, or an open ask came from it. Most comments do none of these."""
    if asked:
        return True
    asks = Asks(context.store)
    if change != "created":
        return asks.any_open(source_id=comment_id)
    return (
        author is not None
        and "comment" in context.rules.escalation.answered_by
        and asks.any_open(asked=author)
    )


@router.register("comment_created")
@router.register("comment_updated")
@router.register("comment_deleted")
@router.register("jira:issue_updated", "issue_commented")
@router.register("jira:issue_updated", "issue_comment_edited")
@router.register("jira:issue_updated", "issue_comment_deleted")
def record_comment(event: JiraEvent, context: Context) -> None:
    """A comment may ask people (a mention) and answers its author's asks; an edit or a delete
    cancels the asks it no longer makes."""
    change = comment_change(event)
    comment = event.comment
    if change is None or comment is None:
        return
    rules = context.rules
    author = comment.author.id if comment.author else None
    asked = mentioned(comment.body, author=author) if "mention" in rules.escalation.asks else []
    if event.issue_key is None and not _may_matter(change, comment.id, author, asked, context):
        return  # a Data Center delivery naming no issue: no need to read one
    issue = commented_issue(event, context)
    if issue is None:
        return
    if change == "deleted":
        Asks(context.store).cancel(
            issue, _event_time(event, context), source="mention", source_id=comment.id
        )
        return
    created = _moment(comment.created, _event_time(event, context))
    at = _moment(comment.updated, created) if change == "edited" else created
    if change == "edited":
        # An edit that no longer mentions someone cancels that person's ask from this comment.
        Asks(context.store).cancel(issue, at, source="mention", source_id=comment.id, keep=asked)
    for person in asked:
        open_ask(
            context,
            issue=issue,
            asked=person,
            asked_by=author,
            source="mention",
            source_id=comment.id,
            at=at,
            excerpt=first_lines(comment.body),
        )
    if change == "created":
        _answer(context, issue, author, at, "comment")


@router.register("jira:issue_updated")
def record_change(event: JiraEvent, context: Context) -> None:
    """Assignments and waiting statuses ask; the actor's transition or edit answers; done cancels."""
    rules = context.rules
    if event.issue_key is None or event.changelog is None or not event.changelog.items:
        return
    if not in_projects(event, rules):
        return
    issue, at = event.issue_key, _event_time(event, context)
    actor = event.actor.id if event.actor else None
    fields: Mapping[str, Any] = event.issue.fields if event.issue else {}
    changed = {(item.field_id or item.field or "").lower(): item for item in event.changelog.items}
    source_id = event.changelog.id or str(event.timestamp or "")
    if "status" in changed and is_done(fields, rules):
        if Asks(context.store).cancel(issue, at):
            Audit(context.store).record(
                at, issue, RULE, "asks cancelled", "the issue is done", context.delivery_id
            )
        return
    assignee = person_of(fields.get("assignee"))
    if (
        "assignee" in changed
        and "assignment" in rules.escalation.asks
        and assignee
        and assignee != actor
    ):
        open_ask(
            context,
            issue=issue,
            asked=assignee,
            asked_by=actor,
            source="assignment",
            source_id=source_id,
            at=at,
        )
    status = changed.get("status")
    waiting = rules.escalation.waiting_statuses
    if (
        status is not None
        and "waiting_status" in rules.escalation.asks
        and status.to_string in waiting
        and assignee
    ):
        open_ask(
            context,
            issue=issue,
            asked=assignee,
            asked_by=actor,
            source="waiting_status",
            source_id=source_id,
            at=at,
        )
    _answer(context, issue, actor, at, "transition" if status is not None else "edit")


# -- the sweep -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AskSweepReport:
    """What one sweep did: steps taken, asks found answered or cancelled on Jira, or skipped."""

    due: int
    stepped: tuple[tuple[int, int, str], ...] = ()  # (ask id, step number, recipient)
    closed: int = 0
    skipped: str | None = None  # why the sweep did nothing (another one runs)


@schedule.every(minutes=1)
def sweep_asks(context: Context) -> str:
    """Remind, then escalate, every ask whose next step is due, once each."""
    report = run_ask_sweep(context)
    if report.skipped:
        return report.skipped
    return f"{report.due} due, {len(report.stepped)} steps taken, {report.closed} closed"


def run_ask_sweep(context: Context, *, dry_run: bool = False) -> AskSweepReport:
    """One sweep under the lease: one indexed query; then a bulk read of Jira per 50 due asks.

    `dry_run` reads as usual and reports the steps it would take, writing nothing anywhere.
    """
    store = context.store
    now = context.clock().timestamp()
    holder = f"{os.getpid()}.{uuid.uuid4().hex[:8]}"
    leases = Leases(store)
    if not leases.take(LEASE, holder, now, LEASE_SECONDS):
        return AskSweepReport(0, skipped="another sweep holds the lease")
    try:
        due = Asks(store).due(now, limit=DUE_LIMIT)
        stepped: list[tuple[int, int, str]] = []
        closed = 0
        for start in range(0, len(due), BATCH):
            batch = due[start : start + BATCH]
            keys = sorted({ask.issue for ask in batch})
            found = context.jira.read_issues(
                keys, fields=["summary", "status", "assignee", "comment"]
            )
            by_key = {str(issue.get("key")): issue for issue in found}
            taken: list[Taken] = []
            for ask in batch:
                result = _step(ask, by_key.get(ask.issue), context, now, dry_run=dry_run)
                if result is None:
                    closed += 1
                else:
                    taken.append(result)
            if dry_run:
                stepped += [(t.ask.id, t.step.number, t.person or "") for t in taken]
            else:
                stepped += _record(taken, context, now)
        return AskSweepReport(len(due), tuple(stepped), closed)
    finally:
        leases.give_back(LEASE, holder)


def _comments(issue: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = ((issue.get("fields") or {}).get("comment") or {}).get("comments") or []
    return [comment for comment in found if isinstance(comment, Mapping)]


@dataclass(frozen=True)
class Taken:
    """A step taken in Jira (or found taken there), to record in the store with its batch."""

    ask: Ask
    step: Step
    person: str | None


def _step(
    ask: Ask, issue: Mapping[str, Any] | None, context: Context, now: float, *, dry_run: bool
) -> Taken | None:
    """Take the ask's due step in Jira; None when Jira shows the ask answered or moot (closed).

    A dry run decides the same and writes nothing.
    """
    rules, store = context.rules, context.store
    asks, audit = Asks(store), Audit(store)
    if issue is None or is_done(issue.get("fields") or {}, rules):
        if not dry_run:
            asks.cancel(ask.issue, now, source=ask.source, source_id=ask.source_id)
        return None
    replies = [
        comment
        for comment in _comments(issue)
        if person_of(comment.get("author")) == ask.asked
        and _moment(str(comment.get("created") or ""), 0.0) >= ask.asked_at
    ]
    if replies and "comment" in rules.escalation.answered_by:
        if not dry_run:
            at = _moment(str(replies[0].get("created")), now)
            asks.answer(ask.issue, ask.asked, at, hours_between(rules))
            audit.record(
                now, ask.issue, RULE, "ask answered", "a reply found on Jira", context.delivery_id
            )
        return None
    if (
        ask.source == "assignment"
        and person_of((issue.get("fields") or {}).get("assignee")) != ask.asked
    ):
        if not dry_run:
            asks.cancel(ask.issue, now, source=ask.source, source_id=ask.source_id)
        return None
    step = steps(rules)[ask.steps_done]
    heard = recipient(step, ask.asked, rules, requester=ask.asked_by, pm=rules.project_manager)
    if heard.missing:
        log.warning(
            "escalation recipient missing from the rules' directory",
            extra={"issue": ask.issue, "missing": heard.missing},
        )
    if heard.person is not None and not dry_run and not already_sent(issue, ask.id, step.number):
        text = _text(ask, step, heard.person, rules, context, now)
        context.jira.add_comment(ask.issue, text)
        if rules.escalation.notify:
            subject = text.splitlines()[0].removeprefix("h4. ")
            context.jira.notify(ask.issue, [heard.person], subject, text)
        if step.kind == "escalation":
            context.jira.edit_labels(
                ask.issue, add=[rules.escalation.label or say(rules, "ask.label")]
            )
    return Taken(ask, step, heard.person)


def already_sent(issue: Mapping[str, Any], ask_id: int, step: int) -> bool:
    """Say whether the issue, as just read, holds this step's comment (a sweep died after
    posting it). The marker ends the comment in parentheses: ask:1:1 never matches ask:11:1."""
    marker = re.compile(re.escape(f"ask:{ask_id}:{step}") + "[)）]")
    return any(marker.search(str(comment.get("body", ""))) for comment in _comments(issue))


def _record(taken: list[Taken], context: Context, now: float) -> list[tuple[int, int, str]]:
    """Record a batch's steps in one transaction; a step another sweep recorded first is left."""
    rules = context.rules
    recorded = Asks(context.store).record_steps(
        [(t.ask.id, t.step.number, next_due(rules, t.ask.asked_at, t.step.number)) for t in taken]
    )
    done = [t for t in taken if t.ask.id in recorded]
    Audit(context.store).record_many(
        [
            (
                now,
                t.ask.issue,
                RULE,
                f"{t.step.kind} sent",
                f"step {t.step.number} to {t.person or '-'}",
                context.delivery_id,
            )
            for t in done
        ]
    )
    return [(t.ask.id, t.step.number, t.person or "") for t in done]


def _text(ask: Ask, step: Step, person: str, rules: Rules, context: Context, now: float) -> str:
    cloud = context.jira.is_cloud
    when = datetime.fromtimestamp(ask.asked_at, rules.tz).strftime("%Y-%m-%d %H:%M")
    hours = hours_between(rules)(ask.asked_at, now)
    asker = mention(ask.asked_by, cloud=cloud) if ask.asked_by else say(rules, "ask.someone")
    values = {
        "key": ask.issue,
        "mention": mention(person, cloud=cloud),
        "asked": mention(ask.asked, cloud=cloud),
        "asker": asker,
        "when": when,
        "hours": f"{hours:.0f}",
        "clock": say(rules, f"ask.clock.{rules.escalation.clock}"),
    }
    entry = "ask.reminder" if step.kind == "reminder" else "ask.escalation"
    lines = [say(rules, entry, **values)]
    if ask.excerpt:
        lines.append("{quote}" + ask.excerpt + "{quote}")
    lines += ["", say(rules, "ask.marker", id=ask.id, step=step.number)]
    return "\n".join(lines)
