"""People break and fix ownership rules in Jira; crossdept answers once each, in the issue itself."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from plugin.spine.deliveries import DeliveryState
from sandbox.app import assert_no_violations
from tests.e2e.conftest import MakeWorld, World

FLAVOURS = pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
LABEL = "crossdept-违规"


def person(world: World, login: str) -> dict[str, str]:
    """How a user is written in an edit: Cloud by accountId, Data Center by username."""
    user = world.sandbox.jira.users[login]
    return {"accountId": user.account_id} if world.flavour.name == "cloud" else {"name": login}


def built(make_world: MakeWorld, flavour: str) -> tuple[World, dict[str, str]]:
    """A world whose requester filed a request and got its tree: ref -> the item's key."""
    world = make_world(flavour)
    key = world.file_request()
    world.settle()
    return world, world.item_keys(key)


def labels(world: World, key: str) -> list[str]:
    return list(world.requester.issue(key, fields="labels").fields.labels or [])


@FLAVOURS
def test_each_broken_rule_is_said_once_in_one_comment_and_closed_when_fixed(
    make_world: MakeWorld, flavour: str
) -> None:
    world, items = built(make_world, flavour)
    signoff, stage = items["s1.d2.技术部"], items["s1"]

    world.requester.issue(signoff).update(fields={"assignee": None})
    world.settle()
    [comment] = world.crossdept_comments(signoff)
    assert "没有负责人" in comment
    assert labels(world, signoff) == [LABEL]

    world.requester.issue(signoff).update(fields={"assignee": person(world, "finance.contact")})
    world.settle()
    [comment] = world.crossdept_comments(signoff)  # edited, not a second comment
    assert "负责人不属于技术部" in comment

    world.requester.issue(signoff).update(fields={"duedate": "2026-04-06"})  # 清明节, after s1
    world.settle()
    [comment] = world.crossdept_comments(signoff)
    assert "不是工作日" in comment and f"晚于上级任务 {stage}" in comment

    world.requester.issue(signoff).update(
        fields={"assignee": person(world, "engineering.head"), "duedate": "2026-03-04"}
    )
    world.settle()
    [comment] = world.crossdept_comments(signoff)
    assert comment.startswith(f"h4. 已符合协作规则：{signoff}")
    assert labels(world, signoff) == []
    assert world.crossdept_comments(stage) == []  # nothing was wrong with the stage
    assert {job.state.value for job in world.jobs()} == {"done"}
    assert_no_violations(world.sandbox)


@FLAVOURS
def test_moving_a_stage_earlier_tells_each_late_child_once(
    make_world: MakeWorld, flavour: str
) -> None:
    world, items = built(make_world, flavour)

    world.requester.issue(items["s1"]).update(fields={"duedate": "2026-03-03"})
    world.settle()

    def mentioned(user: dict[str, str]) -> str:
        return f"[~accountid:{user['accountId']}]" if "accountId" in user else f"[~{user['name']}]"

    late = sorted(ref for ref, item in items.items() if world.crossdept_comments(item))
    assert late == sorted(ref for ref in items if ref.startswith("s1.d2."))
    mover = person(world, "requester")
    for ref in late:
        [comment] = world.crossdept_comments(items[ref])
        assert "晚于上级任务" in comment
        assignee = world.requester.issue(items[ref], fields="assignee").fields.assignee
        owner = {"accountId": assignee.accountId} if flavour == "cloud" else {"name": assignee.name}
        # Who moved the stage, and whose item it is: both hear of it.
        assert mentioned(mover) in comment and mentioned(owner) in comment
    assert_no_violations(world.sandbox)


@FLAVOURS
def test_the_sweep_marks_late_items_in_jira_and_a_second_sweep_writes_nothing(
    make_world: MakeWorld, flavour: str
) -> None:
    world, items = built(make_world, flavour)
    first = items["s1.d1"]  # due 2026-03-03, the request having started on 2026-03-02

    wednesday = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)
    world.service.run_periodic("sweep_delays", clock=lambda: wednesday)
    world.settle()  # crossdept's own label edits and comments come back as webhooks: ignored

    assert labels(world, first) == ["延期"]
    [notice] = world.crossdept_comments(first)
    assert notice.startswith(f"h4. 延期超过 2 个工作日：{first}")
    calls = world.crossdept_calls()
    world.service.run_periodic("sweep_delays", clock=lambda: wednesday)
    assert world.crossdept_calls() == calls + 1  # one search, no write
    assert world.sandbox.outbox.pending == []

    world.requester.transition_issue(first, "进行中")
    world.requester.transition_issue(first, "已完成")
    world.service.run_periodic("sweep_delays", clock=lambda: wednesday)
    assert labels(world, first) == []
    assert_no_violations(world.sandbox)


def status(world: World, key: str) -> str:
    return str(world.requester.issue(key, fields="status").fields.status.name)


@FLAVOURS
def test_starting_stage_3_while_stage_2_is_open_is_moved_back_once_then_only_warned(
    make_world: MakeWorld, flavour: str
) -> None:
    world, items = built(make_world, flavour)
    stage3 = items["s3"]

    world.requester.transition_issue(stage3, "进行中")
    world.settle()

    assert status(world, stage3) == "未开始"  # moved back to where it came from
    [comment] = world.crossdept_comments(stage3)
    assert "crossdept 已把它移回“未开始”" in comment
    assert f"阶段1：{items['s1']}" in comment and f"阶段2：{items['s2']}" in comment

    world.requester.transition_issue(stage3, "进行中")  # the same person insists
    world.settle()
    assert status(world, stage3) == "进行中"  # never fight a person
    [comment] = world.crossdept_comments(stage3)
    assert "crossdept 不再把它移回" in comment
    assert_no_violations(world.sandbox)


def test_a_deliverable_of_a_later_stage_is_held_too_and_stage_1_is_free(
    make_world: MakeWorld,
) -> None:
    world, items = built(make_world, "cloud")

    world.requester.transition_issue(items["s1.d1"], "进行中")
    world.requester.transition_issue(items["s2.d1.技术部"], "进行中")
    world.settle()

    assert status(world, items["s1.d1"]) == "进行中"
    assert world.crossdept_comments(items["s1.d1"]) == []
    assert status(world, items["s2.d1.技术部"]) == "未开始"
    assert_no_violations(world.sandbox)


@FLAVOURS
def test_the_retrospective_is_due_five_working_days_after_the_acceptance_is_actually_done(
    make_world: MakeWorld, flavour: str
) -> None:
    world, items = built(make_world, flavour)
    for number in range(1, 6):  # the stages in order, as the stage gate wants
        world.requester.transition_issue(items[f"s{number}"], "进行中")
        world.requester.transition_issue(items[f"s{number}"], "已完成")
        world.settle()

    calendar = world.service.rules.work_calendar
    done_day = world.clock.now().astimezone(world.service.rules.tz).date()
    due = calendar.add_working_days(done_day, 5)
    retrospective = sorted(ref for ref in items if ref == "s6" or ref.startswith("s6."))
    assert len(retrospective) > 1
    for ref in retrospective:
        found = world.requester.issue(items[ref], fields="duedate").fields.duedate
        assert found == due.isoformat(), ref
    [said] = world.crossdept_comments(items["s6"])
    assert said.startswith(f"h4. 截止日期已按实际完成日重新计算：{items['s6']}")
    assert (
        f"已于 {done_day.isoformat()} 实际完成" in said
        and f"截止日期已设为 {due.isoformat()}" in said
    )

    # The same completion told again (Jira's retry) changes nothing and says nothing more.
    world.requester.transition_issue(items["s5"], "进行中")
    world.requester.transition_issue(items["s5"], "已完成")
    world.settle()
    assert len(world.crossdept_comments(items["s6"])) == 1
    assert_no_violations(world.sandbox)


@FLAVOURS
def test_an_acceptance_finding_gives_its_owner_three_working_days_and_review_comments_too(
    make_world: MakeWorld, flavour: str
) -> None:
    world, items = built(make_world, flavour)
    rules = world.service.rules
    item = items["s5.d1.技术部"]  # the engineering self-check, found wanting at acceptance
    world.requester.issue(item).update(fields={"labels": ["验收不通过"]})
    world.settle()

    day = world.clock.now().astimezone(rules.tz).date()
    due = rules.work_calendar.add_working_days(day, 3).isoformat()
    assert world.requester.issue(item, fields="duedate").fields.duedate == due
    # Its stage would have ended first: it moves to the same day, so no child is after it.
    assert world.requester.issue(items["s5"], fields="duedate").fields.duedate == due
    [said] = world.crossdept_comments(item)
    assert said.startswith(f"h4. 验收不通过，须在 3 个工作日内整改：{item}")
    owner = "engineering.contact"
    assert (world.person_id(owner) in said) and f"截止日期已设为 {due}" in said
    assert f"所属阶段 {items['s5']} 原定 2026-03-30 截止" in said

    # Another edit, the label still there: the date is set, nothing more is said.
    world.requester.issue(item).update(fields={"labels": ["验收不通过", "复查"]})
    world.settle()
    assert len(world.crossdept_comments(item)) == 1

    # Rework is for acceptance (stage 5) only; review comments on any document are a revision.
    plan = items["s2.d2"]
    world.requester.issue(plan).update(fields={"labels": ["验收不通过"]})
    world.settle()
    assert world.crossdept_comments(plan) == []
    world.requester.issue(plan).update(fields={"labels": ["验收不通过", "待修订"]})
    world.settle()
    [revision] = world.crossdept_comments(plan)
    assert revision.startswith(f"h4. 收到评审意见，须在 3 个工作日内修订：{plan}")
    assert world.requester.issue(plan, fields="duedate").fields.duedate == due
    assert_no_violations(world.sandbox)


def test_a_worker_killed_after_the_new_date_still_says_it_once_with_the_stage_moved(
    make_world: MakeWorld, flavour: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plugin.process.notices import Notices

    world, items = built(make_world, flavour)
    item = items["s5.d1.技术部"]
    comment_once = Notices.comment_once
    killed: list[str] = []

    def killed_once(self: Notices, jira: object, issue: str, *args: object) -> bool:
        if not killed:
            killed.append(issue)
            raise RuntimeError("killed after the dates were set, before the comment")
        return comment_once(self, jira, issue, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Notices, "comment_once", killed_once)
    world.requester.issue(item).update(fields={"labels": ["验收不通过"]})
    world.settle()
    [failed] = [job for job in world.jobs() if job.issue == item]
    assert failed.state == DeliveryState.FAILED
    # Run again, as after a killed worker's claim runs out or `crossdept jobs retry`.
    assert world.service.deliveries.requeue(failed.id)
    world.service.queue.enqueue_delivery(failed.id)
    world.settle()

    assert killed == [item]
    [said] = world.crossdept_comments(item)
    assert f"所属阶段 {items['s5']} 原定 2026-03-30 截止" in said  # the move is still said
    assert_no_violations(world.sandbox)
