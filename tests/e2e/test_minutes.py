"""Meetings as people hold them: minutes in Confluence, each action a tracked item, once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from plugin.atlassian.storage import parse_storage
from plugin.process.asks import Asks
from plugin.rules.minutes.minutes import publish_minutes
from sandbox.app import assert_no_violations
from sandbox.http import SandboxResponse
from tests.e2e.conftest import MakeWorld, World

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the shipped rules' timezone: page titles carry its date
FLAVOURS = pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
START_FIELD = "customfield_10060"
ATTENDEES_FIELD = "customfield_10061"
AC = "{http://atlassian.com/content}"
RI = "{http://atlassian.com/resource/identifier}"


def filed(make_world: MakeWorld, flavour: str) -> tuple[World, str]:
    """A world whose requester filed a request and got its tree; the request's key."""
    world = make_world(flavour)
    request = world.file_request()
    world.settle()
    return world, request


def user(world: World, login: str) -> dict[str, str]:
    if world.flavour.name == "cloud":
        return {"accountId": world.sandbox.jira.users[login].account_id}
    return {"name": login}


def person(world: World, login: str) -> str:
    return next(iter(user(world, login).values()))


def mention_of(world: World, login: str) -> str:
    if world.flavour.name == "cloud":
        return f"[~accountid:{person(world, login)}]"
    return f"[~{login}]"


def jira_time(world: World, days: float) -> str:
    moment = world.clock.now() + timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def due(world: World, days: int) -> date:
    """A due date this many days after today."""
    return world.clock.now().date() + timedelta(days=days)


def link(world: World, meeting: str, request: str) -> None:
    """The requester links the meeting to its request, as Jira's "Link issue" dialog does."""
    body = {
        "type": {"name": "Relates"},
        "inwardIssue": {"key": request},
        "outwardIssue": {"key": meeting},
    }
    world.requester._session.post(
        world.flavour.url + "/rest/api/2/issueLink", data=json.dumps(body)
    ).raise_for_status()


def schedule_meeting(
    world: World,
    request: str | None,
    *,
    summary: str = "规划会",
    description: str | None = "议程：确认分工",
    days_ahead: float = 4,
    attendees: tuple[str, ...] = ("engineering.contact",),
    parent: str | None = None,
) -> str:
    """The requester creates a meeting (linked to the request unless it is its parent)."""
    fields: dict[str, Any] = {
        "project": {"key": "XD"},
        "issuetype": {"name": "会议"},
        "summary": summary,
        START_FIELD: jira_time(world, days_ahead),
        ATTENDEES_FIELD: [user(world, login) for login in attendees],
    }
    if description is not None:
        fields["description"] = description
    if parent is not None:
        fields["parent"] = {"key": parent}
    key = str(world.requester.create_issue(fields=fields).key)
    if request is not None and parent is None:
        link(world, key, request)
    return key


def hold_meeting(world: World, request: str, *, days_ahead: float = 4) -> str:
    """The requester schedules a planning meeting linked to the request, then it is held."""
    meeting = schedule_meeting(
        world,
        request,
        description="议程：\n1. 确认分工\n2. 确认时间表",
        days_ahead=days_ahead,
        attendees=("engineering.contact", "finance.contact"),
    )
    world.settle()
    world.requester.add_comment(
        meeting,
        "会议记录\n"
        "* 决议：采用方案 B\n"
        f"* 待办：{mention_of(world, 'engineering.contact')} {due(world, 14).isoformat()} 提交技术方案\n"
        f"* 待办：{mention_of(world, 'finance.contact')} {due(world, 20):%-m月%-d日} 完成预算复核\n"
        "* 待定：财务由谁签字？\n"
        f"记录人：{mention_of(world, 'pm')}",
    )
    world.requester.transition_issue(meeting, "已召开")
    world.settle()
    return meeting


def page_of(world: World, title: str) -> dict[str, Any]:
    found = world.sandbox.confluence.find_page("XD", title)  # type: ignore[union-attr]
    assert found is not None, title
    return found


def action_items(world: World, meeting: str) -> list[Any]:
    links = world.requester.issue(meeting, fields="issuelinks").fields.issuelinks
    keys = [
        end.key
        for link in links
        for end in (getattr(link, "inwardIssue", None), getattr(link, "outwardIssue", None))
        if end is not None
    ]
    found = [world.requester.issue(key) for key in keys]
    return [issue for issue in found if issue.fields.issuetype.name == "Task"]


@FLAVOURS
def test_a_held_meeting_is_published_with_its_actions_tracked(
    make_world: MakeWorld, flavour: str
) -> None:
    world, request = filed(make_world, flavour)
    meeting = hold_meeting(world, request)

    items = action_items(world, meeting)
    assert sorted(i.fields.assignee and person_of(world, i) for i in items) == sorted(
        [person(world, "engineering.contact"), person(world, "finance.contact")]
    )
    assert sorted(str(i.fields.duedate) for i in items) == [
        due(world, 14).isoformat(),
        due(world, 20).isoformat(),
    ]

    [title] = [
        p
        for p in world.sandbox.confluence.titles("XD")  # type: ignore[union-attr]
        if p.endswith("会议纪要") and "规划会" in p
    ]
    page = page_of(world, title)
    assert page["version"] == 1
    assert page["properties"]["crossdept.minutes"]["meeting"] == meeting
    # Seed 004: the request's departments read, its lead department (市场部) edits; crossdept,
    # the PM and the meeting's own people keep their access.
    access = world.sandbox.confluence.restrictions("XD", title)  # type: ignore[union-attr]
    assert access["read"]["groups"] == ["产品部", "市场部", "技术部", "财务部"]
    assert access["update"]["groups"] == ["市场部"]
    people = {"crossdept", "pm", "requester", "engineering.contact", "finance.contact"}
    assert set(access["read"]["people"]) == set(access["update"]["people"]) == people
    root = parse_storage(page["body"])
    tasks = root.findall(f"{AC}task-list/{AC}task")
    assert len(tasks) == 2
    linked = {a.text for t in tasks for a in t.iter("a")}
    assert linked == {i.key for i in items}
    users = [u for u in root.iter(f"{RI}user")]
    if flavour == "cloud":
        assert all(u.get(f"{RI}account-id") for u in users)
    else:
        assert all(u.get(f"{RI}userkey") for u in users)

    remote = world.requester.remote_links(meeting)
    assert [link.object.title for link in remote] == [title]
    assert remote[0].object.url.startswith(world.sandbox.confluence_url + "/")
    [published] = [
        c for c in world.crossdept_comments(meeting) if c.startswith("h4. 会议纪要已发布")
    ]
    for login in ("engineering.contact", "finance.contact", "engineering.head", "finance.head"):
        assert mention_of(world, login) in published

    # A re-run (the CLI, a redelivery) changes nothing: no new items, no new version, no comment.
    comments = len(world.crossdept_comments(meeting))
    outcome = publish_minutes(meeting, world.service.context_for("test"))
    assert outcome.created == [] and page_of(world, title)["version"] == 1
    assert len(world.crossdept_comments(meeting)) == comments

    # An edit of the record adds a decision: the same page gets a new version, items stay two.
    world.requester.add_comment(meeting, "决议：下周一启动开发")
    publish_minutes(meeting, world.service.context_for("test"))
    assert page_of(world, title)["version"] == 2
    assert "下周一启动开发" in page_of(world, title)["body"]
    assert len(action_items(world, meeting)) == 2
    assert_no_violations(world.sandbox)


def person_of(world: World, issue: Any) -> str:
    assignee = issue.fields.assignee
    return str(assignee.accountId if world.flavour.name == "cloud" else assignee.name)


def test_a_page_of_that_title_crossdept_did_not_make_is_not_overwritten(
    make_world: MakeWorld,
) -> None:
    world, request = filed(make_world, "cloud")
    meeting = schedule_meeting(world, request)
    day = (world.clock.now() + timedelta(days=4)).astimezone(SHANGHAI).date().isoformat()
    title = f"{day} 2026年Q1新品X推广 规划会 会议纪要"
    world.sandbox.confluence.add_page("XD", title, "<p>someone's own notes</p>")  # type: ignore[union-attr]
    world.requester.transition_issue(meeting, "已召开")
    world.settle()

    assert page_of(world, title)["body"] == "<p>someone's own notes</p>"
    assert any(c.startswith("h4. 会议纪要未发布") for c in world.crossdept_comments(meeting))
    assert_no_violations(world.sandbox)


def test_unfixable_action_lines_are_reported_once_by_line(make_world: MakeWorld) -> None:
    world, request = filed(make_world, "cloud")
    meeting = hold_meeting(world, request)
    world.requester.add_comment(meeting, "待办：下周五前准备物料")  # no owner, no date
    publish_minutes(meeting, world.service.context_for("test"))
    publish_minutes(meeting, world.service.context_for("test"))
    reports = [
        c
        for c in world.crossdept_comments(meeting)
        if c.startswith("h4. 会议纪要：以下待办未能登记")
    ]
    assert len(reports) == 1 and "待办：下周五前准备物料 — 没有负责人" in reports[0]
    assert len(action_items(world, meeting)) == 2

    # Another bad line, then both fixed: the same comment says so each time, never a second one.
    world.requester.add_comment(meeting, f"待办：{mention_of(world, 'pm')} 整理会议照片")
    publish_minutes(meeting, world.service.context_for("test"))
    [report] = [c for c in world.crossdept_comments(meeting) if "minutes-problems:" in c]
    assert "没有负责人" in report and "整理会议照片 — 没有可识别的完成日期" in report
    day = due(world, 9).isoformat()
    for comment in world.requester.comments(meeting):
        for words in ("准备物料", "整理会议照片"):
            if comment.body.startswith("待办：") and words in comment.body:
                comment.update(body=f"待办：{mention_of(world, 'pm')} {day} {words}")
    publish_minutes(meeting, world.service.context_for("test"))
    [report] = [c for c in world.crossdept_comments(meeting) if "minutes-problems:" in c]
    assert report.startswith("h4. 会议纪要：待办均已登记")
    assert len(action_items(world, meeting)) == 4
    assert_no_violations(world.sandbox)


def test_an_action_removed_from_the_record_is_reported_and_its_item_kept(
    make_world: MakeWorld,
) -> None:
    world, request = filed(make_world, "cloud")
    meeting = hold_meeting(world, request)
    [record] = [c for c in world.requester.comments(meeting) if "会议记录" in c.body]
    record.update(
        body=record.body.replace("* 待办：" + mention_of(world, "finance.contact"), "* 已取消：")
    )
    publish_minutes(meeting, world.service.context_for("test"))
    [removed] = [c for c in world.crossdept_comments(meeting) if "已从会议记录中移除" in c]
    assert "完成预算复核" in removed
    assert len(action_items(world, meeting)) == 2  # nothing deleted
    assert_no_violations(world.sandbox)


def test_minutes_not_published_in_time_become_an_ask_to_the_organiser(
    make_world: MakeWorld,
) -> None:
    world, request = filed(make_world, "cloud")
    meeting = schedule_meeting(world, request)
    world.settle()
    # A day after it started but within a day of its end (it lasts meetings.length, an hour):
    # not overdue yet; the guides count the 24 hours from the meeting's end.
    not_yet = world.clock.now() + timedelta(days=4, hours=24, minutes=30)
    world.service.run_periodic("sweep_minutes", clock=lambda: not_yet)
    world.settle()
    assert Asks(world.service.store).listing() == []
    later = world.clock.now() + timedelta(days=4, hours=25, minutes=1)
    world.service.run_periodic("sweep_minutes", clock=lambda: later)
    world.service.run_periodic("sweep_minutes", clock=lambda: later)
    world.settle()
    [ask] = Asks(world.service.store).listing()
    assert ask.issue == meeting and ask.asked == person(world, "requester")
    [overdue] = [c for c in world.crossdept_comments(meeting) if c.startswith("h4. 会议纪要逾期")]
    assert mention_of(world, "requester") in overdue

    # Publishing (here by `crossdept minutes`, nobody having touched the meeting) answers it.
    publish_minutes(meeting, world.service.context_for("test", clock=lambda: later))
    assert Asks(world.service.store).listing() == []
    [answered] = Asks(world.service.store).listing(state=None)
    assert answered.response_hours is not None and answered.response_hours >= 0
    assert_no_violations(world.sandbox)


@FLAVOURS
def test_a_meeting_not_marked_held_two_hours_after_its_end_is_said_once_to_its_organiser(
    make_world: MakeWorld, flavour: str
) -> None:
    world, request = filed(make_world, flavour)
    missed = schedule_meeting(world, request, summary="周例会")
    held = schedule_meeting(world, request, summary="评审会")
    moved = schedule_meeting(world, request, summary="复盘会")
    world.settle()
    world.requester.transition_issue(held, "已召开")
    world.requester.issue(moved).update(fields={START_FIELD: jira_time(world, 5)})
    world.settle()

    end = world.clock.now() + timedelta(days=4, hours=1)  # each lasts meetings.length, an hour
    for after in (timedelta(hours=1, minutes=59), timedelta(hours=2, minutes=1)):
        world.service.run_periodic("sweep_missed_meetings", clock=lambda a=after: end + a)
        world.service.run_periodic("sweep_missed_meetings", clock=lambda a=after: end + a)
        world.settle()
        if after < timedelta(hours=2):
            assert world.crossdept_comments(missed) == []  # within its grace

    [said] = [
        c for c in world.crossdept_comments(missed) if c.startswith("h4. 会议尚未标记为已召开")
    ]
    assert mention_of(world, "requester") in said and "改期（修改会议时间）或取消" in said
    assert not any("会议尚未标记" in c for c in world.crossdept_comments(held))
    assert not any("会议尚未标记" in c for c in world.crossdept_comments(moved))  # a day later
    assert_no_violations(world.sandbox)


def test_short_notice_and_a_missing_agenda_get_one_comment_each(make_world: MakeWorld) -> None:
    world = make_world()
    meeting = schedule_meeting(world, None, summary="临时碰头会", description=None, days_ahead=1)
    world.settle()
    world.requester.issue(meeting).update(fields={"summary": "临时碰头会（改）"})
    world.settle()
    lines = [c.splitlines()[0] for c in world.crossdept_comments(meeting)]
    assert sorted(lines) == ["h4. 会议缺少议程", "h4. 会议通知不足 3 天"]
    assert_no_violations(world.sandbox)


@FLAVOURS
def test_a_lost_answer_to_the_bulk_create_adopts_the_items_instead_of_doubling_them(
    make_world: MakeWorld, flavour: str
) -> None:
    world, request = filed(make_world, flavour)
    original = world.sandbox.jira.handle
    lost = []

    def lose_the_first_action_answer(request):  # type: ignore[no-untyped-def]
        response = original(request)
        body = request.body.decode("utf-8", "replace")
        if request.path.endswith("/issue/bulk") and "minutes:" in body and not lost:
            lost.append(request.path)
            raise requests.ConnectionError("connection reset after the issues were created")
        return response

    world.sandbox.jira.handle = lose_the_first_action_answer  # type: ignore[method-assign]
    meeting = hold_meeting(world, request)  # settles: the job is retried after the index settles
    world.sandbox.jira.handle = original  # type: ignore[method-assign]

    assert lost, "the bulk create of the actions was not reached"
    assert len(action_items(world, meeting)) == 2
    marks = [
        issue.properties.get("crossdept.item", {}).get("ref", "")
        for issue in world.sandbox.jira.issues.values()
    ]
    assert len([ref for ref in marks if ref.startswith(f"minutes:{meeting}:")]) == 2
    assert_no_violations(world.sandbox)


@contextmanager
def confluence_refusing_pages(world: World, status: int, times: int) -> Iterator[list[str]]:
    """Confluence answers `status` to the next `times` page creations; yields those it refused."""
    confluence = world.sandbox.confluence
    assert confluence is not None
    original = confluence.handle
    refused: list[str] = []

    def refusing(request):  # type: ignore[no-untyped-def]
        if request.method == "POST" and request.path.endswith("/content") and len(refused) < times:
            refused.append(request.path)
            message = {403: "Not permitted to create content", 503: "Service Unavailable"}[status]
            return SandboxResponse(status, {"statusCode": status, "message": message})
        return original(request)

    confluence.handle = refusing  # type: ignore[method-assign]
    try:
        yield refused
    finally:
        confluence.handle = original  # type: ignore[method-assign]


def test_confluence_failing_for_a_while_delays_the_page_but_loses_nothing(
    make_world: MakeWorld,
) -> None:
    world, request = filed(make_world, "cloud")
    with confluence_refusing_pages(world, 503, times=2) as failures:
        meeting = hold_meeting(world, request)

    assert len(failures) == 2
    titles = world.sandbox.confluence.titles("XD")  # type: ignore[union-attr]
    pages = [t for t in titles if t.endswith("会议纪要") and "规划会" in t]
    assert len(pages) == 1 and page_of(world, pages[0])["version"] == 1
    assert len(action_items(world, meeting)) == 2
    assert_no_violations(world.sandbox)


def test_the_ownership_rule_holds_action_items_like_any_other(make_world: MakeWorld) -> None:
    world, request = filed(make_world, "cloud")
    saturday = due(world, 7)
    while saturday.weekday() != 5:
        saturday += timedelta(days=1)
    meeting = schedule_meeting(world, request, summary="评审会", description="议程：方案评审")
    world.requester.add_comment(
        meeting, f"待办：{mention_of(world, 'engineering.contact')} {saturday.isoformat()} 出方案"
    )
    world.requester.transition_issue(meeting, "已召开")
    world.settle()

    [item] = action_items(world, meeting)
    [comment] = world.crossdept_comments(item.key)
    assert comment.startswith(f"h4. 协作规则提醒：{item.key}")
    assert f"截止日期 {saturday.isoformat()} 不是工作日" in comment
    assert_no_violations(world.sandbox)


@FLAVOURS
def test_a_confluence_refusal_is_said_on_the_meeting_and_the_job_kept(
    make_world: MakeWorld, flavour: str
) -> None:
    world, request = filed(make_world, flavour)
    with confluence_refusing_pages(world, 403, times=100):
        meeting = hold_meeting(world, request)

    [refused] = [c for c in world.crossdept_comments(meeting) if c.startswith("h4. 会议纪要未发布")]
    assert "Cannot create a page in space 'XD'" in refused  # what Confluence (via the client) said
    failed = [job for job in world.jobs() if job.state.value == "failed"]
    assert [job.issue for job in failed] == [meeting]  # kept: `crossdept jobs retry` runs it again
    assert len(action_items(world, meeting)) == 2  # the actions are tracked all the same

    publish_minutes(meeting, world.service.context_for("test"))  # Confluence takes them now
    blocked = [c for c in world.crossdept_comments(meeting) if "minutes-blocked:" in c]
    [closed] = blocked  # the same comment, closed: it no longer says the minutes are missing
    assert closed.startswith("h4. 会议纪要已发布") and "Cannot create" not in closed
    assert_no_violations(world.sandbox)


def test_a_meeting_created_under_the_request_needs_no_link(make_world: MakeWorld) -> None:
    world, request = filed(make_world, "cloud")
    meeting = schedule_meeting(
        world, request, summary="周例会", description="议程：进度", parent=request
    )
    world.requester.add_comment(
        meeting,
        f"待办：{mention_of(world, 'engineering.contact')} {due(world, 9).isoformat()} 更新进度",
    )
    world.requester.transition_issue(meeting, "已召开")
    world.settle()

    [item] = action_items(world, meeting)
    assert item.fields.parent.key == request  # no epic in the shipped tree: under the request
    mark = world.requester.issue_property(item.key, "crossdept.item").value
    assert mark.request == request and mark.ref.startswith(f"minutes:{meeting}:")
    assert_no_violations(world.sandbox)


def test_minutes_held_by_a_dead_worker_wait_for_its_lease_without_using_up_attempts(
    make_world: MakeWorld,
) -> None:
    from plugin.rules.minutes.minutes import LEASE_SECONDS
    from plugin.spine.leases import Leases

    world, request = filed(make_world, "cloud")
    meeting = schedule_meeting(world, request, attendees=("engineering.contact",))
    world.settle()
    # A worker took the meeting and died: its lease runs for another minute.
    Leases(world.service.store).take(
        f"minutes:{meeting}", "dead", world.clock.time(), LEASE_SECONDS
    )
    world.requester.add_comment(meeting, f"* 决议：采用方案 B\n记录人：{mention_of(world, 'pm')}")
    world.requester.transition_issue(meeting, "已召开")
    world.settle(rounds=60)

    held = [
        job for job in world.jobs() if job.issue == meeting and job.event == "jira:issue_updated"
    ]
    assert held and {(job.state.value, job.attempts) for job in held} == {("done", 1)}
    titles = world.sandbox.confluence.titles("XD")  # type: ignore[union-attr]
    assert len([t for t in titles if t.endswith("会议纪要") and "规划会" in t]) == 1


def test_restrictions_confluence_refuses_leave_the_minutes_published_and_are_said_once(
    make_world: MakeWorld, flavour: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plugin.atlassian.confluence_gateway import ConfluenceGateway
    from plugin.spine.errors import RefusedError

    def refuse(self: ConfluenceGateway, page_id: str, restriction: object) -> None:
        # A Data Center before 9.0 has no restriction resource (405), say.
        raise RefusedError("Confluence restrict page: HTTP 405", 405)

    monkeypatch.setattr(ConfluenceGateway, "restrict_page", refuse)
    world, request = filed(make_world, flavour)
    meeting = hold_meeting(world, request)
    publish_minutes(meeting, world.service.context_for("test"))  # a re-run says nothing new

    [title] = [t for t in world.sandbox.confluence.titles("XD") if "规划会" in t]  # type: ignore[union-attr]
    assert page_of(world, title)["version"] == 1
    assert world.sandbox.confluence.restrictions("XD", title) == {}  # type: ignore[union-attr]
    [said] = [c for c in world.crossdept_comments(meeting) if "权限未能设置" in c]
    assert "HTTP 405" in said and "confluence.groups" in said
    assert any(c.startswith("h4. 会议纪要已发布") for c in world.crossdept_comments(meeting))
