"""Meetings crossdept files on the cadence: each active request's weekly meeting and the monthly
goal-alignment meeting, each once, the notice period ahead, followed like any other meeting."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import requests

from plugin.process.calendar import WorkCalendar
from plugin.rules.cadence.config import cadence_rules
from plugin.rules.cadence.occurrences import (
    FILING_WINDOW,
    Occurrence,
    monthly_occurrences,
    weekly_occurrences,
)
from plugin.rules.minutes import configured_meetings
from plugin.rules.minutes.minutes import publish_minutes
from sandbox.app import assert_no_violations
from tests.e2e.conftest import MakeWorld, World, built

START_FIELD = "customfield_10060"
ATTENDEES_FIELD = "customfield_10061"
ORGANISER_FIELD = "customfield_10063"
MEETING_FIELDS = f"summary,description,assignee,duedate,issuelinks,{START_FIELD},{ATTENDEES_FIELD},{ORGANISER_FIELD}"


def next_weekly(world: World) -> tuple[Occurrence, datetime]:
    """The next weekly meeting whose filing window is still ahead, and a moment inside it that
    is in no goal-alignment meeting's window (the test files one meeting at a time)."""
    cadence = cadence_rules(world.service.rules)
    assert cadence is not None and cadence.weekly is not None
    monthly = goal_alignment_moments(world)
    return in_window(
        world,
        partial(weekly_occurrences, cadence.weekly),  # the tests also look a day before it
        avoid=lambda moment: any(abs(moment - m) <= 2 * FILING_WINDOW for m in monthly),
    )


def goal_alignment_moments(world: World) -> list[datetime]:
    """The middle of each coming goal-alignment meeting's filing window."""
    rules = world.service.rules
    cadence = cadence_rules(rules)
    assert cadence is not None
    notice = configured_meetings(rules).notice
    now = world.clock.now()
    return [
        o.filing_window(notice)[0] + FILING_WINDOW / 2
        for goal in cadence.goal_alignment
        for o in monthly_occurrences(goal, rules.work_calendar, rules.tz, now)
    ]


def next_goal_alignment(world: World) -> tuple[Occurrence, datetime]:
    """The first goal-alignment meeting whose filing window is ahead, and a moment inside it."""
    cadence = cadence_rules(world.service.rules)
    assert cadence is not None
    return in_window(world, partial(monthly_occurrences, cadence.goal_alignment[0]))


def in_window(
    world: World,
    occurrences: Callable[[WorkCalendar, ZoneInfo, datetime], Iterator[Occurrence]],
    avoid: Callable[[datetime], bool] = lambda _moment: False,
) -> tuple[Occurrence, datetime]:
    rules = world.service.rules
    notice = configured_meetings(rules).notice
    now = world.clock.now()
    for occurrence in occurrences(rules.work_calendar, rules.tz, now):
        opens, _closes = occurrence.filing_window(notice)
        moment = opens + FILING_WINDOW / 2
        if opens > now and not avoid(moment):
            return occurrence, moment
    raise AssertionError("no filing window ahead")


def login_of(world: World, user: object) -> str:
    """The seed login of a user as Jira shows it (accountId on Cloud, name on Data Center)."""
    cloud = world.flavour.name == "cloud"
    wanted = getattr(user, "accountId" if cloud else "name")
    if not cloud:
        return str(wanted)
    return next(u.login for u in world.sandbox.jira.users.values() if u.account_id == wanted)


def meetings(world: World) -> list[str]:
    found = world.requester.search_issues("project = XD AND issuetype = 会议", maxResults=100)
    return sorted(str(issue.key) for issue in found)


def file_at(world: World, moment: datetime) -> object:
    result = world.service.run_periodic("file_cadence_meetings", clock=lambda: moment)
    world.settle()
    return result


def test_each_active_request_gets_one_weekly_meeting_with_its_agenda_the_notice_ahead(
    make_world: MakeWorld, flavour: str
) -> None:
    world, request, _items = built(make_world, flavour)
    occurrence, moment = next_weekly(world)
    assert file_at(world, moment - FILING_WINDOW) == "meetings filed: 0"  # not yet
    assert file_at(world, moment) == "meetings filed: 1"
    assert file_at(world, moment + timedelta(minutes=30)) == "meetings filed: 0"  # once
    [meeting] = meetings(world)

    issue = world.requester.issue(meeting, fields=MEETING_FIELDS)
    fields = issue.fields
    assert fields.summary == f"周例会 {occurrence.start:%Y-%m-%d}：2026年Q1新品X推广"
    assert fields.description.splitlines()[:2] == [
        f"{request} 2026年Q1新品X推广 周例会议程：",
        "# 各部门汇报本周完成情况与未达标原因",
    ]
    organiser = getattr(fields, ORGANISER_FIELD)
    assert login_of(world, organiser) == "pm" and login_of(world, fields.assignee) == "pm"
    attendees = [login_of(world, user) for user in getattr(fields, ATTENDEES_FIELD)]
    assert attendees[0] == "pm" and "marketing.contact" in attendees
    assert "engineering.contact" in attendees and "finance.contact" in attendees
    start = datetime.strptime(getattr(fields, START_FIELD), "%Y-%m-%dT%H:%M:%S.%f%z")
    assert start == occurrence.start
    assert str(fields.duedate) == f"{occurrence.start:%Y-%m-%d}"
    linked = {
        end.key
        for link in fields.issuelinks
        for end in (getattr(link, "inwardIssue", None), getattr(link, "outwardIssue", None))
        if end is not None
    }
    assert linked == {request}
    # Filed by crossdept, it is still a meeting like any other: held, its minutes are
    # published under the request, and its actions become the request's items.
    as_pm = world.service.context_for("test", clock=lambda: occurrence.end)
    world.requester.add_comment(meeting, "决议：按计划推进")
    outcome = publish_minutes(meeting, as_pm)
    assert outcome.status == "published" and "2026年Q1新品X推广" in outcome.title
    assert_no_violations(world.sandbox)


def test_a_done_request_gets_no_weekly_meeting(make_world: MakeWorld, flavour: str) -> None:
    world, request, _items = built(make_world, flavour)
    world.requester.transition_issue(request, "进行中")
    world.requester.transition_issue(request, "已完成")
    world.settle()
    _occurrence, moment = next_weekly(world)
    assert file_at(world, moment) == "meetings filed: 0"
    assert meetings(world) == []
    # Read once: the next sweeps of the window do not ask Jira about it again.
    calls = world.crossdept_calls()
    assert file_at(world, moment + timedelta(minutes=30)) == "meetings filed: 0"
    assert world.crossdept_calls() == calls


def test_the_goal_alignment_meeting_is_filed_for_the_heads_and_its_minutes_published(
    make_world: MakeWorld, flavour: str
) -> None:
    world = make_world(flavour)
    occurrence, moment = next_goal_alignment(world)
    assert file_at(world, moment) == "meetings filed: 1"
    [meeting] = meetings(world)
    fields = world.requester.issue(meeting, fields=MEETING_FIELDS).fields
    assert fields.summary == f"月度目标对齐会 {occurrence.period}：市场部、技术部、产品部、财务部"
    assert login_of(world, getattr(fields, ORGANISER_FIELD)) == "marketing.head"
    attendees = {login_of(world, user) for user in getattr(fields, ATTENDEES_FIELD)}
    assert {"marketing.head", "engineering.head", "product.head", "finance.head"} <= attendees
    assert fields.issuelinks == []

    world.requester.add_comment(meeting, "决议：下月重点支持技术部的联调")
    context = world.service.context_for("test", clock=lambda: occurrence.end)
    outcome = publish_minutes(meeting, context)
    assert outcome.status == "published" and outcome.created == []
    # No request, so no lead department: the meeting's departments read and edit the page (no
    # edit restriction of its own), and nobody else sees it.
    confluence = world.sandbox.confluence
    access = confluence.restrictions("XD", outcome.title)  # type: ignore[union-attr]
    assert access["read"]["groups"] == ["产品部", "市场部", "技术部", "财务部"]
    assert "update" not in access
    assert not confluence.may_view("XD", outcome.title, "director")  # type: ignore[union-attr]
    assert_no_violations(world.sandbox)


def test_a_lost_answer_to_the_create_adopts_the_meeting_instead_of_filing_it_twice(
    make_world: MakeWorld, flavour: str
) -> None:
    world, _request, _items = built(make_world, flavour)
    _occurrence, moment = next_weekly(world)
    original = world.sandbox.jira.handle
    lost: list[str] = []

    def lose_the_answer(request):  # type: ignore[no-untyped-def]
        response = original(request)
        body = request.body.decode("utf-8", "replace") if request.body else ""
        if request.path.endswith("/issue/bulk") and "crossdept.meeting" in body and not lost:
            lost.append(request.path)
            raise requests.ConnectionError("connection reset after the meeting was created")
        return response

    world.sandbox.jira.handle = lose_the_answer  # type: ignore[method-assign]
    assert file_at(world, moment) == "meetings filed: 0; 1 to try again"
    world.sandbox.jira.handle = original  # type: ignore[method-assign]
    assert lost
    created = meetings(world)
    assert len(created) == 1
    # Within a minute Jira's index may not show it yet: nothing is filed, nothing is lost.
    assert file_at(world, moment + timedelta(seconds=30)) == "meetings filed: 0"
    assert file_at(world, moment + timedelta(seconds=90)) == "meetings filed: 1"  # adopted
    assert meetings(world) == created
    assert file_at(world, moment + timedelta(minutes=30)) == "meetings filed: 0"
    assert_no_violations(world.sandbox)


def test_a_refused_meeting_is_said_once_to_the_pm_on_the_request(
    make_world: MakeWorld, flavour: str
) -> None:
    world, request, _items = built(make_world, flavour)
    occurrence, moment = next_weekly(world)
    meeting_type = next(
        t for p in world.sandbox.jira.seed.projects for t in p.issue_types if t.name == "会议"
    )
    # An admin took the organiser field off the meeting's screens. The seed is frozen data
    # other tests share, so it is put back whatever happens.
    shown = meeting_type.hidden_fields
    object.__setattr__(meeting_type, "hidden_fields", (ORGANISER_FIELD,))
    try:
        assert file_at(world, moment) == "meetings filed: 0"
        assert file_at(world, moment + timedelta(days=7)) == "meetings filed: 0"  # next week
    finally:
        object.__setattr__(meeting_type, "hidden_fields", shown)
    assert meetings(world) == []
    said = [c for c in world.crossdept_comments(request) if c.startswith("h4. 周例会未能创建")]
    assert len(said) == 1 and occurrence.period in said[0] and ORGANISER_FIELD in said[0]
    assert_no_violations(world.sandbox)


def test_a_meeting_mark_a_person_wrote_or_copied_is_not_believed(
    make_world: MakeWorld, flavour: str
) -> None:
    world = make_world(flavour)
    _occurrence, moment = next_goal_alignment(world)
    file_at(world, moment)
    [genuine] = meetings(world)
    copied = world.requester.issue_property(genuine, "crossdept.meeting").raw["value"]
    forged = {"ref": "goal:市场部+技术部:2099-01", "departments": ["市场部", "技术部"]}
    context = world.service.context_for("test")
    for value in (forged, copied):
        fields = {
            "project": {"key": "XD"},
            "issuetype": {"name": "会议"},
            "summary": "自己的会",
            "description": "议程：随便聊聊",
            START_FIELD: (world.clock.now() + timedelta(days=4)).strftime(
                "%Y-%m-%dT%H:%M:%S.000+0000"
            ),
        }
        own = str(world.requester.create_issue(fields=fields).key)
        world.requester.add_issue_property(own, "crossdept.meeting", value)
        world.settle()
        # Belonging to no request, only crossdept's own mark would have its minutes published.
        assert publish_minutes(own, context).status == "blocked"
    assert_no_violations(world.sandbox)
