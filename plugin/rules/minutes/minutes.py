"""The minutes rule: a held meeting's minutes in Confluence within 24 hours, each action an item.

When a meeting (an issue of `meetings.issue_type`) enters
`meetings.held_status`, or on `crossdept minutes KEY`, crossdept re-reads the meeting and its
comments from Jira, collects the minutes (plugin.rules.minutes.minutes_parser), and:

1. tells the meeting, in one comment, which action lines it could not track and why;
2. creates one item per action under the request (its epic when the tree has one), exactly
   once: an intent row in the store before the bulk create, the `crossdept.item` property in
   the create payload itself, and an adoption search by parent for intents a crash left without
   a key, as the tree builder does; each item is linked to the meeting; an action removed from
   the meeting is reported once and its item left alone;
3. publishes the page under `confluence.parent_page`, found again by its id and the content
   property `crossdept.minutes` (never by title alone); a page of that title crossdept did not
   make for this meeting is never overwritten; a re-run that changes the minutes adds a version;
4. links the page from the meeting (a remote link) and keeps one comment with its address that
   mentions the attendees and their department heads.

A meeting crossdept filed for a set of departments (a goal-alignment meeting, with their names in
its sealed `crossdept.meeting` mark) belongs to no request: its minutes are published all the
same, readable by those departments, and its actions are listed but become no items. Any other
meeting linked to no request is not published, and the meeting is told why.

Meetings also get notices: less than `meetings.notice` ahead, or no agenda, one comment each.
Minutes still unpublished `meetings.minutes_within` after the meeting ends (its end field, else
its start plus `meetings.length`) become an ask to the organiser (plugin.process.asks), which
the escalation ladder then reminds and escalates like any other.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from plugin.atlassian.pages import parent_page, publish_page
from plugin.atlassian.ports import BULK_LIMIT, NewIssue, Page
from plugin.atlassian.storage import People, preview_html
from plugin.process.asking import open_ask, settle_label
from plugin.process.asks import Asks
from plugin.process.config import Rules
from plugin.process.creation import ExactlyOnce
from plugin.process.groups import News, people_words, tell_groups, wanted
from plugin.process.items import (
    EPIC_REF,
    ITEM_PROPERTY,
    MEETING_PROPERTY,
    TREE_PROPERTY,
    is_done,
    item_mark,
    jira_time,
    link_once,
    meeting_mark,
    person_of,
    read_tree_record,
)
from plugin.process.ladder import hours_between
from plugin.process.notices import COMMENTS_PROPERTY, Notices, RuleComments
from plugin.process.owners import departments_of
from plugin.process.page_access import request_page_restriction
from plugin.process.wording import join_names, lead_department_name, mention, plain, span_words
from plugin.rules.minutes.config import configured_meetings, meeting_rules
from plugin.rules.minutes.meeting_records import ActionRecord, MeetingRecords
from plugin.rules.minutes.minutes_page import Meeting, TrackedAction, page_title, render_page
from plugin.rules.minutes.minutes_parser import (
    Action,
    Minutes,
    agenda,
    parse_minutes,
    within_action_limit,
    without_dates,
)
from plugin.rules.minutes.wording import say
from plugin.rules.trees import read_request, request_fields
from plugin.spine.context import Context
from plugin.spine.errors import NotYetError, RefusedError, TransientGatewayError
from plugin.spine.events import JiraEvent, created_by_crossdept
from plugin.spine.leases import Leases, new_holder
from plugin.spine.routing import Router
from plugin.spine.schedule import Schedule

log = logging.getLogger(__name__)

RULE = "minutes"
PROBLEMS = "minutes-problems"  # the meeting's one comment naming lines that cannot be tracked
GROUP_ACTIONS_SHOWN = 8  # actions a group message lists; the page has them all
BLOCKED = "minutes-blocked"  # the meeting's one comment saying why its minutes are not published
PAGE_PROPERTY = "crossdept.minutes"  # on the page: {"meeting": KEY, "site": Jira base URL}
# Renewed before each write, so it need only outlast one Jira or Confluence call (30 s at most);
# a crashed worker's lease frees the meeting a minute later.
LEASE_SECONDS = 60.0
BUSY_RETRY_S = 5.0  # how soon a job that found the meeting held by another worker looks again

router = Router()
schedule = Schedule()

Status = Literal["published", "preview", "blocked", "skipped"]


class MeetingBusyError(NotYetError):
    """Another worker is writing this meeting's minutes, or Jira's index needs a moment."""


@dataclass
class MinutesOutcome:
    """What one run did, for the CLI, the demo and the tests."""

    meeting: str
    status: Status
    title: str = ""
    page: Page | None = None
    minutes: Minutes | None = None
    items: dict[str, str] = field(default_factory=dict)  # action ref -> item key
    created: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    reason: str = ""


def meeting_fields(rules: Rules) -> list[str]:
    """The meeting fields one read asks for."""
    wanted = configured_meetings(rules).fields
    names = [
        "summary",
        "description",
        "issuetype",
        "project",
        "status",
        "reporter",
        "parent",
        "issuelinks",
        "created",
        wanted.start,
        wanted.attendees,
    ]
    if wanted.organiser:
        names.append(wanted.organiser)
    if wanted.end:
        names.append(wanted.end)
    return list(dict.fromkeys(names))


def is_meeting(issue: Mapping[str, Any], rules: Rules) -> bool:
    """A meeting under enforcement: its type is `meetings.issue_type` in a configured project."""
    if meeting_rules(rules) is None:
        return False
    fields = issue.get("fields") or {}
    kind = (fields.get("issuetype") or {}).get("name")
    project = (fields.get("project") or {}).get("key")
    return kind == configured_meetings(rules).issue_type and project in rules.jira.projects


@dataclass(frozen=True)
class MeetingIssue:
    """A meeting read from Jira."""

    key: str
    summary: str
    description: str
    start: datetime | None
    organiser: str | None
    attendees: tuple[str, ...]
    names: Mapping[str, str]
    related: tuple[str, ...]  # the parent and linked issues: where the request is found
    end: datetime | None = None  # its end field, else start + meetings.length

    def minutes_due(self, rules: Rules) -> datetime | None:
        """When its minutes are due: `minutes_within` after the meeting ends (not starts)."""
        return self.end + configured_meetings(rules).minutes_within if self.end else None


def read_meeting(issue: Mapping[str, Any], rules: Rules) -> MeetingIssue:
    """Turn a meeting issue (REST shape) into what the rule needs."""
    wanted = configured_meetings(rules).fields
    fields: Mapping[str, Any] = issue.get("fields") or {}
    names: dict[str, str] = {}

    def person(user: Any) -> str | None:
        account = person_of(user)
        if account and isinstance(user, Mapping) and user.get("displayName"):
            names[account] = str(user["displayName"])
        return account

    attendees = tuple(
        account for user in fields.get(wanted.attendees) or [] if (account := person(user))
    )
    organiser = person(fields.get(wanted.organiser)) if wanted.organiser else None
    organiser = organiser or person(fields.get("reporter"))
    related = []
    parent = fields.get("parent")
    if isinstance(parent, Mapping) and parent.get("key"):
        related.append(str(parent["key"]))
    for link in fields.get("issuelinks") or []:
        for end in ("inwardIssue", "outwardIssue"):
            other = link.get(end) if isinstance(link, Mapping) else None
            if isinstance(other, Mapping) and other.get("key"):
                related.append(str(other["key"]))
    start = jira_time(fields.get(wanted.start))
    finish = jira_time(fields.get(wanted.end)) if wanted.end else None
    if start is not None and (finish is None or finish < start):  # none, or before its start
        finish = start + configured_meetings(rules).length
    return MeetingIssue(
        key=str(issue["key"]),
        summary=str(fields.get("summary") or ""),
        description=str(fields.get("description") or ""),
        start=start,
        organiser=organiser,
        attendees=attendees,
        names=names,
        related=tuple(dict.fromkeys(related)),
        end=finish if start is not None else None,
    )


def action_ref(action: Action) -> str:
    """An action's identity across edits of the meeting: its owner and its words, dates aside."""
    words = without_dates(action.text).casefold()
    return "a" + hashlib.sha256(f"{action.owner}\n{words}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RequestPlace:
    """The request a meeting belongs to, and where its actions go in Jira."""

    key: str
    summary: str
    project: str
    parent: str  # the request's epic when its tree has one, else the request itself
    lead_department: str = ""  # its requesting department's name (a page title may carry it)
    lead_key: str | None = None  # its requesting department (the rules' key)
    departments: tuple[str, ...] = ()  # its collaborating departments
    project_manager: str | None = None


def publish_minutes(key: str, context: Context, *, preview: Path | None = None) -> MinutesOutcome:
    """Collect, track and publish one meeting's minutes; safe to repeat and to race.

    With `preview`, render the page to that local HTML file and change nothing anywhere.
    """
    rules = context.rules
    if meeting_rules(rules) is None or (rules.confluence is None and preview is None):
        return MinutesOutcome(key, "skipped", reason="meetings or confluence not configured")
    if preview is not None:
        return _Minutes(key, context, keep_lease=lambda: None).run(preview)
    leases = Leases(context.store)
    holder = new_holder("minutes")
    name = f"minutes:{key}"

    def keep_lease() -> None:
        if not leases.take(name, holder, context.clock().timestamp(), LEASE_SECONDS):
            raise MeetingBusyError(
                f"{key}: another worker is writing these minutes", retry_after=BUSY_RETRY_S
            )

    keep_lease()
    try:
        return _Minutes(key, context, keep_lease).run(None)
    finally:
        leases.give_back(name, holder)


@dataclass(frozen=True)
class _MeetingIntents:
    """A meeting's intents, for the one way crossdept creates anything (ExactlyOnce); each keeps
    its item's summary, to name an action later removed from the minutes."""

    records: MeetingRecords
    meeting: str

    def intend(self, issues: Mapping[str, NewIssue], now: float) -> None:
        self.records.intend(self.meeting, {ref: i.summary for ref, i in issues.items()}, now)

    def created(self, keys: Mapping[str, str], now: float) -> None:
        self.records.record_created(self.meeting, keys)

    def forget(self, refs: Sequence[str]) -> None:
        self.records.drop_intents(self.meeting, refs)


class _Minutes:
    """One run of the minutes rule for one meeting."""

    def __init__(self, key: str, context: Context, keep_lease: Callable[[], None]) -> None:
        self.key = key
        self.context = context
        self.keep_lease = keep_lease  # renews the meeting's lease before each write; raises if lost
        self.rules = context.rules
        self.jira = context.jira
        self.records = MeetingRecords(context.store)
        self.creating = ExactlyOnce(
            self.jira,
            _MeetingIntents(self.records, key),
            self.now,
            key,
            waiting=MeetingBusyError,
            epic_link_field=self.rules.jira.epic_link_field,
        )
        self.issue: Mapping[str, Any] = {"key": key}  # the meeting as read by run()
        self.notices = Notices(context.store)

    def now(self) -> float:
        return self.context.clock().timestamp()

    def run(self, preview: Path | None) -> MinutesOutcome:
        issue = self.jira.get_issue(
            self.key, meeting_fields(self.rules), [COMMENTS_PROPERTY, MEETING_PROPERTY]
        )
        self.issue = issue
        if not is_meeting(issue, self.rules):
            return MinutesOutcome(self.key, "skipped", reason="not a meeting")
        meeting = read_meeting(issue, self.rules)
        names = dict(meeting.names)
        written = self._written(meeting, names)
        start = meeting.start or datetime.fromtimestamp(self.now(), UTC)
        day = start.astimezone(self.rules.tz).date()
        minutes = parse_minutes([meeting.description, *written], day)
        if meeting_rules(self.rules) is not None:
            minutes = within_action_limit(minutes, configured_meetings(self.rules).max_actions)
        place = self._request_place(meeting)
        page_meeting = Meeting(
            key=meeting.key,
            url=self.jira.issue_url(meeting.key),
            summary=meeting.summary,
            start=start,
            organiser=meeting.organiser or "",
            attendees=meeting.attendees,
            agenda=agenda(meeting.description),
            request_key=place.key if place else None,
            request_summary=place.summary if place else "",
            lead_department=place.lead_department if place else "",
            planned_minutes=(
                round((meeting.end - meeting.start).total_seconds() / 60)
                if meeting.start is not None and meeting.end is not None
                else None
            ),
        )
        title = page_title(self.rules, page_meeting)
        outcome = MinutesOutcome(self.key, "preview", title=title, minutes=minutes)
        stored = self.records.actions(self.key)
        if preview is not None:
            keys = {ref: row.issue_key for ref, row in stored.items() if row.issue_key}
            tracked = [self._tracked(a, keys) for a in minutes.actions]
            people = People(names, cloud=self.jira.is_cloud)
            body = render_page(self.rules, page_meeting, minutes, tracked, people)
            preview.write_text(preview_html(title, body, people), encoding="utf-8")
            outcome.items = keys
            return outcome

        self._tell_problems(issue, minutes)
        # A meeting crossdept filed for departments rather than a request (a goal-alignment
        # meeting) has minutes too; its actions have no request to be items under.
        filed = meeting_mark(issue)
        of_departments = filed.departments if filed and place is None else ()
        if place is None and not of_departments:
            self._tell_blocked(say(self.rules, "minutes.no_request", key=self.key))
            outcome.status, outcome.reason = "blocked", "not linked to a collaboration request"
            return outcome
        self.keep_lease()
        keys = self._track_actions(minutes.actions, place, stored, outcome) if place else {}
        for created in outcome.created:  # crossdept's own creation: its webhook is ignored
            self.context.announce(created_by_crossdept(created, on_behalf_of=meeting.organiser))
        self._tell_removed(minutes.actions)
        tracked = [self._tracked(a, keys) for a in minutes.actions]
        people = self._people(meeting, minutes, names)
        body = render_page(self.rules, page_meeting, minutes, tracked, people)
        self.keep_lease()
        page = self._publish(title, body, meeting, place, of_departments)
        if page is None:
            outcome.status, outcome.reason = "blocked", "page title taken"
            return outcome
        outcome.page, outcome.status = page, "published"
        RuleComments(self.jira).close(
            issue, BLOCKED, say(self.rules, "minutes.blocked_fixed", key=self.key)
        )
        self.jira.add_remote_link(
            self.key, url=page.url, title=page.title, global_id=f"crossdept-minutes={page.id}"
        )
        self._tell_published(issue, meeting, minutes, page)
        self._tell_groups(meeting, minutes, page, place.key if place else None, names)
        if meeting.organiser:
            answered = Asks(self.context.store).answer(
                self.key, meeting.organiser, self.now(), hours_between(self.rules)
            )
            settle_label(self.context, self.key, answered, self.now())
        return outcome

    def _written(self, meeting: MeetingIssue, names: dict[str, str]) -> list[str]:
        """The comments that make the minutes: those of the organiser, the attendees and the
        recorder they name. Anyone else's (and crossdept's own, which quote lines) are not the
        record: a person outside the meeting cannot create its actions."""
        own = self.jira.myself()
        by_author: list[tuple[str | None, str]] = []
        for comment in self.jira.list_comments(self.key):
            author = comment.get("author") or {}
            account = person_of(author)
            if account == own:
                continue
            if account and author.get("displayName"):
                names[account] = str(author["displayName"])
            by_author.append((account, str(comment.get("body") or "")))
        present = {*meeting.attendees, *([meeting.organiser] if meeting.organiser else [])}
        named = parse_minutes(
            [meeting.description, *(body for who, body in by_author if who in present)],
            datetime.fromtimestamp(self.now(), UTC).date(),  # only the recorder line is read
        ).recorder
        allowed = present | ({named} if named else set())
        ignored = sorted({who or "?" for who, body in by_author if who not in allowed and body})
        if ignored:
            log.info(
                "minutes: comments of people outside the meeting ignored",
                extra={"issue": self.key, "authors": ignored},
            )
        return [body for who, body in by_author if who in allowed]

    # -- the request ------------------------------------------------------------------------

    def _request_place(self, meeting: MeetingIssue) -> RequestPlace | None:
        """The request the meeting belongs to: its parent or a linked issue, or their request."""
        if not meeting.related:
            return None
        lead_field = self.rules.jira.request.fields.requesting_department
        wanted = request_fields(self.rules)
        found = self.jira.read_issues(list(meeting.related), wanted, [ITEM_PROPERTY, TREE_PROPERTY])
        request_type = self.rules.jira.request.issue_type
        request = next(
            (hit for hit in found if _type(hit) == request_type),
            None,
        )
        if request is None:
            marks = [mark for hit in found if (mark := item_mark(hit)) is not None]
            if not marks:
                return None
            request = self.jira.get_issue(marks[0].request, wanted, [TREE_PROPERTY])
            if _type(request) != request_type:
                return None
        fields = request.get("fields") or {}
        epic = read_tree_record(request).items.get(EPIC_REF)
        snapshot = read_request(request, self.rules)
        return RequestPlace(
            key=str(request["key"]),
            summary=str(fields.get("summary") or ""),
            project=str((fields.get("project") or {}).get("key") or ""),
            parent=epic or str(request["key"]),
            lead_department=lead_department_name(self.rules, fields.get(lead_field)),
            lead_key=snapshot.requesting_department,
            departments=snapshot.departments,
            project_manager=snapshot.project_manager,
        )

    # -- actions ----------------------------------------------------------------------------

    def _track_actions(
        self,
        actions: Sequence[Action],
        place: RequestPlace,
        stored: Mapping[str, ActionRecord],
        outcome: MinutesOutcome,
    ) -> dict[str, str]:
        """Make sure each action has its item, exactly once; return action ref -> item key."""
        keys = {ref: row.issue_key for ref, row in stored.items() if row.issue_key}
        wanted = {action_ref(a): a for a in actions}
        pending = [ref for ref in wanted if ref in stored and ref not in keys]
        if pending:
            keys.update(self._adopt(pending, place, stored))
        todo = [a for ref, a in wanted.items() if ref not in keys]
        type_name = self.rules.jira.issue_types.stage
        kind = self.jira.issue_types(place.project).get(type_name) if todo else None
        if todo and kind is None:
            outcome.refused += [
                f"{a.line}: no issue type {type_name} in {place.project}" for a in todo
            ]
            todo = []
        for start in range(0, len(todo), BULK_LIMIT):
            assert kind is not None
            chunk = {action_ref(a): a for a in todo[start : start + BULK_LIMIT]}
            issues = {ref: self._new_issue(a, ref, place, kind.id) for ref, a in chunk.items()}
            made = self.creating.create(issues)
            outcome.refused += [f"{chunk[ref].line}: {why}" for ref, why in made.refused.items()]
            keys.update(made.keys)
            outcome.created += list(made.keys.values())
        outcome.items = {ref: keys[ref] for ref in wanted if ref in keys}
        link_once(self.jira, list(outcome.items.values()), self.key)
        return keys

    def _new_issue(self, action: Action, ref: str, place: RequestPlace, type_id: str) -> NewIssue:
        due = action.due.isoformat()
        text = action.text
        what = without_dates(text) or text  # the date is in the due date field
        return NewIssue(
            project=place.project,
            issue_type_id=type_id,
            summary=say(self.rules, "minutes.action_summary", meeting=self.key, text=what)[:255],
            description=say(
                self.rules,
                "minutes.action_description",
                meeting=self.key,
                day=due,
                text=plain(text),
                mention=mention(action.owner, cloud=self.jira.is_cloud),
                due=due,
            ),
            due=action.due,
            assignee=action.owner,
            parent=place.parent,
            placement="epic_child",
            properties={
                ITEM_PROPERTY: {"request": place.key, "ref": f"minutes:{self.key}:{ref}"},
            },
        )

    def _adopt(
        self, pending: Sequence[str], place: RequestPlace, stored: Mapping[str, ActionRecord]
    ) -> dict[str, str]:
        """Find items an interrupted run created, by their `crossdept.item` mark."""
        prefix = f"minutes:{self.key}:"

        def ref_of(hit: Mapping[str, Any]) -> str | None:
            mark = item_mark(hit)
            if mark is None or not mark.ref.startswith(prefix):
                return None
            return mark.ref.removeprefix(prefix)

        return self.creating.adopt(
            {ref: stored[ref].intended_at for ref in pending}, [place.parent], "epic_child", ref_of
        )

    def _tracked(self, action: Action, keys: Mapping[str, str]) -> TrackedAction:
        """An action with its item's key and address, once it has one."""
        key = keys.get(action_ref(action))
        return TrackedAction(action, key, self.jira.issue_url(key) if key else None)

    # -- the page ---------------------------------------------------------------------------

    def _people(self, meeting: MeetingIssue, minutes: Minutes, names: Mapping[str, str]) -> People:
        """Names for the preview, and on Data Center each person's Confluence user key."""
        if self.jira.is_cloud or self.context.confluence is None:
            return People(names, cloud=self.jira.is_cloud)
        everyone = {*meeting.attendees, *(a.owner for a in minutes.actions)}
        everyone |= {p for p in (meeting.organiser, minutes.recorder) if p}
        keys = {}
        for person in sorted(everyone):
            if (found := self.context.confluence.user_key(person)) is not None:
                keys[person] = found
        return People(names, keys, cloud=False)

    def _publish(
        self,
        title: str,
        body: str,
        meeting: MeetingIssue,
        place: RequestPlace | None,
        departments: Sequence[str] = (),
    ) -> Page | None:
        """Create or update the meeting's page; None when the title belongs to another page."""
        confluence = self.context.confluence
        settings = self.rules.confluence
        assert settings is not None
        if confluence is None:
            raise TransientGatewayError("Confluence is not configured (CROSSDEPT_CONFLUENCE_URL)")
        mark = {"meeting": self.key, "site": self.jira.issue_url("")[: -len("/browse/")]}
        record = self.records.get(self.key)
        # The request's departments may read it, its lead department edit it; those at the
        # meeting and the PM keep their view of their own minutes.
        # A meeting of departments (no request) is theirs to read; its people may edit.
        restriction = request_page_restriction(
            self.rules,
            confluence,
            lead=place.lead_key if place else None,
            collaborating=place.departments if place else departments,
            people=(
                place.project_manager if place else None,
                meeting.organiser,
                *meeting.attendees,
            ),
        )
        try:
            published = publish_page(
                confluence,
                space=settings.space,
                title=title,
                body=body,
                parent=lambda: parent_page(confluence, settings.space, settings.parent_page),
                name=PAGE_PROPERTY,
                mark=mark,
                known_id=record.page_id if record else None,
                known_digest=record.page_digest if record else None,
                restriction=restriction,
            )
        except RefusedError as error:
            text = say(
                self.rules,
                "minutes.refused",
                reason=error.reason(),
                space=settings.space,
                key=self.key,
            )
            self._tell_blocked(text)
            raise
        if published.page is None:
            self._tell_title_taken(title)
            return None
        if published.restriction_refused is not None:
            log.warning(
                "minutes page restrictions refused",
                extra={"issue": self.key, "reason": published.restriction_refused},
            )
            text = say(
                self.rules,
                "minutes.restriction_refused",
                reason=plain(published.restriction_refused),
                key=self.key,
            )
            self.notices.comment_once(self.jira, self.key, "minutes-access", text, self.now())
        self.records.published(self.key, published.page.id, published.digest, self.now())
        return published.page

    # -- telling people ---------------------------------------------------------------------

    def _tell_problems(self, issue: Mapping[str, Any], minutes: Minutes) -> None:
        """One living comment on the meeting: the lines that cannot be tracked, edited as they
        change, and closed once none is left, never a second comment."""
        comments = RuleComments(self.jira)
        if not minutes.problems:
            comments.close(issue, PROBLEMS, say(self.rules, "minutes.problems_fixed", key=self.key))
            return
        lines = "\n".join(
            f"* {plain(problem.line)} — {say(self.rules, 'minutes.problem.' + problem.reason)}"
            for problem in minutes.problems
        )
        text = say(self.rules, "minutes.problems", lines=lines, key=self.key)
        comments.show(issue, PROBLEMS, text, marker=f"minutes-problems:{self.key}")

    def _tell_removed(self, actions: Sequence[Action]) -> None:
        current = {action_ref(a) for a in actions}
        removed = [
            row
            for ref, row in self.records.actions(self.key).items()
            if ref not in current and row.issue_key and not row.removed_reported
        ]
        if not removed:
            return
        lines = "\n".join(f"* {row.issue_key} {plain(row.summary)}" for row in removed)
        text = say(self.rules, "minutes.removed", lines=lines, key=self.key)
        self.notices.comment_once(self.jira, self.key, RULE, text, self.now())
        self.records.mark_removed_reported(self.key, [row.ref for row in removed])

    def _tell_title_taken(self, title: str) -> None:
        assert self.rules.confluence is not None
        text = say(
            self.rules,
            "minutes.title_taken",
            space=self.rules.confluence.space,
            title=title,
            key=self.key,
        )
        self._tell_blocked(text)

    def _tell_blocked(self, text: str) -> None:
        """One living comment on the meeting for why its minutes are not published, edited as
        the reason changes and closed once they are."""
        RuleComments(self.jira).show(
            self.issue, BLOCKED, text, marker=f"minutes-blocked:{self.key}"
        )

    def _tell_groups(
        self,
        meeting: MeetingIssue,
        minutes: Minutes,
        page: Page,
        request: str | None,
        names: Mapping[str, str],
    ) -> None:
        """The groups hear the minutes are out once per meeting: each action with its owner."""
        if not wanted(self.rules, "minutes"):
            return
        rules = self.rules
        lines = [
            say(
                rules,
                "minutes.group.line",
                decisions=len(minutes.decisions),
                actions=len(minutes.actions),
            )
        ]
        for action in minutes.actions[:GROUP_ACTIONS_SHOWN]:
            lines.append(
                say(
                    rules,
                    "minutes.group.action",
                    text=people_words(action.text, limit=60),
                    owner=people_words(names.get(action.owner, action.owner), limit=40),
                    due=action.due.isoformat(),
                )
            )
        if len(minutes.actions) > GROUP_ACTIONS_SHOWN:
            lines.append(
                say(rules, "minutes.group.more", count=len(minutes.actions) - GROUP_ACTIONS_SHOWN)
            )
        people = [*meeting.attendees, *(action.owner for action in minutes.actions)]
        departments = [d for person in people for d in departments_of(rules, person)]
        news = News(
            "minutes",
            f"minutes:{self.key}",
            say(rules, "minutes.group.title", summary=people_words(meeting.summary, limit=60)),
            tuple(lines),
            link=page.url,
            link_text=page.title,
            issue=self.key,
            request=request,
            departments=tuple(dict.fromkeys(departments)),
            mention=tuple(dict.fromkeys(action.owner for action in minutes.actions)),
        )
        tell_groups(self.context, news)

    def _tell_published(
        self, issue: Mapping[str, Any], meeting: MeetingIssue, minutes: Minutes, page: Page
    ) -> None:
        """One comment, kept up to date: the address, for the attendees and their heads."""
        people = list(meeting.attendees)
        for attendee in meeting.attendees:
            for department in departments_of(self.rules, attendee):
                people.append(self.rules.departments[department].head)
        mentions = join_names(
            self.rules,
            [mention(p, cloud=self.jira.is_cloud) for p in dict.fromkeys(people)],
        )
        text = say(
            self.rules,
            "minutes.published",
            title=page.title,
            url=page.url,
            mentions=mentions,
            decisions=len(minutes.decisions),
            actions=len(minutes.actions),
            open=len(minutes.open_points),
            key=self.key,
        )
        RuleComments(self.jira).show(issue, RULE, text, marker=f"minutes:{self.key}")


def _type(issue: Mapping[str, Any]) -> str | None:
    return ((issue.get("fields") or {}).get("issuetype") or {}).get("name")


# -- webhooks -------------------------------------------------------------------------------


def _entered_held(event: JiraEvent, rules: Rules) -> bool:
    for item in event.changelog.items if event.changelog else []:
        if (item.field or "").lower() == "status" and item.to_string == configured_meetings(
            rules
        ).held_status:
            return True
    return False


@router.register("jira:issue_updated")
def write_minutes(event: JiraEvent, context: Context) -> None:
    """A meeting that enters its held status gets its minutes written and published."""
    rules = context.rules
    if meeting_rules(rules) is None or event.issue_key is None:
        return
    if not _entered_held(event, rules):
        return
    outcome = publish_minutes(event.issue_key, context)
    log.info(
        "minutes %s: %s",
        outcome.status,
        outcome.title,
        extra={"issue": event.issue_key, "delivery": context.delivery_key},
    )


@router.register("jira:issue_created")
@router.register("jira:issue_updated")
def check_meeting(event: JiraEvent, context: Context) -> None:
    """A meeting with short notice or no agenda gets one comment each; its due time is noted."""
    rules = context.rules
    if meeting_rules(rules) is None or event.issue_key is None:
        return
    kind = ((event.issue.fields if event.issue else {}).get("issuetype") or {}).get("name")
    if kind is not None and kind != configured_meetings(rules).issue_type:
        return
    meeting = note_meeting(event.issue_key, context)
    if meeting is None:
        return
    now = context.clock()
    notices = Notices(context.store)
    organiser = mention(meeting.organiser or "", cloud=context.jira.is_cloud)
    if not agenda(meeting.description):
        text = say(rules, "minutes.no_agenda", mention=organiser, key=meeting.key)
        notices.comment_once(context.jira, meeting.key, "meeting-agenda", text, now.timestamp())
    if meeting.start is not None and _short_notice(event, meeting.start, now, rules):
        text = say(
            rules,
            "minutes.short_notice",
            mention=organiser,
            start=f"{meeting.start.astimezone(rules.tz):%Y-%m-%d %H:%M}",
            notice=span_words(rules, configured_meetings(rules).notice),
            key=meeting.key,
        )
        notices.comment_once(context.jira, meeting.key, "meeting-notice", text, now.timestamp())


def note_meeting(key: str, context: Context) -> MeetingIssue | None:
    """Read a meeting from Jira and remember its organiser, end and minutes' due time, which the
    sweeps follow; None when the issue is not a meeting under enforcement."""
    rules = context.rules
    issue = context.jira.get_issue(key, meeting_fields(rules))
    if not is_meeting(issue, rules):
        return None
    meeting = read_meeting(issue, rules)
    due = meeting.minutes_due(rules)
    MeetingRecords(context.store).note(
        meeting.key,
        meeting.organiser,
        due.timestamp() if due else None,
        context.clock().timestamp(),
        ends_at=meeting.end.timestamp() if meeting.end else None,
    )
    return meeting


def _short_notice(event: JiraEvent, start: datetime, now: datetime, rules: Rules) -> bool:
    """Created, or its start moved, less than `meetings.notice` before the start (and not past)."""
    if event.name == "jira:issue_updated":
        start_field = configured_meetings(rules).fields.start.lower()
        changed = {
            (item.field_id or item.field or "").lower()
            for item in (event.changelog.items if event.changelog else [])
        }
        if start_field not in changed:
            return False
    return now <= start < now + configured_meetings(rules).notice


# -- periodic work --------------------------------------------------------------------------


@schedule.every(minutes=5)
def sweep_minutes(context: Context) -> str:
    """Minutes past due and unpublished become an ask to the organiser, once per meeting."""
    rules = context.rules
    if meeting_rules(rules) is None:
        return "meetings not configured"
    now = context.clock().timestamp()
    records = MeetingRecords(context.store)
    opened = 0
    for record in records.overdue(now):
        if not record.organiser or record.minutes_due is None:
            continue
        issue = context.jira.get_issue(
            record.meeting_key, meeting_fields(rules), [COMMENTS_PROPERTY]
        )
        meeting = read_meeting(issue, rules)
        if meeting.start is None or not is_meeting(issue, rules):
            continue
        found_due = meeting.minutes_due(rules)
        assert found_due is not None  # a meeting with a start has an end
        due = found_due.timestamp()
        if due > now:  # the meeting moved: note the new due time and wait
            ends = meeting.end.timestamp() if meeting.end else None
            records.note(record.meeting_key, meeting.organiser, due, now, ends_at=ends)
            continue
        if not records.mark_asked(record.meeting_key):
            continue
        open_ask(
            context,
            issue=record.meeting_key,
            asked=meeting.organiser or record.organiser,
            asked_by=None,
            source="minutes",
            source_id=record.meeting_key,
            at=due,
            excerpt=meeting.summary[:200],
        )
        text = say(
            rules,
            "minutes.overdue",
            mention=mention(meeting.organiser or record.organiser, cloud=context.jira.is_cloud),
            start=f"{meeting.start.astimezone(rules.tz):%Y-%m-%d %H:%M}",
            end=f"{(meeting.end or meeting.start).astimezone(rules.tz):%H:%M}",
            within=span_words(rules, configured_meetings(rules).minutes_within),
            status=configured_meetings(rules).held_status,
            key=record.meeting_key,
        )
        Notices(context.store).comment_once(
            context.jira, record.meeting_key, "minutes-overdue", text, now
        )
        opened += 1
    return f"{opened} overdue minutes asked"


@schedule.every(minutes=5)
def sweep_missed_meetings(context: Context) -> str:
    """A meeting not marked held `missed_after` past its end is said once to its organiser.

    Held and not marked, it is to be marked; not held, to be moved or cancelled."""
    rules = context.rules
    settings = meeting_rules(rules)
    if settings is None:
        return "meetings not configured"
    now = context.clock().timestamp()
    records = MeetingRecords(context.store)
    told = 0
    for record in records.missed(now - settings.missed_after.total_seconds()):
        issue = context.jira.get_issue(record.meeting_key, meeting_fields(rules))
        if not is_meeting(issue, rules):
            records.mark_missed_told(record.meeting_key)  # no longer a meeting: nothing to say
            continue
        meeting = read_meeting(issue, rules)
        fields = issue.get("fields") or {}
        status = (fields.get("status") or {}).get("name")
        if status == settings.held_status or is_done(fields, rules) or meeting.end is None:
            records.mark_missed_told(record.meeting_key)  # held, or cancelled: not missed
            continue
        if meeting.end.timestamp() + settings.missed_after.total_seconds() > now:
            # Moved later: note its new end and wait.
            due = meeting.minutes_due(rules)
            records.note(
                record.meeting_key,
                meeting.organiser,
                due.timestamp() if due else None,
                now,
                ends_at=meeting.end.timestamp(),
            )
            continue
        organiser = meeting.organiser or record.organiser
        if organiser is None or not records.mark_missed_told(record.meeting_key):
            continue
        text = say(
            rules,
            "minutes.missed",
            mention=mention(organiser, cloud=context.jira.is_cloud),
            start=f"{meeting.start.astimezone(rules.tz):%Y-%m-%d %H:%M}" if meeting.start else "",
            end=f"{meeting.end.astimezone(rules.tz):%H:%M}",
            status=settings.held_status,
            key=record.meeting_key,
        )
        Notices(context.store).comment_once(
            context.jira, record.meeting_key, "meeting-missed", text, now
        )
        told += 1
    return f"{told} missed meetings told"
