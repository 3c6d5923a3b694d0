"""Who organises and attends a cadence meeting, and what it says, planned from data alone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from plugin.composition import load_rules
from plugin.process.config import Rules
from plugin.rules.cadence.config import cadence_rules
from plugin.rules.cadence.occurrences import Occurrence
from plugin.rules.cadence.plan import plan_goal_alignment, plan_weekly
from plugin.rules.minutes.minutes_parser import agenda, parse_minutes
from plugin.rules.trees import RequestSnapshot

RULES = load_rules(Path(__file__).resolve().parents[3] / "config" / "rules.yaml")
START = datetime(2026, 12, 11, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
WEEK = Occurrence("2026-W50", START, START + timedelta(hours=1))
PM = "557058:00000000-0000-4000-8000-000000000009"


def person(role: str, department: str) -> str:
    return str(getattr(RULES.departments[department], role))


def request(**changes: object) -> RequestSnapshot:
    values: dict[str, object] = {
        "key": "XD-7",
        "project": "XD",
        "issue_type": "跨部门协作需求",
        "topic": "新产品X推广",
        "created": date(2026, 12, 1),
        "requesting_department": "市场部",
        "departments": ("技术部", "市场部"),
        "project_manager": PM,
    }
    values.update(changes)
    return RequestSnapshot(**values)  # type: ignore[arg-type]


def weekly(rules: Rules = RULES, **changes: object) -> object:
    cadence = cadence_rules(rules)
    assert cadence is not None and cadence.weekly is not None
    return plan_weekly(rules, cadence.weekly, request(**changes), WEEK)


def test_the_pm_organises_the_weekly_meeting_and_each_departments_contact_attends() -> None:
    plan = weekly()
    assert plan is not None
    assert plan.organiser == PM and plan.link_to == "XD-7" and plan.project == "XD"
    assert plan.attendees == (PM, person("contact", "市场部"), person("contact", "技术部"))
    assert plan.ref == "weekly:XD-7:2026-W50"
    assert plan.summary == "周例会 2026-12-11：新产品X推广"


def test_without_a_pm_the_lead_departments_head_organises_and_without_either_nobody() -> None:
    plan = weekly(project_manager=None)
    assert plan is not None and plan.organiser == person("head", "市场部")
    assert weekly(project_manager=None, requesting_department="外包部") is None


def test_the_agenda_is_the_guides_and_nothing_in_it_reads_as_minutes() -> None:
    plan = weekly()
    assert plan is not None
    lines = plan.description.splitlines()
    assert lines[0] == "XD-7 新产品X推广 周例会议程："
    assert lines[1:4] == [
        "# 各部门汇报本周完成情况与未达标原因",
        "# 下周计划",
        "# 需协调的资源与支持（含延期事项的应对措施）",
    ]
    assert "状态改为“已召开”" in plan.description and "会议结束后 1 天内" in plan.description
    assert (
        "(weekly:XD-7:2026-W50)" in plan.description
        or "（weekly:XD-7:2026-W50）" in plan.description
    )
    minutes = parse_minutes([plan.description], START.date())
    assert not minutes.decisions and not minutes.actions and not minutes.open_points
    assert agenda(plan.description) == plan.description.strip()


def test_a_configured_agenda_replaces_the_guides_and_peoples_words_stay_plain() -> None:
    cadence = cadence_rules(RULES)
    assert cadence is not None and cadence.weekly is not None
    own = cadence.weekly.model_copy(update={"agenda": ["评审 {{设计稿}}", "排期"]})
    plan = plan_weekly(RULES, own, request(topic="[~accountid:someone] 推广"), WEEK)
    assert plan is not None
    assert "# 评审 {{设计稿}}" not in plan.description  # a macro is escaped, not obeyed
    assert "# 排期" in plan.description.splitlines()
    assert "[~accountid:someone]" not in plan.description  # nobody is pinged by crossdept


def test_the_goal_alignment_meeting_is_the_first_departments_head_with_the_heads() -> None:
    cadence = cadence_rules(RULES)
    assert cadence is not None
    [goal] = cadence.goal_alignment
    month = Occurrence("2027-01", START, START + timedelta(minutes=90))
    plan = plan_goal_alignment(RULES, goal, month)
    heads = tuple(person("head", d) for d in ("市场部", "技术部", "产品部", "财务部"))
    assert plan.organiser == heads[0] and plan.attendees == (*heads, PM)
    assert plan.link_to is None and plan.departments == ("市场部", "技术部", "产品部", "财务部")
    assert plan.summary == "月度目标对齐会 2027-01：市场部、技术部、产品部、财务部"
    assert "待办不会建为任务" in plan.description
    assert plan.ref == "goal:产品部+市场部+技术部+财务部:2027-01"
