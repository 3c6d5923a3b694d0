"""The escalation rule: nobody waits more than 48 hours; one clock per ask, reminders, escalation.

The collaboration process: a department that has not responded for more than 48 hours is
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
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from plugin.process.asking import open_ask, settle_label
from plugin.process.asks import Ask, Asks
from plugin.process.audit import Audit
from plugin.process.comment_events import comment_change, commented_issue
from plugin.process.config import AskLimits, Rules
from plugin.process.groups import News, departments_led_by, people_words, tell_groups, wanted
from plugin.process.items import epoch_of, is_done, person_of
from plugin.process.ladder import (
    Step,
    due_rung,
    escalation_label,
    hours_between,
    next_due,
    recipient,
    standing,
    step_dues,
    steps,
)
from plugin.process.mentions import asks_something, first_lines, mentioned
from plugin.process.minutes_lines import without_minutes_lines
from plugin.process.notices import Notices
from plugin.process.wording import mention, plain
from plugin.rules.escalation.wording import say
from plugin.spine.context import Context
from plugin.spine.errors import RefusedError
from plugin.spine.events import JiraEvent
from plugin.spine.routing import Router
from plugin.spine.schedule import Schedule

log = logging.getLogger(__name__)

RULE = "escalation"
LIMIT_RULE = "ask-limit"  # the issue's comment saying mentions went over a limit
DAY = 24 * 3600.0
BATCH = 50  # due asks re-checked per bulk read of their issues
DUE_LIMIT = 1000  # due asks one sweep takes on; the next sweep (a minute later) takes the rest

router = Router()
schedule = Schedule()
JIRA_MENTION = re.compile(r"\[~(?:accountid:)?([^\]\s]+)\]")


def _moment(text: str | None, fallback: float) -> float:
    """A Jira timestamp ("2026-03-02T10:00:00.000+0800") as epoch seconds, else `fallback`."""
    found = epoch_of(text)
    return fallback if found is None else found


def _event_time(event: JiraEvent, context: Context) -> float:
    return event.timestamp / 1000 if event.timestamp else context.clock().timestamp()


def _answer(context: Context, issue: str, person: str | None, at: float, how: str) -> None:
    if person is None or how not in context.rules.escalation.answered_by:
        return
    answered = Asks(context.store).answer(issue, person, at, hours_between(context.rules))
    for ask in answered:
        Audit(context.store).record(
            at,
            issue,
            RULE,
            "ask answered",
            f"{how} by {person} ({ask.response_hours:.1f} h)",
            context.delivery_key,
        )
    settle_label(context, issue, answered, at)


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
    body = comment.body
    if isinstance(body, str):
        body = without_minutes_lines(body)  # a record of a meeting asks nobody
    asked = mentioned(body, author=author) if _asks(body, rules) else []
    if event.issue_key is None and not _may_matter(change, comment.id, author, asked, context):
        return  # a Data Center delivery naming no issue: no need to read one
    issue = commented_issue(event, context)
    if issue is None:
        return
    if change == "deleted":
        at = _event_time(event, context)
        cancelled = Asks(context.store).cancel(issue, at, source="mention", source_id=comment.id)
        settle_label(context, issue, cancelled, at)
        return
    created = _moment(comment.created, _event_time(event, context))
    at = _moment(comment.updated, created) if change == "edited" else created
    if change == "edited":
        # An edit that no longer mentions someone cancels that person's ask from this comment.
        cancelled = Asks(context.store).cancel(
            issue, at, source="mention", source_id=comment.id, keep=asked
        )
        settle_label(context, issue, cancelled, at)
    if asked:
        asked = _askable(context, issue, comment.id, author, asked, at)
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


def _asks(body: Any, rules: Rules) -> bool:
    """Mentions ask when the rules time them and the comment asks something (not an FYI)."""
    escalation = rules.escalation
    return "mention" in escalation.asks and asks_something(
        body, escalation.ask_words, escalation.not_ask_words
    )


@dataclass(frozen=True)
class WithinLimits:
    """Which of a comment's newly mentioned people may be asked, and the limit the rest hit."""

    asked: list[str]
    over: list[str] = field(default_factory=list)
    limit: str | None = None  # the AskLimits field that stopped the rest


def within_limits(
    people: list[str],
    limits: AskLimits,
    *,
    asked_before: Collection[str],
    open_on_issue: int,
    by_author_today: int | None,
) -> WithinLimits:
    """Which of a comment's mentions to ask now: the first `per_comment` of them (the same ones
    however often the comment is delivered or edited), those not asked before, while the issue
    and the author (None: no known author) have room."""
    first, rest = people[: limits.per_comment], people[limits.per_comment :]
    new = [person for person in first if person not in asked_before]
    room = {"per_issue": limits.per_issue - open_on_issue}
    if by_author_today is not None:
        room["per_author_per_day"] = limits.per_author_per_day - by_author_today
    limit, left = min(room.items(), key=lambda pair: pair[1])
    left = max(left, 0)
    if len(new) > left:
        return WithinLimits(new[:left], new[left:] + rest, limit)
    return WithinLimits(new, rest, "per_comment" if rest else None)


def _askable(
    context: Context, issue: str, comment_id: str, author: str | None, people: list[str], at: float
) -> list[str]:
    """The mentioned people to ask: those this comment asked before, then new ones within the
    limits who are active users of this Jira. An unknown account is never asked (it would go
    up the ladder to the PM); what goes over a limit is said once on the issue and audited."""
    asks = Asks(context.store)
    before = asks.asked_from(comment_id)
    allowed = within_limits(
        people,
        context.rules.escalation.limits,
        asked_before=before,
        open_on_issue=asks.count(issue=issue, open_only=True),
        by_author_today=asks.count(asked_by=author, since=at - DAY) if author else None,
    )
    unknown = set(context.jira.missing_users(allowed.asked)) if allowed.asked else set()
    detail = "unknown or inactive: " + ", ".join(sorted(unknown))
    # Audited once per comment, however many deliveries name it (Data Center sends two).
    if unknown and Notices(context.store).first_time(
        issue, LIMIT_RULE, f"comment {comment_id}: {detail}", at
    ):
        Audit(context.store).record(
            at, issue, RULE, "mentions not asked", detail, context.delivery_key
        )
    if allowed.over and allowed.limit is not None:
        _say_over_limit(context, issue, comment_id, len(allowed.over), allowed.limit, at)
    return [p for p in people if p in before] + [p for p in allowed.asked if p not in unknown]


def _say_over_limit(
    context: Context, issue: str, comment_id: str, count: int, limit: str, at: float
) -> None:
    """Say on the issue, once for each limit (however many comments go over it, on however many
    workers at once), that some mentions start no clock; audit it once for each comment."""
    rules = context.rules
    text = "\n\n".join(
        [
            say(
                rules,
                "ask.over_limit",
                key=issue,
                reason=say(
                    rules, f"ask.limit.{limit}", limit=getattr(rules.escalation.limits, limit)
                ),
            ),
            say(rules, "ask.limit_marker", key=issue),
        ]
    )
    notices = Notices(context.store)
    notices.comment_once(context.jira, issue, LIMIT_RULE, text, at)
    detail = f"{limit}: {count} not asked"
    if notices.first_time(issue, LIMIT_RULE, f"comment {comment_id}: {detail}", at):
        Audit(context.store).record(
            at, issue, RULE, "asks over the limit", detail, context.delivery_key
        )


def _done_now(context: Context, key: str) -> bool:
    """Whether Jira says the issue is done now (an issue deleted since is as good as done)."""
    try:
        issue = context.jira.get_issue(key, ["status"])
    except RefusedError as error:
        if error.status == 404:
            return True
        raise
    return is_done(issue.get("fields") or {}, context.rules)


@router.register("jira:issue_updated")
def record_change(event: JiraEvent, context: Context) -> None:
    """Assignments and waiting statuses ask; the actor's transition or edit answers; done cancels."""
    rules = context.rules
    if event.issue_key is None or event.changelog is None or not event.changelog.items:
        return
    issue, at = event.issue_key, _event_time(event, context)
    actor = event.actor.id if event.actor else None
    fields: Mapping[str, Any] = event.issue.fields if event.issue else {}
    changed = {(item.field_id or item.field or "").lower(): item for item in event.changelog.items}
    source_id = event.changelog.id or str(event.timestamp or "")
    if "status" in changed and is_done(fields, rules):
        # The delivery may be an old one replayed: only Jira's status now may cancel asks.
        if not _done_now(context, issue):
            return
        cancelled = Asks(context.store).cancel(issue, at)
        if cancelled:
            Audit(context.store).record(
                at, issue, RULE, "asks cancelled", "the issue is done", context.delivery_key
            )
        settle_label(context, issue, cancelled, at)
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
    """What one sweep did: steps taken, and asks found answered or cancelled on Jira."""

    due: int
    stepped: tuple[tuple[int, int, str], ...] = ()  # (ask id, step number, recipient)
    closed: int = 0


@schedule.every(minutes=1, exclusive=True)
def sweep_asks(context: Context) -> str:
    """Remind, then escalate, every ask whose next step is due, once each."""
    report = run_ask_sweep(context)
    return f"{report.due} due, {len(report.stepped)} steps taken, {report.closed} closed"


def run_ask_sweep(context: Context, *, dry_run: bool = False) -> AskSweepReport:
    """One sweep: one indexed query; then a bulk read of Jira per 50 due asks. Run it through the
    schedule (`sweep_asks`, exclusive), so that two sweeps never say the same step.

    `dry_run` reads as usual and reports the steps it would take, writing nothing anywhere.
    """
    store = context.store
    now = context.clock().timestamp()
    due = Asks(store).due(now, limit=DUE_LIMIT)
    stepped: list[tuple[int, int, str]] = []
    closed = 0
    me = context.jira.myself() if due and not dry_run else ""
    for batch in by_issue_batches(due, BATCH):
        keys = sorted({ask.issue for ask in batch})
        found = context.jira.read_issues(keys, fields=["summary", "status", "assignee", "comment"])
        by_key = {str(issue.get("key")): issue for issue in found}
        taken: list[Taken] = []
        for ask in batch:
            result = _step(ask, by_key.get(ask.issue), context, now, me=me, dry_run=dry_run)
            if result is None:
                closed += 1
            else:
                taken.append(result)
        if dry_run:
            stepped += [(t.ask.id, t.step.number, t.person or "") for t in taken]
        else:
            _say(taken, context)
            stepped += _record(taken, context, now)
    return AskSweepReport(len(due), tuple(stepped), closed)


def _comments(issue: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = ((issue.get("fields") or {}).get("comment") or {}).get("comments") or []
    return [comment for comment in found if isinstance(comment, Mapping)]


def by_issue_batches(due: list[Ask], size: int) -> list[list[Ask]]:
    """The due asks in batches of about `size`, never splitting one issue's asks, so that one
    sweep says all of an issue's due steps in one comment."""
    by_issue: dict[str, list[Ask]] = {}
    for ask in due:
        by_issue.setdefault(ask.issue, []).append(ask)
    batches: list[list[Ask]] = []
    batch: list[Ask] = []
    for group in by_issue.values():
        if batch and len(batch) + len(group) > size:
            batches.append(batch)
            batch = []
        batch += group
    if batch:
        batches.append(batch)
    return batches


@dataclass(frozen=True)
class Taken:
    """A step taken (or found taken in Jira), to say in Jira and record with its batch."""

    ask: Ask
    step: Step
    person: str | None
    next_due: float | None  # when the step after it falls due; None after the last
    text: str | None = None  # what is still to be said in Jira for it; None: nothing


def _say(taken: list[Taken], context: Context) -> None:
    """Say each issue's due steps in one comment: reminders and escalations of several asks
    falling due together (after an outage, say) are one comment, not one each."""
    rules, jira = context.rules, context.jira
    by_issue: dict[str, list[Taken]] = {}
    for step in taken:
        if step.text is not None:
            by_issue.setdefault(step.ask.issue, []).append(step)
    separator = "\n\n" + say(rules, "ask.separator") + "\n\n"
    for key, group in by_issue.items():
        text = separator.join(str(step.text) for step in group)
        jira.add_comment(key, text)
        if rules.escalation.notify:
            for step in group:
                subject = str(step.text).splitlines()[0].removeprefix("h4. ")
                jira.notify(key, [str(step.person)], subject, str(step.text))
        if any(step.step.kind == "escalation" for step in group):
            jira.edit_labels(key, add=[escalation_label(rules)])
        for step in group:
            if step.step.kind == "escalation" and wanted(rules, "escalation"):
                tell_groups(context, _escalation_news(step, context))


def _escalation_news(taken: Taken, context: Context) -> News:
    """The escalation as its head's group reads it: who waits on whom, since when, and a link."""
    rules, ask = context.rules, taken.ask
    head = str(taken.person)
    people = [person for person in (ask.asked, ask.asked_by, head) if person]
    # Display names are people's words too: inert in the group's markup.
    names = {
        person: people_words(name, limit=40)
        for person, name in context.jira.display_names(people).items()
    }
    when = datetime.fromtimestamp(ask.asked_at, rules.tz).strftime("%Y-%m-%d %H:%M")
    clock = taken.step.clock
    hours = hours_between(rules, clock)(ask.asked_at, context.clock().timestamp())
    lines = [
        say(
            rules,
            "ask.group.escalation",
            asked=names.get(ask.asked, ask.asked),
            asker=names.get(ask.asked_by, ask.asked_by)
            if ask.asked_by
            else say(rules, "ask.someone"),
            when=when,
            hours=f"{hours:.0f}",
            clock=say(rules, f"ask.clock.{clock}"),
        )
    ]
    if ask.excerpt:
        # Jira's mention markup means nothing in a group: the person's name instead.
        excerpt = JIRA_MENTION.sub(lambda m: "@" + names.get(m[1], m[1]), ask.excerpt)
        lines.append("> " + people_words(excerpt))
    return News(
        "escalation",
        f"escalation:{ask.issue}:ask-{ask.id}:{taken.step.number}",
        say(rules, "ask.group.escalation.title", key=ask.issue),
        tuple(lines),
        link=context.jira.issue_url(ask.issue),
        link_text=ask.issue,
        issue=ask.issue,
        departments=departments_led_by(rules, [head]),
        mention=(head,),
    )


def _step(
    ask: Ask,
    issue: Mapping[str, Any] | None,
    context: Context,
    now: float,
    *,
    me: str,
    dry_run: bool,
) -> Taken | None:
    """Decide the ask's due step and its words; None when Jira shows the ask answered or moot
    (closed). `me` is crossdept's account: only its comments can show a step already said.

    A dry run decides the same and writes nothing.
    """
    rules, store = context.rules, context.store
    asks, audit = Asks(store), Audit(store)
    if issue is None or is_done(issue.get("fields") or {}, rules):
        if not dry_run:
            cancelled = asks.cancel(ask.issue, now, source=ask.source, source_id=ask.source_id)
            if issue is not None:
                settle_label(context, ask.issue, cancelled, now)
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
            answered = asks.answer(ask.issue, ask.asked, at, hours_between(rules))
            settle_label(context, ask.issue, answered, now)
            audit.record(
                now, ask.issue, RULE, "ask answered", "a reply found on Jira", context.delivery_key
            )
        return None
    if (
        ask.source == "assignment"
        and person_of((issue.get("fields") or {}).get("assignee")) != ask.asked
    ):
        if not dry_run:
            cancelled = asks.cancel(ask.issue, now, source=ask.source, source_id=ask.source_id)
            settle_label(context, ask.issue, cancelled, now)
        return None
    dues = step_dues(rules, ask.asked_at)  # once: the ladder's times are read three ways
    stands = standing(rules, ask, dues=dues)
    if stands is None:  # the ladder was shortened under it: nothing more to say
        if not dry_run:
            asks.record_steps([(ask.id, ask.steps_done, ask.steps_done, None)])
        return None
    step = steps(rules)[due_rung(rules, ask.asked_at, stands, now, dues=dues)]
    heard = recipient(step, ask.asked, rules, requester=ask.asked_by, pm=rules.project_manager)
    if heard.missing:
        log.warning(
            "escalation recipient missing from the rules' directory",
            extra={"issue": ask.issue, "missing": heard.missing},
        )
    text = None
    if (
        heard.person is not None
        and not dry_run
        and not already_sent(issue, ask.id, step.number, me=me)
    ):
        text = _text(ask, step, heard.person, rules, context, now)
    after = next_due(rules, ask.asked_at, step.number, dues=dues)
    return Taken(ask, step, heard.person, after, text)


def already_sent(issue: Mapping[str, Any], ask_id: int, step: int, *, me: str) -> bool:
    """Say whether the issue, as just read, holds this step's comment by crossdept's account
    `me` (a sweep died after posting it); the same words in a person's comment count for
    nothing. The marker ends in parentheses: ask:1:1 never matches ask:11:1."""
    marker = re.compile(re.escape(f"ask:{ask_id}:{step}") + "[)）]")
    return any(
        marker.search(str(comment.get("body", ""))) and person_of(comment.get("author")) == me
        for comment in _comments(issue)
    )


def _record(taken: list[Taken], context: Context, now: float) -> list[tuple[int, int, str]]:
    """Record a batch's steps in one transaction; a step another sweep recorded first is left."""
    recorded = Asks(context.store).record_steps(
        [
            (
                t.ask.id,
                t.ask.steps_done,
                t.step.number,
                t.next_due,
            )
            for t in taken
        ]
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
                context.delivery_key,
            )
            for t in done
        ]
    )
    return [(t.ask.id, t.step.number, t.person or "") for t in done]


def _text(ask: Ask, step: Step, person: str, rules: Rules, context: Context, now: float) -> str:
    cloud = context.jira.is_cloud
    when = datetime.fromtimestamp(ask.asked_at, rules.tz).strftime("%Y-%m-%d %H:%M")
    # The figure is measured on the step's clock, the one its words name.
    hours = hours_between(rules, step.clock)(ask.asked_at, now)
    asker = mention(ask.asked_by, cloud=cloud) if ask.asked_by else say(rules, "ask.someone")
    values = {
        "key": ask.issue,
        "mention": mention(person, cloud=cloud),
        "asked": mention(ask.asked, cloud=cloud),
        "asker": asker,
        "when": when,
        "hours": f"{hours:.0f}",
        "clock": say(rules, f"ask.clock.{step.clock}"),
    }
    entry = "ask.reminder" if step.kind == "reminder" else "ask.escalation"
    lines = [say(rules, entry, **values)]
    if ask.excerpt:
        lines.append("{quote}" + plain(ask.excerpt) + "{quote}")
    lines += ["", say(rules, "ask.marker", id=ask.id, step=step.number)]
    return "\n".join(lines)
