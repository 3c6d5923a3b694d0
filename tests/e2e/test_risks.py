"""An owner warns of a risk on their item; crossdept files it once for the lead department."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from plugin.spine.deliveries import DeliveryState
from sandbox.app import assert_no_violations
from tests.e2e.conftest import MakeWorld, World, as_person, built

WARNING = (
    "风险预警\n类型：资源不足\n影响：联调推迟 3 天\n应对：申请外包测试支持\n等级：高\n"
    "触发：测试环境未就绪"
)
OWNER = "engineering.contact"  # owns 本部门任务执行 — 技术部 (s4.d1.技术部)


def filed(world: World, item: str) -> str:
    """The key of the 《风险预警表》 crossdept named in its one answer on the item."""
    [answer] = world.crossdept_comments(item)
    found = re.search(r"已登记为 (\S+)《风险预警表》", answer)
    assert found, answer
    return found.group(1)


def test_an_owners_warning_is_filed_once_for_the_lead_head_and_a_high_one_asks_for_a_meeting(
    make_world: MakeWorld, flavour: str
) -> None:
    world, key, items = built(make_world, flavour)
    rules = world.service.rules
    item = items["s4.d1.技术部"]
    jobs_before = len(world.jobs())
    as_person(world, OWNER).add_comment(item, WARNING)
    world.settle()

    risk = filed(world, item)
    fields = world.requester.issue(risk).fields
    head = world.person_id("marketing.head")  # 市场部 leads the request
    assert (fields.assignee.accountId if flavour == "cloud" else fields.assignee.name) == head
    today = world.clock.now().astimezone(rules.tz).date()
    assert fields.duedate == rules.work_calendar.add_working_days(today, 1).isoformat()
    assert fields.summary == f"《风险预警表》{item}：资源不足"
    for said in ("*影响范围：* 联调推迟 3 天", "*应对方案：* 申请外包测试支持", "*风险等级：* 高"):
        assert said in fields.description
    linked = {
        getattr(link, end).key
        for link in fields.issuelinks
        for end in ("inwardIssue", "outwardIssue")
        if hasattr(link, end)
    }
    assert item in linked
    [answer] = world.crossdept_comments(item)
    for login in ("marketing.head", "product.contact", "finance.contact"):
        assert world.person_id(login) in answer, login
    # Only the PM's risk meeting is said on the new item: it breaks no ownership rule.
    [ask] = world.crossdept_comments(risk)
    assert world.person_id("pm") in ask and "30 分钟内" in ask

    # Jira sent the comment twice (comment_created and its issue_updated companion): both
    # deliveries ran the rule, and the second found everything done.
    events = [job.event for job in world.jobs()[jobs_before:] if job.state == DeliveryState.DONE]
    assert {"comment_created", "jira:issue_updated"} <= set(events)
    assert len(world.crossdept_comments(item)) == 1 and len(world.crossdept_comments(risk)) == 1

    # The weekly page and the request's page carry the register.
    from plugin.rules.reports.weekly import publish_weekly

    outcome = publish_weekly(key, world.service.context_for("test"))
    assert outcome.status == "published" and outcome.page is not None
    confluence = world.sandbox.confluence
    assert confluence is not None
    body = confluence.find_page("XD", outcome.page.title)["body"]
    assert "<h2>风险登记表</h2>" in body and f">{risk}</a>" in body and "<td>资源不足</td>" in body
    [request_title] = [t for t in confluence.titles("XD") if t.startswith(f"{key} ")]
    assert f">{risk}</a>" in confluence.find_page("XD", request_title)["body"]
    assert_no_violations(world.sandbox)


def test_a_warning_from_anyone_but_the_owner_files_nothing_and_an_incomplete_one_is_named(
    make_world: MakeWorld, flavour: str
) -> None:
    world, _key, items = built(make_world, flavour)
    item = items["s4.d1.技术部"]
    issues_before = len(world.requester.search_issues("project = XD", maxResults=500))
    world.requester.add_comment(item, WARNING)  # the requester does not own the item
    world.settle()
    assert world.crossdept_comments(item) == []

    as_person(world, OWNER).add_comment(
        item, "风险预警\n类型：资源不足\n影响：联调推迟\n等级：极高"
    )
    world.settle()
    [said] = world.crossdept_comments(item)
    assert said.startswith(f"h4. 风险预警未登记：{item}")
    assert "应对方案" in said and "“极高”" in said
    assert len(world.requester.search_issues("project = XD", maxResults=500)) == issues_before
    assert_no_violations(world.sandbox)


def test_a_worker_killed_after_creating_the_item_adopts_it_instead_of_filing_twice(
    make_world: MakeWorld, flavour: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plugin.rules.risks.risk_records import RiskRecords

    world, _key, items = built(make_world, flavour)
    item = items["s4.d1.技术部"]
    created = RiskRecords.created
    killed: list[str] = []

    def killed_once(self: RiskRecords, keys: dict[str, str]) -> None:
        if not killed:
            killed.extend(keys.values())
            raise RuntimeError("killed after Jira created the item, before it was recorded")
        created(self, keys)

    monkeypatch.setattr(RiskRecords, "created", killed_once)
    as_person(world, OWNER).add_comment(item, WARNING)
    world.settle()
    failed = [job for job in world.jobs() if job.state == DeliveryState.FAILED]
    assert failed and killed
    world.clock.advance(timedelta(seconds=61).total_seconds())  # Jira's search index settles
    for job in failed:
        assert world.service.deliveries.requeue(job.id)
        world.service.queue.enqueue_delivery(job.id)
    world.settle()

    assert filed(world, item) == killed[0]  # adopted, not filed again
    titles = [
        issue.fields.summary
        for issue in world.requester.search_issues("project = XD", maxResults=500)
    ]
    assert titles.count(f"《风险预警表》{item}：资源不足") == 1
    assert_no_violations(world.sandbox)
