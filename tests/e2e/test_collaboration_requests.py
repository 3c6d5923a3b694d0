"""A collaboration request, end to end: filed in Jira, delivered as a webhook, built into a tree.

Every test drives crossdept only through Jira's side of the wire (requests the requester sends,
webhooks the sandbox signs and delivers) and checks what Jira holds afterwards.
"""

from __future__ import annotations

import pytest

from plugin.composition import load_rules
from plugin.spine.deliveries import DeliveryState
from plugin.spine.worker import Outcome
from sandbox.app import assert_no_violations

from .conftest import CONFIG, REQUESTING, MakeWorld, World

FLAVOURS = pytest.mark.parametrize("flavour", ["cloud", "datacenter"])


def each_department_items() -> int:
    """How many sub-tasks one participating department adds under the shipped rules."""
    rules = load_rules(CONFIG / "rules.yaml")
    return sum(d.each_department for stage in rules.stages for d in stage.deliverables)


def assert_one_tree(world: World, key: str, size: int) -> None:
    """Exactly one issue per planned item, and crossdept's record lists exactly those."""
    items = world.items(key)
    duplicated = {ref: keys for ref, keys in items.items() if len(keys) > 1}
    assert duplicated == {}
    assert len(items) == size
    record = world.requester.issue_property(key, "crossdept.tree").raw["value"]["items"]
    assert record == {ref: keys[0] for ref, keys in items.items()}


@FLAVOURS
def test_a_filed_request_gets_its_full_tree(make_world: MakeWorld, flavour: str) -> None:
    world = make_world(flavour)
    key = world.file_request()

    answers = world.deliver()
    assert [(a.event, a.issue, a.status, a.outcome) for a in answers] == [
        ("jira:issue_created", key, 202, "accepted")
    ]
    world.settle()

    assert_one_tree(world, key, world.full_tree)
    tree = world.tree(key)
    stage = tree["s1"]
    assert stage["summary"] == f"【{key} 2026年Q1新品X推广】阶段1 需求发起与目标对齐"
    assert stage["duedate"] == "2026-03-05"
    assert stage["assignee"]["displayName"] == "Example Requester (需求提出人, 市场部)"
    signoff = tree["s1.d2.技术部"]
    assert signoff["assignee"]["displayName"] == "Example Engineering Head (技术部负责人)"
    assert signoff["parent"]["key"] == world.items(key)["s1"][0]
    for ref, fields in tree.items():
        assert fields["assignee"], ref
        assert fields["duedate"], ref
    (job,) = world.jobs()
    assert (job.event, job.issue, job.state, job.attempts) == (
        "jira:issue_created",
        key,
        DeliveryState.DONE,
        1,
    )
    assert_no_violations(world.sandbox)


@FLAVOURS
def test_webhooks_for_crossdepts_own_changes_are_dropped_at_the_door(
    make_world: MakeWorld, flavour: str
) -> None:
    world = make_world(flavour, own_account=True)
    key = world.file_request()
    world.settle()

    own = [a for a in world.answers if a.issue != key]
    assert len(own) >= world.full_tree  # one jira:issue_created per created issue, at least
    assert {(a.status, a.outcome) for a in own} == {(200, "ignored")}
    assert [job.issue for job in world.jobs()] == [key]  # nothing queued for them
    assert world.sandbox.outbox.pending == []  # and nothing new came of it: no loop
    assert_no_violations(world.sandbox)


def test_without_the_account_setting_the_worker_skips_its_own_events(
    make_world: MakeWorld,
) -> None:
    world = make_world(own_account=False)
    key = world.file_request()
    world.deliver()
    world.drain()  # builds the tree
    calls_after_tree = world.crossdept_calls()
    own = world.deliver()

    assert len(own) >= world.full_tree and {a.outcome for a in own} == {"accepted"}
    assert world.drain() == len(own)
    # Every one of them, the summary comment's comment_created included, is skipped as own.
    assert any(a.event == "comment_created" for a in own)
    assert world.outcomes.count(Outcome.SKIPPED) == len(own)
    assert world.outcomes.count(Outcome.DONE) == 1
    # Learnt once from GET /myself on the first job; skipping costs no Jira call at all.
    assert world.crossdept_calls() == calls_after_tree
    assert world.deliver() == []  # skipping wrote nothing to Jira, so Jira has nothing to report
    assert_one_tree(world, key, world.full_tree)
    assert_no_violations(world.sandbox)


def test_a_duplicated_delivery_is_answered_duplicate_and_processed_once(
    make_world: MakeWorld,
) -> None:
    world = make_world()
    world.sandbox.duplicate_next(1)  # Jira lost our acknowledgement and sends it again
    key = world.file_request()

    answers = world.deliver()
    assert [(a.retry, a.status, a.outcome) for a in answers] == [
        (0, 202, "accepted"),
        (1, 200, "duplicate"),
    ]
    assert answers[0].identifier == answers[1].identifier
    world.settle()

    assert len(world.jobs()) == 1
    assert world.outcomes == [Outcome.DONE]
    assert_one_tree(world, key, world.full_tree)
    assert_no_violations(world.sandbox)


def test_an_edit_delivered_before_the_creation_still_ends_in_one_full_tree(
    make_world: MakeWorld,
) -> None:
    world = make_world()
    key = world.file_request(("技术部", "产品部"))
    world.set_departments(key, ("技术部", "产品部", "财务部"))

    answers = world.deliver(reorder=True)
    assert [a.event for a in answers] == ["jira:issue_updated", "jira:issue_created"]
    world.settle()

    # The tree is planned from the request as Jira holds it now, whatever order events came in.
    assert_one_tree(world, key, world.full_tree)
    assert {job.state for job in world.jobs()} == {DeliveryState.DONE}
    assert_no_violations(world.sandbox)


@FLAVOURS
def test_a_department_added_later_adds_only_its_items(make_world: MakeWorld, flavour: str) -> None:
    world = make_world(flavour)
    key = world.file_request(("技术部", "产品部"))
    world.settle()
    before = world.items(key)
    assert len(before) == world.full_tree - each_department_items()

    world.set_departments(key, ("技术部", "产品部", "财务部"))
    world.settle()

    after = world.items(key)
    added = {ref for ref in after if ref not in before}
    assert len(added) == each_department_items()
    assert all(ref.endswith(".财务部") for ref in added)
    assert {ref: after[ref] for ref in before} == before  # nothing recreated, nothing moved
    assert_one_tree(world, key, world.full_tree)
    tree = world.tree(key)
    assert (
        tree["s2.d1.财务部"]["assignee"]["displayName"] == "Example Finance Contact (财务部接口人)"
    )
    assert_no_violations(world.sandbox)


@FLAVOURS
def test_the_decision_makers_named_on_a_request_approve_the_plan_and_accept_jointly(
    make_world: MakeWorld, flavour: str
) -> None:
    world = make_world(flavour)
    key = world.file_request(deciders=("director",))
    world.settle()
    director, coo = world.person_id("director"), world.person_id("coo")
    tree = world.tree(key)
    assert tree["s5"]["assignee"]["displayName"] == "Example Director (总监, 决策人)"
    approval, acceptance = tree[f"s3.d3.{director}"], tree[f"s5.d2.{director}"]
    assert approval["summary"] == "《决策层审批意见》 — 决策人 1/1"
    assert approval["parent"]["key"] == world.items(key)["s3"][0]
    assert acceptance["assignee"]["displayName"] == "Example Director (总监, 决策人)"
    assert_one_tree(world, key, world.full_tree + 2)

    # A second decision maker named later: a joint decision, only the newcomer's items added.
    before = world.items(key)
    world.set_deciders(key, ("director", "coo"))
    world.settle()
    after = world.items(key)
    assert sorted(set(after) - set(before)) == [f"s3.d3.{coo}", f"s5.d2.{coo}"]
    assert {ref: after[ref] for ref in before} == before
    assert world.tree(key)[f"s5.d2.{coo}"]["assignee"]["displayName"] == (
        "Example COO (运营总监, 决策人)"
    )
    assert_one_tree(world, key, world.full_tree + 4)
    assert_no_violations(world.sandbox)


def stage5_row(world: World, key: str) -> str:
    """The acceptance stage's row in the tree's comment on the request."""
    rows = [line for c in world.crossdept_comments(key) for line in c.splitlines()]
    return next(line for line in rows if line.startswith("|阶段5 "))


@FLAVOURS
def test_decision_makers_named_after_the_tree_take_over_the_acceptance_from_the_requester(
    make_world: MakeWorld, flavour: str
) -> None:
    world = make_world(flavour)
    untouched, reassigned = world.file_request(), world.file_request(summary="2026年Q2新品Y推广")
    world.settle()
    requester = "Example Requester (需求提出人, 市场部)"
    assert world.tree(untouched)["s5"]["assignee"]["displayName"] == requester
    assert "需求提出人" in stage5_row(world, untouched)
    # On the second request someone already gave the acceptance stage to the PM.
    stage5 = world.items(reassigned)["s5"][0]
    world.requester.assign_issue(stage5, world.person_id("pm") if flavour == "cloud" else "pm")
    world.settle()

    for key in (untouched, reassigned):
        world.set_deciders(key, ("director",))
    world.settle()
    director = "Example Director (总监, 决策人)"
    assert world.tree(untouched)["s5"]["assignee"]["displayName"] == director
    assert (
        world.tree(reassigned)["s5"]["assignee"]["displayName"]
        == "Example Project Manager (项目经理)"
    )
    # The tree's comment named the decision maker's role for stage 5: now Jira agrees.
    assert "|阶段5 成果验收|" in stage5_row(world, untouched) and "|决策人|" in stage5_row(
        world, untouched
    )

    # The director gives it back to the requester; a later edit of the request leaves it there.
    world.requester.assign_issue(
        world.items(untouched)["s5"][0],
        world.person_id("requester") if flavour == "cloud" else "requester",
    )
    world.settle()
    world.set_departments(untouched, ("技术部", "产品部", "财务部", "市场部"))
    world.settle()
    assert world.tree(untouched)["s5"]["assignee"]["displayName"] == requester
    assert_no_violations(world.sandbox)


@FLAVOURS
def test_a_bad_day_of_503s_and_429s_is_retried_into_exactly_one_tree(
    make_world: MakeWorld, flavour: str
) -> None:
    world = make_world(flavour)
    key = world.file_request()
    world.sandbox.fail_next(2, 503)  # the worker's first calls meet a Jira that is down
    world.sandbox.bad_day.rate_limit = 5  # then a burst limit of 5 requests per second

    world.settle()
    world.sandbox.bad_day.rate_limit = None

    (job,) = world.jobs()
    assert job.state == DeliveryState.DONE
    assert job.attempts > 2
    assert Outcome.RETRIED in world.outcomes
    statuses = {
        call.status for call in world.sandbox.calls if call.user == world.flavour.crossdept_id
    }
    assert {429, 503} <= statuses
    assert_one_tree(world, key, world.full_tree)
    assert_no_violations(world.sandbox)


def test_an_unknown_department_gets_one_living_comment_and_no_tree_until_fixed(
    make_world: MakeWorld,
) -> None:
    world = make_world(extra_departments=("法务部", "行政部"))
    key = world.file_request(("技术部", "法务部"))
    world.settle()

    (comment,) = world.crossdept_comments(key)
    assert "法务部" in comment
    assert world.items(key) == {}

    world.edit_description(key, "补充：预算上限 50 万。")  # an edit that fixes nothing
    world.settle()
    assert len(world.crossdept_comments(key)) == 1  # said once, not once per event
    assert world.items(key) == {}

    world.set_departments(key, ("技术部", "法务部", "行政部"))  # another mistake: the same comment
    world.settle()
    (comment,) = world.crossdept_comments(key)
    assert "法务部" in comment and "行政部" in comment

    world.set_departments(key, ("技术部", "产品部", "财务部"))
    world.settle()

    assert_one_tree(world, key, world.full_tree)
    problem, summary = world.crossdept_comments(key)  # the problem, closed, then the summary
    assert problem.startswith(f"此前阻止 crossdept 为 {key} 创建协作任务的问题已修正。")
    assert "法务部" not in problem  # it no longer names a problem that is gone
    assert summary.startswith(f"h3. 协作任务已建立：{key}") and f"（tree:{key}）" in summary
    assert {job.state for job in world.jobs()} == {DeliveryState.DONE}
    assert REQUESTING in world.tree(key)["s1.d2.市场部"]["summary"]
    assert_no_violations(world.sandbox)
