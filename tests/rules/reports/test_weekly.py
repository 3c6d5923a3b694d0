"""When the weekly page is due: after the configured day and time of each week, in the rules' zone."""

from __future__ import annotations

from datetime import UTC, datetime

from plugin.rules.reports.config import ReportRules, WeeklyReport
from plugin.rules.reports.weekly import due_week
from tests.fakes import load_default_rules


def test_the_week_is_due_from_friday_five_pm_shanghai_time_until_the_week_ends() -> None:
    rules = load_default_rules()  # reports.weekly: fri 17:00, Asia/Shanghai
    assert due_week(rules, datetime(2026, 3, 13, 8, 59, tzinfo=UTC)) is None  # Fri 16:59
    assert due_week(rules, datetime(2026, 3, 13, 9, 0, tzinfo=UTC)) == "2026-W11"  # Fri 17:00
    assert due_week(rules, datetime(2026, 3, 15, 15, 0, tzinfo=UTC)) == "2026-W11"  # Sun 23:00
    assert due_week(rules, datetime(2026, 3, 15, 16, 0, tzinfo=UTC)) is None  # Mon 00:00, W12


def test_no_weekly_section_means_never() -> None:
    rules = load_default_rules().model_copy(update={"reports": ReportRules()})
    assert due_week(rules, datetime(2026, 3, 13, 12, 0, tzinfo=UTC)) is None
    monday = load_default_rules().model_copy(
        update={"reports": ReportRules(weekly=WeeklyReport(day="mon"))}
    )
    assert due_week(monday, datetime(2026, 3, 16, 9, 0, tzinfo=UTC)) == "2026-W12"
