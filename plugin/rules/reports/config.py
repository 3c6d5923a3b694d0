"""The reports' part of the rules file: `reports` (when the weekly progress page is published
and where)."""

from __future__ import annotations

from datetime import time

from pydantic import Field, field_validator

from plugin.process.config import Model, Rules, Section, Text, Weekday, check_title

WEEKLY_TITLE_PLACEHOLDERS = ("date", "request_summary", "request_key", "kind", "lead_department")


class WeeklyReport(Model):
    """When the weekly progress table (《项目进度跟踪表》) is published."""

    day: Weekday = Field(default="fri", description="Day of the week, in the rules' timezone.")
    at: time = Field(default=time(17, 0), description="Time of day, e.g. 17:00.")
    parent_page: Text | None = Field(
        default=None,
        description="Title of the page the requests' weekly pages go under (default: "
        "项目进度跟踪 / Progress tracking), apart from the minutes'.",
    )
    title: Text = Field(
        default="{date} {request_summary} {kind}",
        description="Page title; placeholders {date}, {request_summary}, {request_key}, {kind} "
        "(项目进度跟踪表 / Progress table), {lead_department} (the request's requesting "
        "department, e.g. {date} {request_summary}{kind}_{lead_department}).",
    )

    @field_validator("title")
    @classmethod
    def _known_placeholders(cls, title: str) -> str:
        return check_title(title, WEEKLY_TITLE_PLACEHOLDERS)


class AssessmentTargets(Model):
    """What the departments aim for, as a change against the first snapshot (the baseline)."""

    on_time_rate: float = Field(
        default=45.0,
        description="Percent by which the on-time rate is to rise over the baseline (the guides: "
        "协作目标达成率 +45%).",
    )
    median_hours: float = Field(
        default=-30.0,
        description="Percent by which the median response time is to change; negative is faster "
        "(the guides: 问题解决时效 +30%).",
    )


class AssessmentRules(Model):
    """The departments' assessment (seed 003): collaboration items done on time weigh 15% of a
    department's assessment, and the figures are collected every two weeks against a baseline."""

    every_days: int = Field(
        default=14, ge=1, description="Days between snapshots (the guides: every two weeks)."
    )
    weight: float = Field(
        default=15.0,
        gt=0,
        le=100,
        description="Percent of a department's assessment its on-time rate carries (the guides: 15).",
    )
    targets: AssessmentTargets = Field(default_factory=AssessmentTargets)
    stars: int = Field(
        default=3,
        ge=0,
        description="协作之星 candidates listed per period (best on-time rate, then fastest "
        "answers), for people to decide; 0 lists none.",
    )


class ReportRules(Model):
    """Reports crossdept publishes to Confluence, and the assessment it keeps."""

    weekly: WeeklyReport | None = Field(
        default=None, description="The weekly progress page per active request; off when absent."
    )
    assessment: AssessmentRules | None = Field(
        default=None,
        description="Snapshots of each department's figures every `every_days`, for "
        "`crossdept report assessment` and the board's trend; off when absent.",
    )


SECTION: Section[ReportRules] = Section(
    "reports", ReportRules, ReportRules(), "Reports crossdept publishes to Confluence."
)


def report_rules(rules: Rules) -> ReportRules:
    """The `reports` section (its defaults when the rules file has none)."""
    return SECTION.of(rules)
