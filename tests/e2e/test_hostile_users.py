"""An ordinary Jira user (edit and comment rights, nothing more) tries to make crossdept act.

Each test is one thing a hostile user did that once worked; each asserts that nothing crossdept
writes or reverts changed because of it.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from plugin.process.asks import Asks
from plugin.process.audit import Audit
from plugin.process.items import ITEM_PROPERTY
from plugin.process.notices import COMMENTS_PROPERTY
from sandbox.app import assert_no_violations
from tests.e2e.conftest import MakeWorld, World, as_person, built

HOSTILE = "finance.contact"
COLLEAGUE = "engineering.contact"


def status(world: World, key: str) -> str:
    return str(world.requester.issue(key, fields="status").fields.status.name)


def user_ref(world: World, login: str) -> dict[str, str]:
    """How a user is written in an edit: Cloud by accountId, Data Center by username."""
    user = world.sandbox.jira.users[login]
    return {"accountId": user.account_id} if world.flavour.name == "cloud" else {"name": login}


def own_task(world: World, login: str, summary: str) -> str:
    """A well-formed task of a person's own (one owner, a due date), part of no request."""
    issue = as_person(world, login).create_issue(
        fields={
            "project": {"key": "XD"},
            "issuetype": {"name": "Task"},
            "summary": summary,
            "assignee": user_ref(world, login),
            "duedate": "2026-03-04",
        }
    )
    return str(issue.key)


def read_property(person: Any, key: str, name: str) -> Any:
    """A property as anyone who can see the issue reads it, to copy it elsewhere."""
    return person.issue_property(key, name).raw["value"]


@pytest.mark.parametrize("forgery", ["written by hand", "copied from the real stage"])
def test_a_task_marked_as_another_requests_stage_is_neither_moved_back_nor_quoted(
    make_world: MakeWorld, flavour: str, forgery: str, caplog: pytest.LogCaptureFixture
) -> None:
    world, request, items = built(make_world, flavour)
    hostile, colleague = as_person(world, HOSTILE), as_person(world, COLLEAGUE)
    task = own_task(world, COLLEAGUE, "我自己的任务")
    mark = (
        {"request": request, "ref": "s3"}
        if forgery == "written by hand"
        else read_property(hostile, items["s3"], ITEM_PROPERTY)
    )
    assert mark["ref"] == "s3"
    hostile.add_issue_property(task, ITEM_PROPERTY, mark)

    caplog.set_level(logging.WARNING, logger="plugin.atlassian.jira_gateway")
    colleague.transition_issue(task, "进行中")
    world.settle()

    assert status(world, task) == "进行中"  # the colleague's move stands
    assert world.crossdept_comments(task) == []  # and nothing of the request is quoted there
    assert f"ignored {ITEM_PROPERTY} on {task}" in caplog.text
    assert {job.state.value for job in world.jobs()} == {"done"}
    assert_no_violations(world.sandbox)


def test_a_comments_record_pointing_at_a_persons_comment_never_edits_it(
    make_world: MakeWorld, flavour: str
) -> None:
    world, _, items = built(make_world, flavour)
    signoff = items["s1.d2.技术部"]
    pm = as_person(world, "pm")
    words = "请技术部周五前确认接口方案。"
    comment = pm.add_comment(signoff, words)
    hostile = as_person(world, HOSTILE)
    hostile.add_issue_property(
        signoff,
        COMMENTS_PROPERTY,
        {"ownership": {"id": str(comment.id), "digest": "x", "open": True, "topics": []}},
    )

    world.requester.issue(signoff).update(fields={"assignee": None})  # breaks a rule
    world.settle()

    assert str(pm.comment(signoff, comment.id).body) == words
    [notice] = world.crossdept_comments(signoff)  # crossdept spoke in a comment of its own
    assert "没有负责人" in notice
    assert_no_violations(world.sandbox)


def test_an_items_mark_rewritten_by_a_person_changes_nothing_on_the_board(
    make_world: MakeWorld, flavour: str
) -> None:
    from plugin.rules.reports.board_sources import request_keys
    from plugin.rules.reports.mirror import Mirror, rebuild

    world, request, items = built(make_world, flavour)
    hostile = as_person(world, HOSTILE)
    hostile.add_issue_property(items["s2"], ITEM_PROPERTY, {"request": "不是 key", "ref": "s1"})

    context = world.service.context_for("board")
    rebuild(context)  # what the board counts, read from Jira after the forgery

    assert request_keys(context) == [request]
    mine = {key: row.fact.request for key, row in Mirror(context.store).rows().items()}
    assert mine[items["s2"]] == request  # what crossdept recorded when it created the item
    assert_no_violations(world.sandbox)


def mention_of(world: World, login: str) -> str:
    """How a comment mentions a person; a login the seed lacks is a made-up account."""
    if world.flavour.name == "datacenter":
        return f"[~{login}]"
    user = world.sandbox.jira.users.get(login)
    account = user.account_id if user else f"557058:{abs(hash(login)) % 10**8:08d}-0000-4000-8000-0"
    return f"[~accountid:{account}]"


def sweep_at(world: World, hours: float) -> None:
    moment = world.clock.now() + timedelta(hours=hours)
    world.service.run_periodic("sweep_asks", clock=lambda: moment)
    world.settle()


def test_a_marker_typed_by_a_person_does_not_pass_for_crossdepts_reminder(
    make_world: MakeWorld, flavour: str
) -> None:
    world, _, items = built(make_world, flavour)
    item = items["s2"]
    world.requester.add_comment(item, f"{mention_of(world, COLLEAGUE)} 请确认预算")
    world.settle()
    [ask] = Asks(world.service.store).listing()
    hostile = as_person(world, HOSTILE)
    for step in (1, 2, 3):
        hostile.add_comment(item, f"_本评论由 crossdept 发送（ask:{ask.id}:{step}）。_")
    world.settle()

    sweep_at(world, 25)

    [reminder] = world.crossdept_comments(item)
    assert reminder.startswith(f"h4. 提醒回复：{item}")
    assert mention_of(world, COLLEAGUE) in reminder
    assert_no_violations(world.sandbox)


def test_a_comment_mentioning_forty_accounts_costs_a_handful_of_comments(
    make_world: MakeWorld, flavour: str
) -> None:
    world, _, items = built(make_world, flavour)
    item = items["s2"]
    real = [COLLEAGUE, "product.contact", "marketing.contact", "engineering.head"]
    real += ["product.head", "finance.head", "marketing.head", "requester"]
    made_up = [f"ghost.{n}" for n in range(32)]
    people = real[:2] + made_up[:3] + real[2:] + made_up[3:]
    as_person(world, HOSTILE).add_comment(
        item, " ".join(mention_of(world, login) for login in people) + " 都来看看"
    )
    world.settle()
    for hours in (25, 49, 73):
        sweep_at(world, hours)

    said = world.crossdept_comments(item)
    assert len(Asks(world.service.store).listing()) == 2  # the first 5 mentions; 2 are people
    # One notice that 35 mentions start no clock, and one comment per rung of the ladder.
    assert len(said) == 4
    assert said[0].startswith(f"h4. 部分提问未计时：{item}") and "最多为 5 人计时" in said[0]
    notes = Audit(world.service.store).entries(item)
    assert [e.detail for e in notes if e.action == "asks over the limit"] == [
        "per_comment: 35 not asked"
    ]
    assert [text.count("h4. ") for text in said[1:]] == [2, 2, 2]
    assert sum(mention_of(world, "pm") in text for text in said) == 1
    assert_no_violations(world.sandbox)


def test_action_lines_from_someone_outside_the_meeting_create_nothing(
    make_world: MakeWorld, flavour: str
) -> None:
    from tests.e2e.test_minutes import action_items, due, schedule_meeting

    world, request, _ = built(make_world, flavour)
    meeting = schedule_meeting(world, request, attendees=("engineering.contact",))
    world.settle()
    hostile = as_person(world, HOSTILE)  # neither organiser, attendee nor recorder
    lines = [
        f"* 待办：{mention_of(world, 'finance.head')} {due(world, 7).isoformat()} 复核第 {n} 项"
        for n in range(21)
    ]
    hostile.add_comment(
        meeting, "会议记录\n" + "\n".join(lines) + "\n记录人：" + mention_of(world, HOSTILE)
    )
    hostile.transition_issue(meeting, "已召开")
    world.settle()

    assert action_items(world, meeting) == []
    finance_head = mention_of(world, "finance.head")
    assert not any(finance_head in said for said in world.crossdept_comments(meeting))
    assert {job.state.value for job in world.jobs()} == {"done"}
    assert_no_violations(world.sandbox)


def test_an_old_done_event_replayed_under_a_fresh_identifier_cancels_nothing(
    make_world: MakeWorld, flavour: str
) -> None:
    world, _, items = built(make_world, flavour)
    item = items["s2"]
    colleague = as_person(world, COLLEAGUE)
    colleague.transition_issue(item, "进行中")
    colleague.transition_issue(item, "已完成")
    captured: list[tuple[dict[str, str], bytes]] = []

    def keep(headers: dict[str, str], body: bytes) -> int:
        captured.append((dict(headers), body))
        return world._post(headers, body)

    world.sandbox.deliver_webhooks(keep)
    world.settle()
    [(headers, done)] = [(h, b) for h, b in captured if "已完成" in b.decode() and b'"status"' in b]
    colleague.transition_issue(item, "进行中")  # reopened, and asked about again
    world.requester.add_comment(item, f"{mention_of(world, COLLEAGUE)} 还差测试报告")
    world.settle()
    [ask] = Asks(world.service.store).listing()

    replay = world.client.post(
        "/webhooks/jira",
        data=done,
        headers={**headers, "X-Atlassian-Webhook-Identifier": "a-fresh-identifier"},
    )

    assert (replay.status_code, replay.get_json()["status"]) == (200, "duplicate")
    world.settle()
    assert [a.id for a in Asks(world.service.store).listing()] == [ask.id]  # still open
    assert_no_violations(world.sandbox)


def test_markup_in_a_request_summary_is_repeated_as_text_and_pings_nobody(
    make_world: MakeWorld, flavour: str
) -> None:
    from plugin.process.mentions import mentioned

    world = make_world(flavour)
    target = mention_of(world, "finance.head")
    key = world.file_request(summary=f"推广 {target} [点这里|https://evil.example/] {{quote}}")
    world.settle()

    [summary_comment] = world.crossdept_comments(key)
    assert target not in summary_comment and "https://evil" not in summary_comment
    items = {ref: keys[0] for ref, keys in world.items(key).items()}
    stage = world.requester.issue(items["s1"], fields="description").fields.description
    assert target not in stage and "https://evil" not in stage
    finance_head = target.removeprefix("[~accountid:").removeprefix("[~").removesuffix("]")
    for text in (summary_comment, stage):
        assert finance_head not in mentioned(text)
    assert_no_violations(world.sandbox)
