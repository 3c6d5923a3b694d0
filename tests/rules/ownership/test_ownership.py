"""The ownership rule at work: one comment per item and rule, edited not repeated, closed when fixed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from plugin.process.audit import Audit
from plugin.process.config import Rules
from plugin.process.notices import COMMENTS_PROPERTY
from plugin.rules.ownership.ownership import SweepReport, check_ownership, router, run_sweep
from plugin.rules.trees.trees import apply_tree
from plugin.spine.context import Context
from plugin.spine.events import parse_event
from plugin.spine.store import Store
from tests.fakes import (
    ALL_TABLES,
    CONTACTS,
    PM,
    REQUESTER,
    CrashError,
    FakeJira,
    ManualClock,
    issue_event,
    load_default_rules,
    request_issue,
)


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    return sqlite_store


@pytest.fixture
def rules() -> Rules:
    return load_default_rules()


class World:
    """A built tree in the fake Jira, and people editing its items."""

    def __init__(self, store: Store, rules: Rules) -> None:
        self.jira = FakeJira()
        self.jira.add_issue(request_issue())
        self.store, self.rules, self.clock = store, rules, ManualClock()
        self.keys = apply_tree("XD-1", self.context("build")).keys
        self.jira.comments.clear()
        self.jira.calls.clear()

    def context(self, cause: str = "test") -> Context:
        return Context(
            rules=self.rules, jira=self.jira, store=self.store, clock=self.clock, delivery_key=cause
        )

    def edit(self, ref: str, changed: str, cause: str = "d-1", **fields: Any) -> None:
        """A person edits an item; Jira sends jira:issue_updated with the changelog."""
        key = self.keys[ref]
        issue = self.jira.edit(key, **fields)
        changelog = {
            "id": "1",
            "items": [{"field": changed, "fieldId": changed, "fieldtype": "jira"}],
        }
        body = issue_event(issue, "jira:issue_updated", changelog=changelog)
        router.dispatch(parse_event(body), self.context(cause))

    def comments(self, ref: str) -> list[str]:
        return [text for text in self.jira.comments.get(self.keys[ref], []) if text]

    def labels(self, ref: str) -> list[str]:
        return list(self.jira.issues[self.keys[ref]]["fields"].get("labels") or [])

    def writes(self) -> int:
        """Calls that change Jira (searches are POSTs that only read)."""
        return sum(
            n
            for (endpoint, _), n in self.jira.calls.items()
            if not endpoint.startswith("GET") and "/search" not in endpoint
        )


@pytest.fixture
def world(store: Store, rules: Rules) -> World:
    return World(store, rules)


def test_a_cleared_assignee_gets_one_comment_mentioning_who_did_it_and_a_label(
    world: World,
) -> None:
    world.edit("s1.d2.技术部", "assignee", assignee=None)

    [comment] = world.comments("s1.d2.技术部")
    assert comment.startswith(f"h4. 协作规则提醒：{world.keys['s1.d2.技术部']}")
    assert f"[~accountid:{REQUESTER}] 本次修改后" in comment
    assert "没有负责人" in comment
    assert world.labels("s1.d2.技术部") == ["crossdept-违规"]
    actions = [e.action for e in Audit(world.store).entries(world.keys["s1.d2.技术部"])]
    assert actions == ["check failed", "comment posted", "label added"]

    writes = world.writes()
    world.edit("s1.d2.技术部", "assignee", cause="d-2")  # redelivered, or a second unrelated save
    assert world.writes() == writes  # already said: nothing written


def test_a_second_problem_edits_the_comment_and_the_fix_closes_it(world: World) -> None:
    ref = "s1.d2.技术部"
    world.edit(ref, "assignee", assignee=None)
    world.edit(ref, "duedate", duedate=None)

    [comment] = world.comments(ref)
    assert "没有负责人" in comment and "没有截止日期" in comment

    world.edit(ref, "assignee", assignee={"accountId": CONTACTS["技术部"]})
    world.edit(ref, "duedate", duedate="2026-03-05")

    [fixed] = world.comments(ref)
    assert fixed.startswith(f"h4. 已符合协作规则：{world.keys[ref]}")
    assert "负责人、截止日期" in fixed
    assert world.labels(ref) == []
    actions = [e.action for e in Audit(world.store).entries(world.keys[ref])]
    assert actions == [
        "check failed",
        "comment posted",
        "label added",
        "check failed",
        "comment edited",
        "check failed",
        "comment edited",
        "check passed again",
        "comment edited",
        "label removed",
    ]


def test_nothing_wrong_costs_one_read_of_the_item_and_one_of_its_parent(world: World) -> None:
    world.edit("s1.d2.技术部", "duedate", duedate="2026-03-04")
    assert {endpoint for (endpoint, _), _n in world.jira.calls.items()} == {
        "GET /rest/api/2/issue/{key}"
    }
    assert world.jira.calls_to("GET /rest/api/2/issue/{key}") == 2
    assert world.writes() == 0


def test_an_owner_from_a_supporting_department_is_named_with_the_department(world: World) -> None:
    world.edit("s2.d1.技术部", "assignee", assignee={"accountId": CONTACTS["财务部"]})
    [comment] = world.comments("s2.d1.技术部")
    assert "负责人不属于技术部" in comment


def test_moving_a_parent_earlier_rechecks_its_children(world: World) -> None:
    world.edit("s1", "duedate", duedate="2026-03-03")  # Tuesday; its sign-offs are due Thursday
    late = [ref for ref in world.keys if ref.startswith("s1.") and world.comments(ref)]
    assert sorted(late) == sorted(ref for ref in world.keys if ref.startswith("s1.d2."))
    for ref in late:
        assert "晚于上级任务" in world.comments(ref)[0]


def test_after_a_restart_with_a_new_store_the_same_comment_is_edited(
    world: World, tmp_path: Path
) -> None:
    ref = "s1.d2.技术部"
    world.edit(ref, "assignee", assignee=None)
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
    fresh.create_all(ALL_TABLES)
    world.store = fresh

    world.edit(ref, "duedate", duedate=None)

    assert len(world.comments(ref)) == 1  # found through the issue's own property
    assert "没有截止日期" in world.comments(ref)[0]
    fresh.dispose()


def test_a_comment_posted_just_before_a_crash_is_found_not_posted_twice(world: World) -> None:
    ref = "s1.d2.技术部"
    real = world.jira.set_issue_property

    def crash(key: str, name: str, value: object) -> None:
        if name == COMMENTS_PROPERTY:
            raise CrashError("killed after posting, before recording")
        real(key, name, value)

    world.jira.set_issue_property = crash  # type: ignore[method-assign]
    with pytest.raises(Exception, match="killed"):
        world.edit(ref, "assignee", assignee=None)
    world.jira.set_issue_property = real  # type: ignore[method-assign]

    world.edit(ref, "assignee", cause="retry")

    assert len(world.comments(ref)) == 1


def test_events_that_cannot_break_a_rule_cost_no_call(world: World) -> None:
    request = world.jira.issues["XD-1"]
    check_ownership(
        parse_event(
            issue_event(request, "jira:issue_updated", changelog={"items": [{"field": "assignee"}]})
        ),
        world.context(),
    )
    item = world.jira.issues[world.keys["s1"]]
    commented = issue_event(
        item,
        "jira:issue_updated",
        changelog={"items": [{"field": "summary", "fieldId": "summary"}]},
    )
    check_ownership(parse_event(commented), world.context())
    assert sum(world.jira.calls.values()) == 0


def test_english_rules_write_english_and_their_own_label(store: Store) -> None:
    world = World(store, load_default_rules(language="en"))
    world.edit("s1.d2.技术部", "duedate", duedate="2026-03-07")
    [comment] = world.comments("s1.d2.技术部")
    assert "is not a working day" in comment and "after your change" in comment
    assert world.labels("s1.d2.技术部") == ["crossdept-violation"]


# -- the delay sweep ---------------------------------------------------------------------------


def sweep_at(world: World, when: datetime, *, dry_run: bool = False) -> SweepReport:
    world.clock.now = when
    return run_sweep(world.context("periodic:sweep_delays"), dry_run=dry_run)


def test_the_sweep_marks_late_items_tells_the_pm_once_and_then_writes_nothing(world: World) -> None:
    wednesday = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    late = {
        ref
        for ref, key in world.keys.items()
        if world.jira.issues[key]["fields"]["duedate"] < "2026-03-11"
    }

    report = sweep_at(world, wednesday)

    assert {world_ref(world, d.key) for d in report.decisions if d.add_label} == late
    for ref in late:
        assert world.labels(ref) == ["延期"]
    told = {world_ref(world, d.key) for d in report.decisions if d.tell_pm}
    assert told == {
        ref
        for ref in late
        if world.jira.issues[world.keys[ref]]["fields"]["duedate"] < "2026-03-09"
    }
    for ref in told:
        [notice] = world.comments(ref)
        assert notice.startswith(f"h4. 延期超过 2 个工作日：{world.keys[ref]}")
        assert f"[~accountid:{PM}]" in notice
    due_today = {
        ref
        for ref, key in world.keys.items()
        if world.jira.issues[key]["fields"]["duedate"] == "2026-03-11"
    }
    assert {world_ref(world, d.key) for d in report.decisions if d.remind_owner} == due_today
    assert world.jira.calls_to("POST /rest/api/2/search/jql") == 1  # one search for the lot

    writes = world.writes()
    again = sweep_at(world, wednesday.replace(minute=5))
    assert again.decisions == () and world.writes() == writes  # nothing changed: nothing written
    assert "project manager told" in [
        e.action for e in Audit(world.store).entries(world.keys[next(iter(told))])
    ]


def test_the_reminder_before_the_due_date_says_how_to_raise_a_risk_warning(world: World) -> None:
    wednesday = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)
    world.jira.edit(world.keys["s1.d1"], duedate="2026-03-11")  # due today: 14 hours left
    report = sweep_at(world, wednesday)

    assert [world_ref(world, d.key) for d in report.decisions if d.remind_owner] == ["s1.d1"]
    [reminder] = world.comments("s1.d1")
    assert reminder.startswith(f"h4. 即将到期：{world.keys['s1.d1']}")
    assert "第一行写“风险预警”" in reminder and "等级：高 / 中 / 低" in reminder


def test_done_or_re_dated_items_lose_the_mark_and_a_dry_run_changes_nothing(world: World) -> None:
    wednesday = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)
    sweep_at(world, wednesday)
    world.jira.edit(
        world.keys["s1.d1"], status={"name": "已完成", "statusCategory": {"key": "done"}}
    )
    world.jira.edit(world.keys["s1"], duedate="2026-03-20")

    writes = world.writes()
    dry = sweep_at(world, wednesday.replace(hour=3), dry_run=True)
    assert {world_ref(world, d.key) for d in dry.decisions} == {"s1.d1", "s1"}
    assert all(d.remove_label for d in dry.decisions)
    assert world.writes() == writes and world.labels("s1") == ["延期"]

    sweep_at(world, wednesday.replace(hour=3))
    assert world.labels("s1.d1") == [] and world.labels("s1") == []


def world_ref(world: World, key: str) -> str:
    return next(ref for ref, found in world.keys.items() if found == key)


def test_a_delayed_status_moves_late_items_there_and_back_when_re_dated(store: Store) -> None:
    from plugin.process.config import DelayedStatus

    rules = load_default_rules()
    rules = rules.model_copy(
        update={
            "ownership": rules.ownership.model_copy(
                update={"delayed_status": DelayedStatus(status="延期", back_to="进行中")}
            )
        }
    )
    world = World(store, rules)
    wednesday = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)
    sweep_at(world, wednesday)
    status = world.jira.issues[world.keys["s1"]]["fields"]["status"]["name"]
    assert status == "延期" and world.labels("s1") == []

    world.jira.edit(world.keys["s1"], duedate="2026-03-20")
    sweep_at(world, wednesday.replace(hour=3))
    assert world.jira.issues[world.keys["s1"]]["fields"]["status"]["name"] == "进行中"
    actions = [e.action for e in Audit(world.store).entries(world.keys["s1"])]
    assert actions[0] == "moved to 延期" and "moved to 进行中" in actions


def test_moving_the_request_earlier_rechecks_its_stages(world: World) -> None:
    request = world.jira.edit("XD-1", duedate="2026-03-06")  # before stages 2 to 6 are due
    changelog = {"items": [{"field": "duedate", "fieldId": "duedate"}]}
    router.dispatch(
        parse_event(issue_event(request, "jira:issue_updated", changelog=changelog)),
        world.context(),
    )

    late = sorted(ref for ref in world.keys if world.comments(ref))
    assert late == ["s2", "s3", "s4", "s5", "s6"]
    assert world.jira.comments.get("XD-1") in (None, [])  # the request itself is not an item


def rules_with_a_pm_field() -> Rules:
    """The shipped rules with the request's project manager field mapped (customfield_10070)."""
    rules = load_default_rules()
    fields = rules.jira.request.fields.model_copy(update={"project_manager": "customfield_10070"})
    request = rules.jira.request.model_copy(update={"fields": fields})
    return rules.model_copy(update={"jira": rules.jira.model_copy(update={"request": request})})


def test_the_pm_told_of_a_long_delay_is_the_one_the_request_names(store: Store) -> None:
    world = World(store, rules_with_a_pm_field())
    named = CONTACTS["产品部"]
    world.jira.edit("XD-1", customfield_10070={"accountId": named})

    sweep_at(world, datetime(2026, 3, 11, 2, 0, tzinfo=UTC))

    [notice] = world.comments("s1.d1")
    assert f"[~accountid:{named}]" in notice and f"[~accountid:{PM}]" not in notice
    # One read of the told items' marks (the sweep's search carries no properties), one of
    # their request.
    assert world.jira.calls_to("POST /rest/api/2/issue/bulkfetch") == 2


def test_a_sweep_that_tells_no_project_manager_reads_no_marks(store: Store) -> None:
    world = World(store, rules_with_a_pm_field())

    sweep_at(world, datetime(2026, 3, 3, 2, 0, tzinfo=UTC))  # not late enough to tell the PM

    assert world.jira.calls_to("POST /rest/api/2/issue/bulkfetch") == 0
