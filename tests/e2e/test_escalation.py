"""Nobody waits more than 48 hours: an ask in a comment, a reminder, the head, and an answer."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from plugin.process.asks import ANSWERED, Asks
from sandbox.app import assert_no_violations
from tests.e2e.conftest import MakeWorld, World, as_person

FLAVOURS = pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
SHANGHAI = ZoneInfo("Asia/Shanghai")


def mention_of(world: World, login: str) -> str:
    if world.flavour.name == "cloud":
        return f"[~accountid:{world.sandbox.jira.users[login].account_id}]"
    return f"[~{login}]"


def stage_2(make_world: MakeWorld, flavour: str) -> tuple[World, str]:
    """A world whose requester filed a request and got its tree; the key of its stage 2."""
    world = make_world(flavour)
    key = world.file_request()
    world.settle()
    return world, world.items(key)["s2"][0]


def sweep_at(world: World, later: timedelta) -> None:
    moment = world.clock.now() + later
    world.service.run_periodic("sweep_asks", clock=lambda: moment)
    world.settle()  # crossdept's own comments come back as webhooks: skipped


def crossdept_lines(world: World, key: str) -> list[str]:
    return [comment.splitlines()[0] for comment in world.crossdept_comments(key)]


@FLAVOURS
def test_an_unanswered_mention_is_reminded_then_escalated_once_each(
    make_world: MakeWorld, flavour: str
) -> None:
    world, item = stage_2(make_world, flavour)
    world.requester.add_comment(
        item, f"{mention_of(world, 'engineering.contact')} 请在周五前确认技术方案的预算"
    )
    world.settle()
    [ask] = Asks(world.service.store).listing()
    assert ask.asked == (
        world.sandbox.jira.users["engineering.contact"].account_id
        if flavour == "cloud"
        else "engineering.contact"
    )

    calls = world.crossdept_calls()
    sweep_at(world, timedelta(hours=1))
    assert world.crossdept_calls() == calls  # nothing due: not a single Jira call

    sweep_at(world, timedelta(hours=25))
    [reminder] = world.crossdept_comments(item)
    assert reminder.startswith(f"h4. 提醒回复：{item}")
    assert mention_of(world, "engineering.contact") in reminder
    assert "请在周五前确认技术方案的预算" in reminder

    sweep_at(world, timedelta(hours=25))  # a second sweep at the same time does nothing
    assert len(world.crossdept_comments(item)) == 1

    sweep_at(world, timedelta(hours=49))
    escalation = world.crossdept_comments(item)[1]
    assert escalation.startswith(f"h4. 升级：{item}")
    assert mention_of(world, "engineering.head") in escalation
    assert "crossdept-催办" in (world.requester.issue(item, fields="labels").fields.labels or [])
    assert_no_violations(world.sandbox)


@FLAVOURS
def test_the_person_asked_answering_stops_the_clock(make_world: MakeWorld, flavour: str) -> None:
    world, item = stage_2(make_world, flavour)
    world.requester.add_comment(item, f"{mention_of(world, 'engineering.contact')} 预算多少？")
    world.settle()

    as_person(world, "engineering.contact").add_comment(item, "预算 50 万，周四前给方案。")
    world.settle()

    [ask] = Asks(world.service.store).listing(state=None)
    assert ask.state == ANSWERED and ask.response_hours is not None
    sweep_at(world, timedelta(hours=80))
    assert world.crossdept_comments(item) == []
    assert_no_violations(world.sandbox)


def test_a_deleted_asking_comment_cancels_its_clock(make_world: MakeWorld) -> None:
    world, item = stage_2(make_world, "cloud")
    asked = world.requester.add_comment(item, f"{mention_of(world, 'engineering.contact')} 在吗？")
    world.settle()

    asked.delete()
    world.settle()

    assert Asks(world.service.store).listing() == []
    sweep_at(world, timedelta(hours=80))
    assert world.crossdept_comments(item) == []
    assert_no_violations(world.sandbox)


def test_a_reply_the_webhook_missed_is_found_on_jira_before_reminding(
    make_world: MakeWorld,
) -> None:
    world, item = stage_2(make_world, "cloud")
    world.requester.add_comment(item, f"{mention_of(world, 'engineering.contact')} 预算？")
    world.settle()
    as_person(world, "engineering.contact").add_comment(item, "50 万。")
    world.sandbox.outbox.pending.clear()  # Jira never delivered that webhook

    sweep_at(world, timedelta(hours=25))

    assert world.crossdept_comments(item) == []  # the reply was found in the bulk re-read
    [ask] = Asks(world.service.store).listing(state=None)
    assert ask.state == ANSWERED
    assert_no_violations(world.sandbox)


def next_working_morning(world: World) -> datetime:
    """The next Tuesday at 10:00 in Shanghai, after the world's now: a plain working day."""
    now = world.clock.now().astimezone(SHANGHAI)
    day = now.date() + timedelta(days=1)
    while day.weekday() != 1:
        day += timedelta(days=1)
    return datetime.combine(day, time(10, 0), tzinfo=SHANGHAI)


@FLAVOURS
def test_the_first_tier_asks_for_an_answer_or_progress_after_two_working_hours(
    make_world: MakeWorld, flavour: str
) -> None:
    world = make_world(flavour)
    morning = next_working_morning(world)
    world.clock.advance((morning - world.clock.now()).total_seconds())
    key = world.file_request()
    world.settle()
    item = world.items(key)["s2"][0]
    world.requester.add_comment(item, f"{mention_of(world, 'engineering.contact')} 接口文档在哪？")
    world.settle()

    sweep_at(world, timedelta(hours=1, minutes=55))
    assert world.crossdept_comments(item) == []
    sweep_at(world, timedelta(hours=2, minutes=5))
    [reminder] = world.crossdept_comments(item)
    assert reminder.startswith(f"h4. 提醒回复：{item}")
    assert "已 2 小时未回复（按工作时间计）" in reminder  # the figure is on the clock it names
    assert "请先回复处理进展和预计答复时间" in reminder

    # A complex question: a progress reply with a time to expect more stops the clock.
    as_person(world, "engineering.contact").add_comment(item, "比较复杂，正在核对，预计周四答复。")
    world.settle()
    sweep_at(world, timedelta(hours=80))
    assert len(world.crossdept_comments(item)) == 1
    [ask] = Asks(world.service.store).listing(state=None)
    assert ask.state == ANSWERED
    assert_no_violations(world.sandbox)


def test_a_sweep_killed_between_the_comment_and_the_record_does_not_say_it_twice(
    make_world: MakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, item = stage_2(make_world, "cloud")
    world.requester.add_comment(item, f"{mention_of(world, 'engineering.contact')} 预算？")
    world.settle()

    def killed(self: Asks, taken: object) -> set[int]:
        raise RuntimeError("killed after posting, before recording")

    with monkeypatch.context() as patched:
        patched.setattr(Asks, "record_steps", killed)
        with pytest.raises(RuntimeError, match="killed"):
            world.service.run_periodic(
                "sweep_asks", clock=lambda: world.clock.now() + timedelta(hours=25)
            )
    assert len(world.crossdept_comments(item)) == 1

    sweep_at(world, timedelta(hours=26))  # the next sweep finds its marker on Jira

    assert len(world.crossdept_comments(item)) == 1
    [ask] = Asks(world.service.store).listing()
    assert ask.steps_done == 2  # the 24-hour reminder (the 2-hour one was overtaken)
    assert_no_violations(world.sandbox)


def test_duplicated_and_reordered_webhooks_start_one_clock(make_world: MakeWorld) -> None:
    world, item = stage_2(make_world, "cloud")
    world.sandbox.duplicate_next(2)
    world.requester.add_comment(item, f"{mention_of(world, 'engineering.contact')} 预算？")
    world.deliver(reorder=True)
    world.settle()

    assert len(Asks(world.service.store).listing()) == 1
    assert_no_violations(world.sandbox)


@FLAVOURS
def test_an_asking_comment_edited_to_ask_someone_else_moves_the_clock(
    make_world: MakeWorld, flavour: str
) -> None:
    world, item = stage_2(make_world, flavour)
    comment = world.requester.add_comment(
        item, f"{mention_of(world, 'engineering.contact')} 预算？"
    )
    world.settle()

    comment.update(body=f"{mention_of(world, 'finance.contact')} 预算？")
    world.settle()

    store = Asks(world.service.store)
    [open_ask] = store.listing()
    assert open_ask.asked.endswith("finance.contact") or open_ask.asked == (
        world.sandbox.jira.users["finance.contact"].account_id
    )
    assert len(store.listing(state="cancelled")) == 1
    assert_no_violations(world.sandbox)
