"""The cadence rule: crossdept files the meetings the guides hold on a cadence, each once.

Every half hour one worker looks for meetings whose filing window has come (the day before
`meetings.notice` ahead of them, plugin.rules.cadence.occurrences):

- `cadence.weekly`: a weekly meeting for each active request (its tree stands and it is not
  done), organised by its project manager, linked to the request, with the departments'
  contacts as attendees;
- `cadence.goal_alignment`: a monthly goal-alignment meeting for each set of departments,
  organised by one of their heads, with the heads as attendees.

Each is filed exactly once (plugin.process.creation): an intent row before the create call, the
sealed `crossdept.meeting` mark in the create call itself, and an adoption search among the
latest meetings for an intent a crash left without a key. It names its organiser in
`meetings.fields.organiser`, so that the minutes ask and the missed-meeting notice reach a
person, never crossdept. From then on it is a meeting like any other: the minutes rule follows
it. A refusal is said once to the request's project manager (a goal-alignment meeting's, which
has no request, is logged and audited).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from plugin.atlassian.ports import FieldValue, ManyPeople, NewIssue, OnePerson
from plugin.atlassian.queries import Items
from plugin.process.audit import Audit
from plugin.process.creation import ExactlyOnce
from plugin.process.items import MEETING_PROPERTY, is_done, meeting_mark
from plugin.process.notices import Notices
from plugin.process.wording import mention, plain
from plugin.rules.cadence.config import WeeklyMeeting, cadence_rules
from plugin.rules.cadence.filed_meetings import FiledMeetings
from plugin.rules.cadence.occurrences import (
    Occurrence,
    due_to_file,
    monthly_occurrences,
    weekly_occurrences,
)
from plugin.rules.cadence.plan import PlannedMeeting, plan_goal_alignment, plan_weekly, weekly_ref
from plugin.rules.cadence.wording import say
from plugin.rules.minutes import MeetingFields, MeetingRules, meeting_rules, note_meeting
from plugin.rules.trees import TreeRecords, read_request, request_fields
from plugin.spine.context import Context
from plugin.spine.errors import NotYetError, TransientGatewayError
from plugin.spine.schedule import Schedule

log = logging.getLogger(__name__)

RULE = "cadence"
ADOPT_MARGIN_MINUTES = 10  # the adoption search looks this much further back than the intent

schedule = Schedule()


@schedule.every(minutes=30, exclusive=True)
def file_cadence_meetings(context: Context) -> str:
    """File each cadence meeting once, in the day before its notice period starts."""
    rules = context.rules
    cadence = cadence_rules(rules)
    meetings = meeting_rules(rules)
    if cadence is None or meetings is None or meetings.fields.organiser is None:
        return "no cadence"
    now = context.clock()
    calendar, notice = rules.work_calendar, meetings.notice
    planned: list[PlannedMeeting] = []
    if cadence.weekly is not None:
        due = due_to_file(weekly_occurrences(cadence.weekly, calendar, rules.tz, now), now, notice)
        for occurrence in due:
            planned += _weekly_meetings(context, cadence.weekly, occurrence)
    for goal in cadence.goal_alignment:
        for occurrence in due_to_file(
            monthly_occurrences(goal, calendar, rules.tz, now), now, notice
        ):
            planned.append(plan_goal_alignment(rules, goal, occurrence))
    filed = waiting = 0
    for plan in planned:
        try:
            filed += file_meeting(plan, meetings, meetings.fields.organiser, context) is not None
        except TransientGatewayError as error:  # one meeting's trouble holds up no other
            waiting += 1
            log.warning(
                "cadence: Jira did not answer; the next sweep tries again",
                extra={"ref": plan.ref, "reason": str(error)},
            )
    return f"meetings filed: {filed}" + (f"; {waiting} to try again" if waiting else "")


def _weekly_meetings(
    context: Context, weekly: WeeklyMeeting, occurrence: Occurrence
) -> list[PlannedMeeting]:
    """The weekly meetings of the active requests not yet filed for this week."""
    records = FiledMeetings(context.store)
    todo = [
        key
        for key in TreeRecords(context.store).built()
        if not records.settled(weekly_ref(key, occurrence))
    ]
    if not todo:
        return []
    wanted = [*request_fields(context.rules), "status"]
    planned = []
    for issue in context.jira.read_issues(todo, wanted):
        if is_done(issue.get("fields") or {}, context.rules):
            ref = weekly_ref(str(issue.get("key")), occurrence)
            records.skip(ref, occurrence.start.timestamp(), "done")
            continue
        plan = plan_weekly(context.rules, weekly, read_request(issue, context.rules), occurrence)
        if plan is not None:
            planned.append(plan)
    return planned


def file_meeting(
    plan: PlannedMeeting, meetings: MeetingRules, organiser: str, context: Context
) -> str | None:
    """File one planned meeting (its organiser in the field `organiser`) unless it was filed,
    refused or skipped before; its key when filed now (or found filed by an interrupted run)."""
    starts_at = plan.occurrence.start.timestamp()
    records = FiledMeetings(context.store, {plan.ref: starts_at})
    row = records.get(plan.ref)
    if row is not None and row.settled:
        return None
    creating = ExactlyOnce(
        context.jira, records, now=lambda: context.clock().timestamp(), subject=plan.ref
    )
    if row is not None and row.intended_at is not None:
        try:
            key = _adopt(plan, meetings.issue_type, row.intended_at, creating, context)
        except NotYetError:
            return None  # Jira's index has not settled: the next sweep looks again
        if key is not None:
            note_meeting(key, context)
            return key
    kind = context.jira.issue_types(plan.project).get(meetings.issue_type)
    if kind is None:
        _refused(plan, f"no issue type {meetings.issue_type} in {plan.project}", context)
        return None
    made = creating.create({plan.ref: _new_issue(plan, meetings.fields, organiser, kind.id)})
    if plan.ref in made.refused:
        _refused(plan, made.refused[plan.ref], context)
        return None
    key = made.keys.get(plan.ref)
    if key is None:  # Jira named it neither created nor refused: adopted or filed next sweep
        return None
    note_meeting(key, context)
    Audit(context.store).record(
        context.clock().timestamp(), key, RULE, "meeting filed", plan.ref, plan.link_to
    )
    log.info("cadence: meeting filed", extra={"issue": key, "ref": plan.ref})
    return key


def _adopt(
    plan: PlannedMeeting,
    issue_type: str,
    intended_at: float,
    creating: ExactlyOnce,
    context: Context,
) -> str | None:
    """The meeting an interrupted run created, found among the latest meetings by its mark."""
    age = context.clock().timestamp() - intended_at
    latest = Items(
        (plan.project,),
        (issue_type,),
        updated_within=math.ceil(age / 60) + ADOPT_MARGIN_MINUTES,
    )

    def ref_of(hit: Mapping[str, Any]) -> str | None:
        mark = meeting_mark(hit)
        return mark.ref if mark else None

    adopted = creating.adopt_found({plan.ref: intended_at}, latest, ref_of, MEETING_PROPERTY)
    return adopted.get(plan.ref)


def _new_issue(
    plan: PlannedMeeting, wanted: MeetingFields, organiser: str, type_id: str
) -> NewIssue:
    values: dict[str, FieldValue] = {
        wanted.start: plan.occurrence.start,
        wanted.attendees: ManyPeople(plan.attendees),
        organiser: OnePerson(plan.organiser),
    }
    if wanted.end:
        values[wanted.end] = plan.occurrence.end
    return NewIssue(
        project=plan.project,
        issue_type_id=type_id,
        summary=plan.summary,
        description=plan.description,
        due=plan.occurrence.start.date(),
        assignee=plan.organiser,
        parent=plan.link_to or "",
        placement="linked" if plan.link_to else "standalone",
        properties={MEETING_PROPERTY: _mark(plan)},
        fields=values,
    )


def _mark(plan: PlannedMeeting) -> dict[str, Any]:
    """The meeting's `crossdept.meeting` mark: its ref, and a goal-alignment meeting's
    departments (who may read its minutes, as it has no request)."""
    if plan.link_to is None:
        return {"ref": plan.ref, "departments": list(plan.departments)}
    return {"ref": plan.ref}


def _refused(plan: PlannedMeeting, reason: str, context: Context) -> None:
    """Remember Jira's refusal (never retried for this meeting) and say it once per request."""
    records = FiledMeetings(context.store)
    first = plan.link_to is not None and not records.refused_before(f"weekly:{plan.link_to}:")
    records.refuse(plan.ref, plan.occurrence.start.timestamp(), reason)
    now = context.clock().timestamp()
    log.warning("cadence: Jira refused a meeting", extra={"ref": plan.ref, "reason": reason})
    Audit(context.store).record(now, plan.link_to or plan.ref, RULE, "meeting refused", reason)
    if plan.link_to is None or not first:
        return
    text = say(
        context.rules,
        "cadence.refused",
        pm=mention(plan.organiser, cloud=context.jira.is_cloud),
        period=plan.occurrence.period,
        day=f"{plan.occurrence.start:%Y-%m-%d %H:%M}",
        reason=plain(reason),
    )
    Notices(context.store).comment_once(context.jira, plan.link_to, "cadence-refused", text, now)
