"""The weekly progress table, purely: states, delays' reasons and measures, the page."""

from __future__ import annotations

from datetime import date

from plugin.atlassian.storage import People, parse_storage
from plugin.process.calendar import WorkCalendar
from plugin.rules.reports.board import ItemFact
from plugin.rules.reports.progress_report import (
    progress_rows,
    reason_and_measures,
    render_progress_page,
    report_title,
)
from tests.fakes import load_default_rules

TODAY = date(2026, 3, 16)


def fact(key: str, due: date, done: bool = False, started: bool = True) -> ItemFact:
    return ItemFact(
        key, f"<{key}>", "XD-1", "技术部", "owner-1", due, done, None, None, started=started
    )


def test_the_latest_comment_with_a_reason_gives_reason_and_measures() -> None:
    comments = [
        {"body": "原因：供应商延迟\n措施：换供应商"},
        {"body": "进展如何？"},
        {"body": "* Reason: the API changed\n* Measures: adapt and retest by Friday"},
        {"body": "谢谢"},
    ]
    assert reason_and_measures(comments) == ("the API changed", "adapt and retest by Friday")
    assert reason_and_measures([{"body": "原因：等评审"}]) == ("等评审", None)
    assert reason_and_measures([{"body": "没有说明"}]) == (None, None)


def test_rows_are_done_in_progress_not_started_or_delayed_in_due_order() -> None:
    rows = progress_rows(
        [
            fact("XD-5", date(2026, 3, 27), started=False),
            fact("XD-3", date(2026, 3, 20)),
            fact("XD-2", date(2026, 3, 11)),
            fact("XD-4", date(2026, 3, 2), done=True),
        ],
        {"XD-2": [{"body": "原因：等数据\n措施：周三前补齐"}]},
        today=TODAY,
        calendar=WorkCalendar(),
    )
    assert [(r.key, r.state) for r in rows] == [
        ("XD-4", "done"),
        ("XD-2", "delayed"),
        ("XD-3", "in_progress"),
        ("XD-5", "not_started"),
    ]
    assert (rows[1].days_late, rows[1].reason, rows[1].measures) == (3, "等数据", "周三前补齐")


def test_the_page_is_storage_xml_with_escaped_text_and_a_missing_reason_said() -> None:
    rules = load_default_rules()
    rows = progress_rows(
        [fact("XD-2", date(2026, 3, 11)), fact("XD-6", date(2026, 3, 20), started=False)],
        {},
        today=TODAY,
        calendar=WorkCalendar(),
    )
    body = render_progress_page(
        rules,
        request_key="XD-1",
        request_summary="新品 <X> 推广",
        today=TODAY,
        rows=rows,
        people=People(cloud=True),
        issue_url=lambda key: f"https://example.atlassian.net/browse/{key}",
    )
    root = parse_storage(body)
    text = "".join(root.itertext())
    assert "新品 <X> 推广" in text and "<XD-2>" in text
    assert "已延期 3 个工作日" in text and text.count("（负责人尚未说明）") == 2
    assert "进行中 0 项，未开始 1 项，已延期 1 项" in text  # the words match the rows
    assert root.find(".//time").get("datetime") == "2026-03-11"  # type: ignore[union-attr]


def test_the_weekly_title_follows_its_template_with_the_lead_department() -> None:
    from plugin.process.wording import lead_department_name
    from plugin.rules.reports.config import SECTION

    rules = load_default_rules()
    day = date(2026, 3, 6)
    assert report_title(rules, day, "新品X推广") == "2026-03-06 新品X推广 项目进度跟踪表"
    reports = SECTION.of(rules)
    assert reports.weekly is not None
    weekly = reports.weekly.model_copy(
        update={"title": "{date} {request_summary}{kind}_{lead_department}"}
    )
    titled = rules.model_copy(update={"reports": reports.model_copy(update={"weekly": weekly})})
    lead = lead_department_name(titled, {"value": "市场部"})
    assert (
        report_title(titled, day, "新品X推广", "XD-1", lead)
        == "2026-03-06 新品X推广项目进度跟踪表_市场部"
    )
    assert lead_department_name(titled, {"value": "不存在的部门"}) == ""  # only known departments
    assert (
        lead_department_name(titled.model_copy(update={"language": "en"}), "市场部") == "Marketing"
    )


def test_the_weekly_page_says_how_long_it_is_kept() -> None:
    body = render_progress_page(
        load_default_rules(language="en"),
        request_key="XD-1",
        request_summary="新品X推广",
        today=date(2026, 3, 6),
        rows=[],
        people=People({}),
        issue_url=lambda key: f"https://jira.example/browse/{key}",
    )
    text = "".join(parse_storage(body).itertext())
    assert "kept at least 2 years (until 2028-03-06)" in text
