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


class ReportRules(Model):
    """Reports crossdept publishes to Confluence."""

    weekly: WeeklyReport | None = Field(
        default=None, description="The weekly progress page per active request; off when absent."
    )


SECTION: Section[ReportRules] = Section(
    "reports", ReportRules, ReportRules(), "Reports crossdept publishes to Confluence."
)


def report_rules(rules: Rules) -> ReportRules:
    """The `reports` section (its defaults when the rules file has none)."""
    return SECTION.of(rules)
