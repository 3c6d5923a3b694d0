"""Group messages end to end: what crossdept says in Jira also reaches the groups' robots,
signed, paced under each robot's limit, once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, timedelta

from sqlalchemy import select

from demo.harness import DEMO_MOBILES as HEAD_MOBILES
from plugin.process.audit import Audit
from plugin.rules.notify.notify import group_messages
from tests.e2e.conftest import MakeWorld, World
from tests.e2e.test_quiet_week import mention_of


def ask_engineering(world: World, times: int = 1) -> list[str]:
    """File a request and leave `times` questions to the engineering contact unanswered."""
    request = world.file_request()
    world.settle()
    items = [key for _ref, key in sorted(world.item_keys(request).items())]
    assert len(items) >= times
    asked = []
    for index in range(times):
        issue = items[index]  # one ask per person and issue: each question on its own item
        world.requester.add_comment(
            issue,
            f"{mention_of(world, 'engineering.contact')} 第 {index + 1} 个问题：能给出方案吗？",
        )
        asked.append(issue)
    world.settle()
    return asked


def set_notify(world: World, **changes: object) -> None:
    """Change the world's notify settings, as an admin editing the rules file would."""
    rules = world.service.rules
    assert rules.notify is not None
    notify = rules.notify.model_copy(update=changes)
    world.service.rules = rules.model_copy(update={"notify": notify})


def sweep_at(world: World, hours: float, *, rounds: int = 40) -> None:
    moment = world.clock.now() + timedelta(hours=hours)
    world.service.run_periodic("sweep_asks", clock=lambda: moment)
    world.settle(rounds=rounds)


def test_an_escalation_reaches_the_heads_dingtalk_group_signed_and_calling_on_the_head(
    make_world: MakeWorld,
) -> None:
    world = make_world(groups=True)
    [issue] = ask_engineering(world)
    robots = world.sandbox.robots
    told = len(robots.posts)  # the new tree, announced

    sweep_at(world, 25)  # the reminder to the person asked: Jira only
    assert len(robots.posts) == told
    sweep_at(world, 49)  # the escalation to the head

    [post] = [p for p in robots.received("技术部群") if "升级" in p.text]
    assert post.kind == "dingtalk" and post.mobiles == (HEAD_MOBILES["技术部"],)
    assert f"@{HEAD_MOBILES['技术部']}" in post.text  # shown as a mention, not only listed
    assert f"升级：{issue}" in post.text and f"/browse/{issue})" in post.text
    assert "能给出方案吗" in post.text and "[~" not in post.text  # names, not Jira markup
    assert robots.refusals == []  # the signature checked
    assert len(robots.posts) == told + 1  # no other department's group
    # Jira keeps the record: the escalation comment is there too.
    assert any("升级" in comment for comment in world.crossdept_comments(issue))

    sweep_at(world, 50)  # nothing new is due: nothing is said again
    assert len(robots.posts) == told + 1


def test_a_burst_of_escalations_stays_under_the_robots_limit_none_lost_or_twice(
    make_world: MakeWorld,
) -> None:
    world = make_world(groups=True)
    asked = []
    for _ in range(5):
        asked += ask_engineering(world, times=10)
    sweep_at(world, 49, rounds=400)  # 50 asks fall due at once: 50 escalations for one robot

    posts = [p for p in world.sandbox.robots.received("技术部群") if "升级" in p.text]
    assert len(posts) == 50, len(posts)
    assert world.sandbox.robots.refusals == []  # never over the limit, never refused
    times = sorted(post.at for post in world.sandbox.robots.received("技术部群"))
    assert all(sum(1 for t in times if start <= t <= start + 60) <= 20 for start in times)
    said = Counter(post.text for post in posts)
    assert max(said.values()) == 1  # none twice
    with world.service.store.begin() as db:
        states = Counter(row.state for row in db.execute(select(group_messages)))
    assert states == Counter({"sent": 50 + 3 * 5})  # and each tree in three groups
    assert {job.state.value for job in world.jobs()} == {"done"}


def test_a_new_tree_is_announced_once_in_each_departments_group_on_its_platform(
    make_world: MakeWorld,
) -> None:
    world = make_world(groups=True)
    request = world.file_request()
    world.settle()

    robots = world.sandbox.robots
    heard = {group: robots.received(group) for group in ("技术部群", "市场部群", "产品部群")}
    for group, posts in heard.items():
        assert len(posts) == 1, (group, posts)
        assert f"协作任务已建立：{request}" in posts[0].text
    assert {posts[0].kind for posts in heard.values()} == {"dingtalk", "wecom", "feishu"}
    assert robots.refusals == []  # DingTalk's and Feishu's signatures checked

    world.requester.issue(request).update(fields={"summary": "2026年Q1新品X推广（更新）"})
    world.settle()  # the tree is kept in step; the groups are not told again
    assert sum(len(robots.received(group)) for group in heard) == 3


def test_a_refused_robot_is_said_once_in_jobs_and_the_audit_and_the_others_still_hear(
    make_world: MakeWorld,
) -> None:
    world = make_world(groups=True)
    dingtalk = next(s for s in world.sandbox.robots.seats.values() if s.kind == "dingtalk")
    dingtalk.secret = "SEC-rotated-by-the-group-owner"  # crossdept still signs with the old one
    request = world.file_request()
    world.settle()

    robots = world.sandbox.robots
    assert robots.received("技术部群") == []
    assert len(robots.received("市场部群")) == len(robots.received("产品部群")) == 1
    [job] = [job for job in world.jobs() if job.key == f"group:tree_built:{request}"]
    assert job.state.value == "failed"
    assert "310000" in (job.last_error or "") and "sign not match" in (job.last_error or "")
    assert dingtalk.token not in (job.last_error or "")  # never the robot's key
    refused = [
        e for e in Audit(world.service.store).entries() if e.action == "group message refused"
    ]
    assert len(refused) == 1 and refused[0].issue == request

    def retry() -> None:  # `crossdept jobs retry`, as an operator
        assert world.service.deliveries.requeue(job.id)
        world.service.queue.enqueue_delivery(job.id)
        world.settle()

    def said_refused() -> int:
        entries = Audit(world.service.store).entries()
        return len([e for e in entries if e.action == "group message refused"])

    retry()  # nothing fixed: refused again, said once all the same
    assert robots.received("技术部群") == [] and len(robots.received("市场部群")) == 1
    assert said_refused() == 1
    dingtalk.secret = "SEC-demo-engineering-signing-secret"  # the admin puts it right again
    retry()
    assert len(robots.received("技术部群")) == 1  # heard now; the others not a second time
    assert len(robots.received("市场部群")) == len(robots.received("产品部群")) == 1
    assert said_refused() == 1
    assert world.service.deliveries.get(job.id).state.value == "done"  # type: ignore[union-attr]


def test_the_request_group_hears_when_its_field_names_a_channel(make_world: MakeWorld) -> None:
    world = make_world(groups=True)
    set_notify(world, route="request", request_channel_field="labels", send=["tree_built"])
    request = world.file_request()
    world.requester.issue(request).update(fields={"labels": ["产品部群"]})
    world.settle()

    robots = world.sandbox.robots
    assert len(robots.received("产品部群")) == 1  # the request's own group only
    assert robots.received("技术部群") == robots.received("市场部群") == []


def test_news_a_rules_file_turns_off_is_not_sent(make_world: MakeWorld) -> None:
    world = make_world(groups=True)
    set_notify(world, send=["escalation"])
    world.file_request()
    world.settle()
    assert world.sandbox.robots.posts == []
    assert not [job for job in world.jobs() if job.key.startswith("group:")]


def test_a_busy_robot_is_tried_again_and_no_group_hears_the_news_twice(
    make_world: MakeWorld,
) -> None:
    world = make_world(groups=True)
    robots = world.sandbox.robots
    robots.busy = 1  # the first group's robot answers "system busy" once
    request = world.file_request()
    world.settle()

    for group in ("技术部群", "市场部群", "产品部群"):
        assert len(robots.received(group)) == 1, group  # each once, the busy one after a retry
    [job] = [job for job in world.jobs() if job.key == f"group:tree_built:{request}"]
    assert job.state.value == "done" and job.attempts == 2


def test_minutes_a_long_delay_and_the_weekly_page_reach_the_groups_once_each(
    make_world: MakeWorld,
) -> None:
    from datetime import datetime

    from tests.e2e.test_minutes import hold_meeting

    world = make_world(groups=True)
    robots = world.sandbox.robots
    request = world.file_request(start="2026-03-02")
    world.settle()
    told = len(robots.posts)

    meeting = hold_meeting(world, request)
    minutes = [p for p in robots.received("技术部群") if "会议纪要已发布" in p.text]
    assert len(minutes) == 1, [p.text for p in robots.posts[told:]]
    assert "提交技术方案（负责人：" in minutes[0].text  # each action with its owner
    assert "/pages/" in minutes[0].text  # a link to the page
    world.requester.add_comment(meeting, "补充：会后已确认")  # minutes republished: not re-told
    world.settle()

    # A Wednesday a week on: the first items are more than 2 working days late; the PM hears.
    wednesday = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)
    world.service.run_periodic("sweep_delays", clock=lambda: wednesday)
    world.settle()
    delays = [p for p in robots.posts if "延期" in p.text and "个工作日" in p.text]
    assert delays, [p.text for p in robots.posts[told:]]
    assert all(p.kind in ("dingtalk", "wecom", "feishu") for p in delays)
    world.service.run_periodic("sweep_delays", clock=lambda: wednesday)
    world.settle()
    assert len([p for p in robots.posts if "延期" in p.text and "个工作日" in p.text]) == len(
        delays
    )

    # Friday 17:00: the weekly page, once for the week however often the schedule runs.
    friday = datetime(2026, 3, 13, 9, 5, tzinfo=UTC)  # 17:05 in Shanghai
    for _ in range(2):
        world.service.run_periodic("publish_weekly_reports", clock=lambda: friday)
        world.settle()
    weekly = [p for p in robots.posts if "本周进度已更新" in p.text]
    assert weekly and len({p.group for p in weekly}) == len(weekly)  # once per group
    assert f"本周进度已更新：{request}" in weekly[0].text and "延期" in weekly[0].text
    assert robots.refusals == []


def test_an_escalation_on_an_item_finds_its_requests_group_through_the_items_mark(
    make_world: MakeWorld,
) -> None:
    world = make_world(groups=True)
    set_notify(world, route="request", request_channel_field="labels", send=["escalation"])
    request = world.file_request()
    world.settle()
    issue = world.item_keys(request)["s2"]  # a stage: its request is found by its mark
    world.requester.add_comment(issue, f"{mention_of(world, 'engineering.contact')} 能给出方案吗？")
    world.requester.issue(request).update(fields={"labels": ["产品部群"]})
    world.settle()
    sweep_at(world, 49)

    [post] = world.sandbox.robots.received("产品部群")  # the request's group, not the head's
    assert f"升级：{issue}" in post.text
    assert world.sandbox.robots.received("技术部群") == []
