"""The assessment: periods kept every two weeks, each against the baseline, and 协作之星."""

from __future__ import annotations

from datetime import date, timedelta

from plugin.rules.reports.assessment import (
    PeriodFigures,
    Snapshot,
    StarCandidate,
    assess,
    rank_stars,
    rate_met,
)
from plugin.rules.reports.board_page import render_board_page
from plugin.rules.reports.board_sources import read_board
from plugin.rules.reports.config import AssessmentRules, report_rules
from plugin.rules.reports.mirror import refresh_mirror
from plugin.rules.reports.snapshots import (
    kept_snapshots,
    latest_assessment,
    next_period,
    take_assessment_snapshot,
)
from plugin.spine.context import Context
from plugin.spine.store import Store
from tests.fakes import HEADS, FakeJira, ManualClock
from tests.rules.reports.test_mirror import RULES, START, item
from webhooks.cli.report import render_assessment

SETTINGS = AssessmentRules()  # the guides': every 14 days, 15%, +45% on time, answers -30%
MARCH = date(2026, 3, 1)


def period(day: int, *figures: PeriodFigures) -> Snapshot:
    end = MARCH + timedelta(days=day - 1)
    return Snapshot(end - timedelta(days=13), end, figures)


def engineering(on_time: int, late: int, delayed: int, hours: float | None) -> PeriodFigures:
    return PeriodFigures("技术部", on_time, late, delayed, asks=4, answered=3, median_hours=hours)


def test_the_first_measured_period_is_the_baseline_and_later_ones_are_compared_with_it() -> None:
    first = period(14, engineering(3, 1, 1, 20.0), PeriodFigures("市场部", 0, 0, 0, 0, 0, None))
    second = period(28, engineering(4, 0, 1, 12.0), PeriodFigures("市场部", 2, 0, 0, 1, 1, 5.0))
    rows = {(r.end.day, r.department): r for r in assess([second, first], SETTINGS)}

    base = rows[(14, "技术部")]
    assert base.on_time_rate == 0.6 and base.contribution == 0.6 * 15
    assert base.baseline_rate == 0.6 and base.rate_change == 0.0 and base.rate_met is False
    later = rows[(28, "技术部")]
    assert later.on_time_rate == 0.8 and round(later.rate_change or 0, 1) == 33.3
    assert later.rate_met is False  # +33% of the +45% asked
    assert later.hours_change == -40.0 and later.hours_met is True  # 40% faster, 30% asked
    # 市场部 had nothing due in the first period: its baseline is its first measured one.
    market = rows[(28, "市场部")]
    assert market.baseline_rate == 1.0 and market.rate_change == 0.0
    assert rows[(14, "市场部")].on_time_rate is None and rows[(14, "市场部")].contribution is None


def test_a_rate_cannot_pass_100_percent_so_reaching_it_meets_any_rise() -> None:
    assert rate_met(1.0, 0.9, 45) is True and rate_met(0.95, 0.9, 45) is False
    assert rate_met(None, 0.9, 45) is None and rate_met(0.5, None, 45) is None
    assert rate_met(0.0, 0.0, 45) is False and rate_met(0.2, 0.0, 45) is True


def test_stars_are_the_best_on_time_rate_then_the_fastest_answers() -> None:
    people = [
        StarCandidate("a", "A", 2, 2, 10.0),
        StarCandidate("b", "B", 3, 3, 2.0),
        StarCandidate("c", "C", 3, 4, 1.0),
        StarCandidate("d", "D", 0, 0, 0.5),  # nothing measured: no candidate
        StarCandidate("e", "E", 1, 1, None),
        StarCandidate("f", "F", 0, 3, 0.1),  # nothing on time: no star, however fast
    ]
    assert [s.account for s in rank_stars(people, 3)] == ["b", "a", "e"]
    assert rank_stars(people, 0) == ()


def test_periods_follow_each_other_every_fourteen_days_and_the_first_ends_yesterday() -> None:
    monday = date(2026, 3, 16)
    assert next_period(None, monday, 14) == (date(2026, 3, 2), date(2026, 3, 15))
    assert next_period(date(2026, 3, 15), monday + timedelta(days=13), 14) is None
    assert next_period(date(2026, 3, 15), monday + timedelta(days=14), 14) == (
        date(2026, 3, 16),
        date(2026, 3, 29),
    )


def test_snapshots_are_kept_once_per_period_and_the_board_shows_the_trend(store: Store) -> None:
    clock = ManualClock(START)  # Monday 2026-03-16
    jira = FakeJira()
    jira.clock = clock
    jira.add_issue(item("XD-2", "技术部", "2026-03-10", status="done"))  # done 03-13: late
    jira.add_issue(item("XD-3", "技术部", "2026-03-12", status="indeterminate"))  # delayed
    jira.add_issue(item("XD-4", "市场部", "2026-04-30"))  # due after both periods
    context = Context(rules=RULES, jira=jira, store=store, clock=clock)
    assert report_rules(RULES).assessment == SETTINGS  # the shipped rules: the guides' figures
    assert take_assessment_snapshot(context) == "the item mirror has not read Jira yet"
    refresh_mirror(context)

    assert take_assessment_snapshot(context) == "kept 2026-03-02..2026-03-15 (4 departments)"
    assert take_assessment_snapshot(context) == "no period due"
    clock.advance(days=14)
    jira.add_issue(item("XD-5", "技术部", "2026-03-20", status="done"))  # done 03-13: on time
    refresh_mirror(context)
    assert take_assessment_snapshot(context) == "kept 2026-03-16..2026-03-29 (4 departments)"

    first, second = kept_snapshots(store)
    tech = {f.department: f for f in first.departments}["技术部"]
    assert (tech.on_time, tech.late, tech.delayed) == (0, 1, 1)
    assert {f.department: f for f in second.departments}["技术部"].on_time_rate == 1.0
    assert [s.account for s in second.stars] == [HEADS["技术部"]]
    assert kept_snapshots(store, since=date(2026, 3, 20)) == [second]
    # An item done later does not change a period kept before.
    jira.transition_to("XD-3", "已完成")
    refresh_mirror(context)
    assert kept_snapshots(store)[0] == first

    rows, stars = latest_assessment(store, SETTINGS)
    latest = {row.department: row for row in rows}["技术部"]
    assert latest.on_time_rate == 1.0 and latest.baseline_rate == 0.0
    assert latest.rate_change is None and latest.rate_met is True  # from nothing on time
    page = render_board_page(
        read_board(context),
        language="zh-CN",
        issue_url=lambda key: f"https://jira/browse/{key}",
        request_keys=["XD-1"],
        chosen_request=None,
        department_name=str,
        assessment=SETTINGS,
        trend=rows,
        stars=stars,
    )
    assert "考核趋势（2026-03-16 至 2026-03-29，对比基线）" in page
    assert "<td>100%</td><td>15.0 / 15</td><td>0%</td>" in page
    assert '<ol id="stars"><li>技术部负责人：按时 1/1（100%）' in page

    table = render_assessment(SETTINGS, assess(kept_snapshots(store), SETTINGS), [second], "table")
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["PERIOD", "DEPARTMENT", "ON-TIME"]
    assert "SCORE (OF 15)" in lines[0] and "TARGET +45%" in lines[0] and "TARGET -30%" in lines[0]
    assert any(
        line.startswith("2026-03-16..2026-03-29  技术部") and " 15.0 " in line for line in lines
    )
    assert "协作之星 candidates, 2026-03-16..2026-03-29 (for people to decide):" in table
