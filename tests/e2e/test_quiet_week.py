"""A quiet week of ordinary work: crossdept says exactly what is true, once, and nothing else.

A request lives through a realistic week: its tree, an assignment, three questions (two answered,
one FYI beside them), a meeting whose minutes name four action owners, a stage moved earlier, and
the escalation sweep after a three-day outage. The test lists every comment and label crossdept
left in Jira, and every clock it started, and compares them with what a careful project manager
would have written.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from plugin.process.asks import ANSWERED, OPEN, Asks
from plugin.process.calendar import WorkCalendar
from sandbox.app import assert_no_violations
from tests.e2e.conftest import MakeWorld, World, as_person
from tests.e2e.test_minutes import link

FLAVOURS = pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
START_FIELD, ATTENDEES_FIELD = "customfield_10060", "customfield_10061"


def account(world: World, login: str) -> str:
    found = world.sandbox.jira.users[login]
    return str(found.account_id) if world.flavour.name == "cloud" else login


def mention_of(world: World, login: str) -> str:
    if world.flavour.name == "cloud":
        return f"[~accountid:{account(world, login)}]"
    return f"[~{login}]"


def user_ref(world: World, login: str) -> dict[str, str]:
    if world.flavour.name == "cloud":
        return {"accountId": account(world, login)}
    return {"name": login}


def written(world: World) -> dict[str, list[str]]:
    """Every comment crossdept's account left, by issue: what people see of it in Jira."""
    found: dict[str, list[str]] = {}
    for key in sorted((issue.key for issue in world.sandbox.jira.issues.values()), key=_number):
        said = world.crossdept_comments(key)
        if said:
            found[key] = said
    return found


def labelled(world: World) -> dict[str, list[str]]:
    """Every crossdept label in Jira, by issue (a person's labels are theirs)."""
    found: dict[str, list[str]] = {}
    for issue in world.sandbox.jira.issues.values():
        labels = sorted(
            str(label)
            for label in (issue.values.get("labels") or [])
            if str(label).startswith("crossdept-") or str(label) == "延期"
        )
        if labels:
            found[issue.key] = labels
    return found


@FLAVOURS
def test_a_quiet_week_leaves_only_what_is_true_in_jira(make_world: MakeWorld, flavour: str) -> None:
    world = make_world(flavour)
    calendar = WorkCalendar.from_rules(world.service.rules.calendar)
    today = world.clock.now().date()
    start = calendar.next_working_day(today + timedelta(days=1))

    def working(days: int) -> date:
        return calendar.add_working_days(start, days)

    # Monday: the request, and its tree.
    request = world.file_request(start=start.isoformat())
    world.settle()
    items = {ref: keys[0] for ref, keys in world.items(request).items()}
    stage_2, plan = items["s2"], items["s2.d2"]

    # The engineering head hands the sign-off to the contact: work, not a question.
    as_person(world, "engineering.head").issue(items["s1.d2.技术部"]).update(
        fields={"assignee": user_ref(world, "engineering.contact")}
    )
    # Three questions, and an FYI beside them; two are answered.
    world.requester.add_comment(
        stage_2, f"{mention_of(world, 'engineering.contact')} 技术方案能在周三前给出吗？"
    )
    world.requester.add_comment(stage_2, f"{mention_of(world, 'finance.contact')} 请确认预算上限")
    world.requester.add_comment(
        stage_2, f"{mention_of(world, 'product.contact')} 需求范围是否包含海外市场？"
    )
    world.requester.add_comment(
        stage_2, f"FYI {mention_of(world, 'marketing.head')}，合作需求表已更新"
    )
    world.settle()
    as_person(world, "engineering.contact").add_comment(stage_2, "周三前可以给出。")
    as_person(world, "finance.contact").add_comment(stage_2, "预算上限 50 万。")
    world.settle()

    # A meeting on the third working day; the minutes name four action owners.
    meeting_day = working(2)
    meeting = str(
        world.requester.create_issue(
            fields={
                "project": {"key": "XD"},
                "issuetype": {"name": "会议"},
                "summary": "需求对接会",
                "description": "议程：\n1. 确认分工\n2. 确认时间表",
                START_FIELD: f"{meeting_day.isoformat()}T02:00:00.000+0000",
                ATTENDEES_FIELD: [
                    user_ref(world, login)
                    for login in ("engineering.contact", "finance.contact", "product.contact")
                ],
            }
        ).key
    )
    link(world, meeting, request)
    world.settle()
    owners = ("engineering.contact", "finance.contact", "product.contact", "marketing.contact")
    record = ["会议记录", "* 决议：按方案 B 推进"]
    record += [
        f"* 待办：{mention_of(world, login)} {working(4 + n).isoformat()} 提交第 {n + 1} 部分"
        for n, login in enumerate(owners)
    ]
    record.append(f"记录人：{mention_of(world, 'pm')}")
    world.requester.add_comment(meeting, "\n".join(record))
    world.requester.transition_issue(meeting, "已召开")
    world.settle()

    # The PM moves stage 2 a working day earlier: the plan (due on the stage's last day) is now late.
    # (The working day before, whatever today is: a Monday's day before is a Sunday, which
    # rolls forward to that same Monday and would move nothing.)
    stage_due = date.fromisoformat(world.tree(request)["s2"]["duedate"])
    earlier = stage_due - timedelta(days=1)
    while not calendar.is_working_day(earlier):
        earlier -= timedelta(days=1)
    as_person(world, "pm").issue(stage_2).update(fields={"duedate": earlier.isoformat()})
    world.settle()

    # Three days without a sweep (an outage), then one.
    moment = world.clock.now() + timedelta(days=3, hours=1)
    world.service.run_periodic("sweep_asks", clock=lambda: moment)
    world.settle()

    said = written(world)
    actions = sorted(set(said) - {request, stage_2, plan, meeting}, key=str)
    assert actions == [], {key: said[key] for key in actions}  # nothing on any other issue
    assert list(said) == sorted([request, stage_2, plan, meeting], key=_number)

    [summary] = said[request]
    assert summary.startswith(f"h3. 协作任务已建立：{request}")

    [escalation] = said[stage_2]  # one comment, at the rung that is due: the PM
    assert escalation.startswith(f"h4. 升级：{stage_2}")
    assert mention_of(world, "pm") in escalation and "需求范围是否包含海外市场" in escalation
    assert "预算" not in escalation and "技术方案" not in escalation  # answered: not raised

    [late] = said[plan]
    assert "晚于上级任务" in late
    assert mention_of(world, "pm") in late  # who moved the stage
    owner = world.requester.issue(plan, fields="assignee").fields.assignee
    owner_id = owner.accountId if flavour == "cloud" else owner.name
    assert f"[~accountid:{owner_id}]" in late or f"[~{owner_id}]" in late

    [published] = said[meeting]
    assert published.startswith("h4. 会议纪要已发布")

    assert labelled(world) == {stage_2: ["crossdept-催办"], plan: ["crossdept-违规"]}

    asks = Asks(world.service.store)
    answered = sorted(ask.asked for ask in asks.listing(state=ANSWERED))
    assert answered == sorted(
        [account(world, "engineering.contact"), account(world, "finance.contact")]
    )
    [still_open] = asks.listing(state=OPEN)
    assert (still_open.asked, still_open.issue) == (account(world, "product.contact"), stage_2)
    assert len(asks.listing(state=None)) == 3  # the FYI and the minutes' owners asked nobody
    assert {job.state.value for job in world.jobs()} == {"done"}
    # Nothing else was written: no transition, no deletion, no edit but the two labels.
    writes = _writes(world)
    assert not [w for w in writes if w.startswith("DELETE") or w.endswith("/transitions")]
    edited = sorted(
        (w.rsplit("/", 1)[1] for w in writes if re.fullmatch(r"PUT /rest/api/2/issue/[^/]+", w)),
        key=_number,
    )
    assert edited == sorted([stage_2, plan], key=_number)
    commented = sorted((w.split("/")[5] for w in writes if w.endswith("/comment")), key=_number)
    assert commented == sorted(said, key=_number)  # each comment posted once, never twice
    assert_no_violations(world.sandbox)


def _number(key: Any) -> int:
    return int(str(key).rsplit("-", 1)[1])


def _writes(world: World) -> list[str]:
    """Every request crossdept's account sent that could change something."""
    return [
        f"{call.method} {call.path}"
        for call in world.sandbox.calls
        if call.user == world.flavour.crossdept_id and call.method != "GET"
    ]
