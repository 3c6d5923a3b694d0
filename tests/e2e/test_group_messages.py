"""Group messages end to end: what crossdept says in Jira also reaches the groups' robots,
signed, paced under each robot's limit, once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from demo.harness import DEMO_MOBILES as HEAD_MOBILES
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


def sweep_at(world: World, hours: float, *, rounds: int = 40) -> None:
    moment = world.clock.now() + timedelta(hours=hours)
    world.service.run_periodic("sweep_asks", clock=lambda: moment)
    world.settle(rounds=rounds)


def test_an_escalation_reaches_the_heads_dingtalk_group_signed_and_calling_on_the_head(
    make_world: MakeWorld,
) -> None:
    world = make_world(groups=True)
    [issue] = ask_engineering(world)

    sweep_at(world, 25)  # the reminder to the person asked: Jira only
    assert world.sandbox.robots.posts == []
    sweep_at(world, 49)  # the escalation to the head

    [post] = world.sandbox.robots.received("技术部群")
    assert post.kind == "dingtalk" and post.mobiles == (HEAD_MOBILES["技术部"],)
    assert f"@{HEAD_MOBILES['技术部']}" in post.text  # shown as a mention, not only listed
    assert f"升级：{issue}" in post.text and f"/browse/{issue})" in post.text
    assert "能给出方案吗" in post.text
    assert world.sandbox.robots.refusals == []  # the signature checked
    assert world.sandbox.robots.received("市场部群") == []  # no other department's group
    # Jira keeps the record: the escalation comment is there too.
    assert any("升级" in comment for comment in world.crossdept_comments(issue))

    sweep_at(world, 50)  # nothing new is due: nothing is said again
    assert len(world.sandbox.robots.posts) == 1


def test_a_burst_of_escalations_stays_under_the_robots_limit_none_lost_or_twice(
    make_world: MakeWorld,
) -> None:
    world = make_world(groups=True)
    asked = []
    for _ in range(5):
        asked += ask_engineering(world, times=10)
    sweep_at(world, 49, rounds=400)  # 50 asks fall due at once: 50 escalations for one robot

    posts = world.sandbox.robots.received("技术部群")
    assert len(posts) == 50, len(posts)
    assert world.sandbox.robots.refusals == []  # never over the limit, never refused
    times = sorted(post.at for post in posts)
    assert all(sum(1 for t in times if start <= t <= start + 60) <= 20 for start in times)
    said = Counter(post.text for post in posts)
    assert max(said.values()) == 1  # none twice
    with world.service.store.begin() as db:
        states = Counter(row.state for row in db.execute(select(group_messages)))
    assert states == Counter({"sent": 50})
    assert {job.state.value for job in world.jobs()} == {"done"}
