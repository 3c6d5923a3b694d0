"""The item mirror: webhooks move rows at once, a minute's search brings the rest, a nightly
full read repairs drift, and the figures the store counts are the figures the board defines."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, update

from plugin.process.asks import ANSWERED, CANCELLED, OPEN, asks
from plugin.process.audit import Audit
from plugin.process.ladder import steps
from plugin.rules.reports.board import AskFact, ItemFact, compute_board
from plugin.rules.reports.board_sources import MirrorNotBuiltError, read_board, request_keys
from plugin.rules.reports.mirror import (
    LAST_FULL,
    Mirror,
    MirrorRow,
    check_mirror,
    forget_deleted_item,
    item_mirror,
    mirror_changed_item,
    nightly_due,
    rebuild,
    refresh_mirror,
)
from plugin.spine.context import Context
from plugin.spine.events import JiraEvent
from plugin.spine.store import Store
from tests.fakes import HEADS, FakeJira, ManualClock, load_default_rules

RULES = load_default_rules()
START = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


def item(key: str, department: str, due: str, *, status: str = "new", ref: str = "s1.d1"):  # type: ignore[no-untyped-def]
    names = {"new": "未开始", "indeterminate": "进行中", "done": "已完成"}
    return {
        "key": key,
        "fields": {
            "project": {"key": "XD"},
            "issuetype": {"name": RULES.jira.issue_types.deliverable},
            "summary": f"交付物 {key}",
            "assignee": {"accountId": HEADS[department], "displayName": f"{department}负责人"},
            "duedate": due,
            "status": {"name": names[status], "statusCategory": {"key": status}},
            "resolutiondate": "2026-03-13T10:00:00.000+0800" if status == "done" else None,
        },
        "properties": {"crossdept.item": {"request": "XD-1", "ref": ref, "department": department}},
    }


@pytest.fixture
def world(store: Store) -> tuple[FakeJira, Context, ManualClock]:
    clock = ManualClock(START)
    jira = FakeJira()
    jira.clock = clock
    jira.add_issue(item("XD-2", "技术部", "2026-03-10", status="done"))
    jira.add_issue(item("XD-3", "技术部", "2026-03-12", status="indeterminate"))
    jira.add_issue(item("XD-4", "市场部", "2026-03-30"))
    return jira, Context(rules=RULES, jira=jira, store=store, clock=clock), clock


def searches(jira: FakeJira) -> int:
    return sum(n for (endpoint, _), n in jira.calls.items() if "search" in endpoint)


def delivery(jira: FakeJira, key: str, event: str = "jira:issue_updated") -> JiraEvent:
    """The body Jira sends: the issue's fields now, and no issue property."""
    issue = jira.issues[key]
    return JiraEvent.model_validate(
        {"webhookEvent": event, "issue": {"key": key, "fields": issue["fields"]}}
    )


def test_the_board_refuses_to_count_before_the_mirror_has_read_jira(world) -> None:  # type: ignore[no-untyped-def]
    _jira, context, _clock = world
    with pytest.raises(MirrorNotBuiltError, match="mirror rebuild"):
        read_board(context)


def test_the_first_run_reads_every_item_and_later_runs_only_what_changed(world) -> None:  # type: ignore[no-untyped-def]
    jira, context, clock = world
    clock.advance(hours=1)
    assert check_mirror(context) == "not read yet"  # the minute's refresh reads first
    assert refresh_mirror(context) == "first read: 3 items"
    assert sorted(Mirror(context.store).rows()) == ["XD-2", "XD-3", "XD-4"]
    board = read_board(context)
    engineering = {row.department: row for row in board.departments}["技术部"]
    assert (engineering.items, engineering.done_on_time, engineering.delayed) == (2, 0, 1)
    assert request_keys(context) == ["XD-1"]

    clock.advance(minutes=1)
    jira.transition_to("XD-3", "已完成")  # a change no webhook told (e.g. crossdept's own)
    before = searches(jira)
    assert refresh_mirror(context) == "changed items read: 1"  # only XD-3 changed lately
    assert searches(jira) == before + 1
    assert Mirror(context.store).row("XD-3").fact.done  # type: ignore[union-attr]

    clock.advance(minutes=5)  # a worker was away: the search reaches back past its gap
    assert refresh_mirror(context) == "changed items read: 1"
    clock.advance(minutes=1)
    assert refresh_mirror(context) == "changed items read: 0"


def test_a_webhook_moves_its_row_at_once_without_asking_jira(world) -> None:  # type: ignore[no-untyped-def]
    jira, context, clock = world
    rebuild(context)
    calls = sum(jira.calls.values())
    clock.advance(minutes=5)
    jira.edit("XD-4", duedate="2026-03-13", assignee={"accountId": HEADS["产品部"]})
    mirror_changed_item(delivery(jira, "XD-4"), context)
    assert sum(jira.calls.values()) == calls
    row = Mirror(context.store).row("XD-4")
    assert row is not None and row.fact.due == date(2026, 3, 13)
    # The mark's request and department stay: a webhook carries no issue property.
    assert (row.fact.request, row.fact.department) == ("XD-1", "市场部")


def test_an_older_delivery_arriving_late_never_undoes_a_newer_one(world) -> None:  # type: ignore[no-untyped-def]
    jira, context, clock = world
    rebuild(context)
    clock.advance(minutes=1)
    jira.edit("XD-4", summary="第一次")
    first = delivery(jira, "XD-4")
    clock.advance(minutes=1)
    jira.edit("XD-4", summary="第二次")
    second = delivery(jira, "XD-4")
    mirror_changed_item(second, context)
    mirror_changed_item(first, context)  # Jira retried the older one late
    assert Mirror(context.store).row("XD-4").fact.summary == "第二次"  # type: ignore[union-attr]


def test_a_deleted_item_or_one_whose_type_changed_leaves_the_figures(world) -> None:  # type: ignore[no-untyped-def]
    jira, context, clock = world
    rebuild(context)
    forget_deleted_item(delivery(jira, "XD-2", "jira:issue_deleted"), context)
    jira.edit("XD-3", issuetype={"name": "Bug"})
    mirror_changed_item(delivery(jira, "XD-3"), context)
    assert sorted(Mirror(context.store).rows()) == ["XD-4"]


def test_the_nightly_read_repairs_drift_says_how_much_and_finds_none_when_kept(world) -> None:  # type: ignore[no-untyped-def]
    jira, context, clock = world
    rebuild(context)
    mirror = Mirror(context.store)
    with context.store.begin() as db:  # drift: a lost row, a wrong row, a row Jira lost
        db.execute(item_mirror.delete().where(item_mirror.c.key == "XD-2"))
        db.execute(update(item_mirror).where(item_mirror.c.key == "XD-3").values(done=True))
    extra = mirror.row("XD-4")
    assert extra is not None
    from dataclasses import replace

    mirror.put([MirrorRow(replace(extra.fact, key="XD-99"), "市场部", extra.updated)])
    clock.advance(hours=16)  # Tuesday 01:00 in Shanghai: not yet the night's moment
    assert check_mirror(context) == "not the time"
    clock.advance(hours=2)  # 03:00: the moment has passed
    assert check_mirror(context) == "drift: 1 missing, 1 stale, 1 extra"
    assert sorted(mirror.rows()) == ["XD-2", "XD-3", "XD-4"]
    assert not mirror.row("XD-3").fact.done  # type: ignore[union-attr]
    assert [e.action for e in Audit(context.store).entries()] == ["mirror drift repaired"]
    stamp = mirror.stamp(LAST_FULL)
    assert stamp is not None and stamp[1] == "1 missing, 1 stale, 1 extra"
    clock.advance(hours=1)
    assert check_mirror(context) == "not the time"  # once a night
    clock.advance(days=1)
    assert check_mirror(context) == "drift: 0 missing, 0 stale, 0 extra"


def test_a_row_a_webhook_made_newer_than_the_nights_read_is_no_drift(world) -> None:  # type: ignore[no-untyped-def]
    jira, context, clock = world
    rebuild(context)
    found = jira.search  # the night's read answers, then a webhook arrives before the comparison

    def search_then_webhook(*args, **kwargs):  # type: ignore[no-untyped-def]
        answer = found(*args, **kwargs)
        clock.advance(minutes=1)
        jira.edit("XD-4", summary="刚改过")
        mirror_changed_item(delivery(jira, "XD-4"), context)
        return answer

    jira.search = search_then_webhook  # type: ignore[method-assign]
    clock.advance(days=1)
    assert check_mirror(context) == "drift: 0 missing, 0 stale, 0 extra"
    assert Mirror(context.store).row("XD-4").fact.summary == "刚改过"  # type: ignore[union-attr]


def test_the_full_read_is_due_once_a_night_after_two_in_the_rules_time_zone() -> None:
    at = datetime(2026, 3, 16, 18, 30, tzinfo=UTC)  # 02:30 Tuesday in Shanghai
    assert nightly_due((at - timedelta(hours=1)).timestamp(), at, RULES)  # 01:30: before it
    assert not nightly_due((at - timedelta(minutes=20)).timestamp(), at, RULES)
    assert not nightly_due((at - timedelta(hours=20)).timestamp(), at - timedelta(hours=1), RULES)


# -- the store counts what the board defines -----------------------------------------------------

DEPARTMENTS = [*RULES.departments, "外部门", None]


def random_facts(rng: random.Random, today: date) -> tuple[list[MirrorRow], list[dict[str, Any]]]:
    rows = []
    for number in range(2, 2 + rng.randint(0, 80)):
        due = today + timedelta(days=rng.randint(-20, 20)) if rng.random() < 0.9 else None
        done = rng.random() < 0.4
        done_on = (
            (due or today) + timedelta(days=rng.randint(-3, 3))
            if done and rng.random() < 0.9
            else None
        )
        department = rng.choice(DEPARTMENTS)
        fact = ItemFact(
            key=f"XD-{number}",
            summary=f"item {number}",
            request=rng.choice(["XD-1", "XD-10", "XD-9", None]),
            department=department,
            owner=rng.choice(["someone", None]),
            due=due,
            done=done,
            done_on=done_on,
            stage=rng.choice([1, 2, None]),
            owner_name=None,
            started=done or rng.random() < 0.5,
        )
        rows.append(MirrorRow(fact, department, 1.0))
    asked = []
    for number in range(rng.randint(0, 30)):
        state = rng.choice([OPEN, ANSWERED, ANSWERED, CANCELLED])
        asked.append(
            {
                "issue": "XD-2",
                "asked": f"p{number}",
                "source": "mention",
                "source_id": str(number),
                "department": rng.choice(DEPARTMENTS),
                "asked_at": datetime.combine(
                    today, datetime.min.time(), tzinfo=RULES.tz
                ).timestamp()
                - rng.randint(0, 20 * 86400),
                "state": state,
                "steps_done": rng.randint(0, 3),
                "response_hours": rng.uniform(0, 60)
                if state == ANSWERED and rng.random() < 0.9
                else None,
            }
        )
    return rows, asked


@pytest.mark.parametrize("seed", range(12))
def test_the_figures_counted_in_sql_are_those_the_board_defines(store: Store, seed: int) -> None:
    rng = random.Random(seed)
    clock = ManualClock(START)
    context = Context(rules=RULES, jira=FakeJira(), store=store, clock=clock)
    today = clock().astimezone(RULES.tz).date()
    rows, asked = random_facts(rng, today)
    mirror = Mirror(store)
    mirror.put(rows)
    mirror.set_stamp(LAST_FULL, clock().timestamp())
    if asked:
        with store.begin() as db:
            db.execute(insert(asks), asked)
    kinds = [step.kind for step in steps(RULES)]
    ask_facts = [
        AskFact(
            department=a["department"],
            asked_on=datetime.fromtimestamp(a["asked_at"], UTC).astimezone(RULES.tz).date(),
            answered=a["state"] == ANSWERED,
            response_hours=a["response_hours"],
            escalated="escalation" in kinds[: a["steps_done"]],
        )
        for a in asked
    ]
    for since, request in [(None, None), (today - timedelta(days=7), None), (None, "XD-10")]:
        expected = compute_board(
            [row.fact for row in rows],
            ask_facts,
            today=today,
            calendar=RULES.work_calendar,
            departments=list(RULES.departments),
            since=since,
            request=request,
        )
        counted = read_board(context, since=since, request=request)
        assert counted.departments == expected.departments
        assert counted.delayed == expected.delayed
        assert counted.requests == expected.requests
        assert counted.response_hours == pytest.approx(expected.response_hours)
        assert counted.delayed_total == len(expected.delayed) and not counted.delayed_unlisted
        shown = read_board(context, since=since, request=request, delayed_shown=3)
        assert shown.delayed == expected.delayed[:3]  # the latest first, all of them counted
        assert shown.delayed_total == len(expected.delayed)
        assert shown.departments == expected.departments


def test_the_page_lists_the_latest_delayed_items_and_says_how_many_it_leaves_out(
    store: Store,
) -> None:
    from plugin.rules.reports.board_page import render_board_page

    clock = ManualClock(START)
    context = Context(rules=RULES, jira=FakeJira(), store=store, clock=clock)
    rows, _asked = random_facts(random.Random(3), clock().astimezone(RULES.tz).date())
    mirror = Mirror(store)
    mirror.put(rows)
    mirror.set_stamp(LAST_FULL, clock().timestamp())
    board = read_board(context, delayed_shown=2)
    assert board.delayed_unlisted > 0

    def page(language: str) -> str:
        return render_board_page(
            board,
            language=language,
            issue_url=lambda key: key,
            request_keys=[],
            chosen_request=None,
            department_name=lambda key: key,
        )

    listed = page("en").split('id="delayed"', 1)[1].split("</table>", 1)[0]
    assert listed.count("<tr><td><a ") == 2
    assert f"{board.delayed_unlisted} more delayed items are not listed" in page("en")
    assert f"另有 {board.delayed_unlisted} 项延期任务未列出" in page("zh-CN")


def test_a_body_without_the_items_fields_changes_no_row(world) -> None:  # type: ignore[no-untyped-def]
    """An Automation rule's webhook may carry a few fields: the minute's search brings the rest."""
    jira, context, clock = world
    rebuild(context)
    before = Mirror(context.store).row("XD-4")
    thin = JiraEvent.model_validate({"issue": {"key": "XD-4", "fields": {"summary": "只有标题"}}})
    mirror_changed_item(thin, context)
    assert Mirror(context.store).row("XD-4") == before


def test_an_item_a_webhook_brought_during_the_nights_read_is_not_extra(world) -> None:  # type: ignore[no-untyped-def]
    jira, context, clock = world
    rebuild(context)
    found = jira.search

    def search_then_new_item(*args, **kwargs):  # type: ignore[no-untyped-def]
        answer = found(*args, **kwargs)
        clock.advance(minutes=1)
        jira.add_issue(item("XD-7", "财务部", "2026-03-20"))
        mirror_changed_item(delivery(jira, "XD-7", "jira:issue_created"), context)
        return answer

    jira.search = search_then_new_item  # type: ignore[method-assign]
    clock.advance(days=1)
    assert check_mirror(context) == "drift: 0 missing, 0 stale, 0 extra"
    assert Mirror(context.store).row("XD-7") is not None
