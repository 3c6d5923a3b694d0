"""The board's figures on hand-made facts: rates, delays, response times, and what cannot be known."""

from __future__ import annotations

from datetime import date

import pytest

from plugin.process.calendar import WorkCalendar
from plugin.rules.reports.board import (
    AskFact,
    ItemFact,
    compute_board,
    hours_text,
    item_fact,
    percent,
    percentile,
)
from tests.fakes import load_default_rules

TODAY = date(2026, 3, 16)  # a Monday
CALENDAR = WorkCalendar()  # Monday to Friday, no public holidays


def item(
    key: str,
    department: str | None,
    due: date | None,
    *,
    done_on: date | None = None,
    done: bool | None = None,
    request: str = "XD-1",
    stage: int | None = None,
    started: bool = True,
) -> ItemFact:
    finished = done if done is not None else done_on is not None
    return ItemFact(
        key,
        f"item {key}",
        request,
        department,
        "someone",
        due,
        finished,
        done_on,
        stage,
        started=started or finished,
    )


def ask(department: str | None, hours: float | None, *, escalated: bool = False) -> AskFact:
    return AskFact(department, date(2026, 3, 10), hours is not None, hours, escalated)


def board(items: list[ItemFact], asks: list[AskFact] = [], **kwargs: object):  # type: ignore[no-untyped-def]  # noqa: B006
    return compute_board(
        items, asks, today=TODAY, calendar=CALENDAR, departments=["市场部", "技术部"], **kwargs
    )


def test_on_time_late_not_started_in_progress_and_delayed_are_counted_apart() -> None:
    result = board(
        [
            item("XD-2", "技术部", date(2026, 3, 10), done_on=date(2026, 3, 9)),  # on time
            item("XD-3", "技术部", date(2026, 3, 10), done_on=date(2026, 3, 12)),  # late
            item("XD-4", "技术部", date(2026, 3, 11)),  # begun, 3 working days late
            item("XD-5", "技术部", date(2026, 3, 20)),  # begun, not due
            item("XD-6", "技术部", date(2026, 3, 20), started=False),  # still "To Do"
            item("XD-7", "技术部", date(2026, 3, 11), started=False),  # never begun, late
        ]
    )
    engineering = {row.department: row for row in result.departments}["技术部"]
    assert (engineering.items, engineering.done_on_time, engineering.done_late) == (6, 1, 1)
    counted = (engineering.not_started, engineering.in_progress, engineering.delayed)
    assert counted == (1, 1, 2)  # a late item is delayed, whether begun or not
    assert sum(counted) + 2 == engineering.items  # every item in exactly one column
    assert engineering.on_time_rate == pytest.approx(1 / 4)
    assert [(d.key, d.days_late, d.department) for d in result.delayed] == [
        ("XD-4", 3, "技术部"),
        ("XD-7", 3, "技术部"),
    ]


def test_a_department_with_nothing_due_yet_has_no_rate_not_zero() -> None:
    result = board([item("XD-5", "市场部", date(2026, 3, 20))])
    marketing = {row.department: row for row in result.departments}["市场部"]
    assert marketing.on_time_rate is None and percent(marketing.on_time_rate) == "—"
    engineering = {row.department: row for row in result.departments}["技术部"]
    assert engineering.items == 0 and engineering.median_hours is None
    assert hours_text(engineering.median_hours) == "—"


def test_response_times_median_p90_and_escalations() -> None:
    asks = [ask("技术部", h) for h in (1.0, 2.0, 3.0, 4.0, 50.0)]
    asks += [ask("技术部", None, escalated=True), ask("市场部", 6.0)]
    result = board([], asks)
    engineering = {row.department: row for row in result.departments}["技术部"]
    assert (engineering.asks, engineering.answered, engineering.escalations) == (6, 5, 1)
    assert engineering.median_hours == 3.0
    assert engineering.p90_hours == pytest.approx(31.6)
    assert result.response_hours == [1.0, 2.0, 3.0, 4.0, 6.0, 50.0]


def test_the_period_and_request_filters() -> None:
    items = [
        item("XD-2", "技术部", date(2026, 2, 10), done_on=date(2026, 2, 9)),
        item("XD-3", "技术部", date(2026, 3, 10), done_on=date(2026, 3, 9)),
        item("XD-9", "技术部", date(2026, 3, 10), done_on=date(2026, 3, 12), request="XD-8"),
    ]
    since = board(items, since=date(2026, 3, 1))
    assert {row.department: row for row in since.departments}["技术部"].items == 2
    one = board(items, request="XD-8")
    assert {row.department: row for row in one.departments}["技术部"].done_late == 1


def test_items_of_no_known_department_get_their_own_row_and_stage_progress_counts() -> None:
    result = board(
        [
            item("XD-2", None, date(2026, 3, 10), done_on=date(2026, 3, 9), stage=1),
            item("XD-3", "技术部", date(2026, 3, 12), stage=2),
            item("XD-4", "技术部", date(2026, 3, 30), stage=3),
        ]
    )
    assert [row.department for row in result.departments] == ["市场部", "技术部", ""]
    [progress] = result.requests
    assert (progress.request, progress.stages_done, progress.stages, progress.delayed) == (
        "XD-1",
        1,
        3,
        1,
    )


def test_a_done_item_without_a_resolution_date_is_done_but_not_timed() -> None:
    result = board([item("XD-2", "技术部", date(2026, 3, 10), done=True)])
    engineering = {row.department: row for row in result.departments}["技术部"]
    assert (engineering.done_on_time, engineering.done_late, engineering.in_progress) == (0, 0, 0)
    assert engineering.on_time_rate is None


def test_percentiles() -> None:
    assert percentile([], 0.5) is None
    assert percentile([4.0], 0.9) == 4.0
    assert percentile([1.0, 3.0], 0.5) == 2.0


def test_an_item_is_read_from_jira_with_its_mark_and_resolution_in_local_time() -> None:
    rules = load_default_rules()
    fact = item_fact(
        {
            "key": "XD-3",
            "fields": {
                "summary": "阶段2",
                "assignee": {"accountId": "a-1"},
                "duedate": "2026-03-10",
                "resolutiondate": "2026-03-10T20:00:00.000+0000",  # 04:00 on the 11th in Shanghai
                "status": {"name": "Done", "statusCategory": {"key": "done"}},
            },
            "properties": {
                "crossdept.item": {"request": "XD-1", "ref": "s2", "department": "技术部"}
            },
        },
        rules,
    )
    assert (fact.request, fact.department, fact.stage, fact.done) == ("XD-1", "技术部", 2, True)
    assert fact.done_on == date(2026, 3, 11)


def test_an_item_is_begun_once_its_status_leaves_to_do() -> None:
    rules = load_default_rules()

    def fact(category: str, name: str) -> ItemFact:
        status = {"name": name, "statusCategory": {"key": category}}
        return item_fact({"key": "XD-2", "fields": {"status": status}}, rules)

    assert not fact("new", "待办").started
    assert fact("indeterminate", "进行中").started
    assert fact("done", "已完成").started


def test_the_requesters_and_the_pms_items_count_to_the_requests_department() -> None:
    rules = load_default_rules()
    mark = {"request": "XD-1", "ref": "s1", "requesting": "市场部"}
    requester = {"id": "557058:requester", "accountId": "557058:requester"}
    issue = {
        "key": "XD-2",
        "fields": {"assignee": requester},
        "properties": {"crossdept.item": mark},
    }
    assert item_fact(issue, rules).department == "市场部"
    own = {**mark, "department": "技术部"}  # an item of its own department keeps it
    assert item_fact({**issue, "properties": {"crossdept.item": own}}, rules).department == "技术部"


def test_each_department_counts_the_open_items_it_supports() -> None:
    from dataclasses import replace

    items = [
        replace(item("XD-2", "市场部", TODAY), supporting=("技术部",)),
        replace(item("XD-3", "市场部", TODAY, done_on=TODAY), supporting=("技术部",)),  # done
        replace(item("XD-4", "市场部", TODAY), supporting=("技术部", "销售部")),  # not a row
        item("XD-5", "技术部", TODAY),
    ]
    rows = {row.department: row for row in board(items).departments}
    assert (rows["市场部"].supporting, rows["技术部"].supporting) == (0, 2)
    assert rows["市场部"].items == 3 and rows["技术部"].items == 1  # supporting owns nothing


def test_the_supporting_departments_come_from_crossdepts_mark_and_only_known_ones() -> None:
    rules = load_default_rules()
    fact = item_fact(
        {
            "key": "XD-3",
            "fields": {"summary": "阶段1", "status": {"statusCategory": {"key": "new"}}},
            "properties": {
                "crossdept.item": {
                    "request": "XD-1",
                    "ref": "s1",
                    "requesting": "市场部",
                    "supporting": ["技术部", "销售部", "财务部"],
                }
            },
        },
        rules,
    )
    assert fact.supporting == ("技术部", "财务部")
