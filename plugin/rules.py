"""The admin's rules file as typed, frozen models: the contract between config/rules.yaml and the code."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator

Language = Literal["zh-CN", "en"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Ask = Literal["mention", "assignment", "waiting_status"]


def _monday_to_friday() -> list[Weekday]:
    return ["mon", "tue", "wed", "thu", "fri"]


def _mentions_and_assignments() -> list[Ask]:
    return ["mention", "assignment"]


# Who owns an item. A department key (e.g. 市场部) means that department's head.
OWNER_ROLES = ("requester", "pm", "head", "contact")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*$")
_UNIT_SECONDS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(value: Any) -> timedelta:
    """Read "90m", "24h", "3d" or "2w" (a bare number means hours) so admins write what they mean."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 24h, 3d or 90m")
    if isinstance(value, int | float):
        return timedelta(hours=value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    raise ValueError(f"expected a duration such as 24h, 3d or 90m, not {value!r}")


def format_duration(value: timedelta) -> str:
    """Write a duration back in the shortest unit that is exact."""
    seconds = int(value.total_seconds())
    for unit, size in (("w", 7 * 86400), ("d", 86400), ("h", 3600)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds // 60}m"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    Field(json_schema_extra={"type": "string", "pattern": _DURATION.pattern}),
]


def _parse_work_hours(value: Any) -> tuple[time, time]:
    if isinstance(value, tuple):
        return value
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value)
        if match:
            start = time(int(match.group(1)), int(match.group(2)))
            end = time(int(match.group(3)), int(match.group(4)))
            if start < end:
                return (start, end)
            raise ValueError("the working day must end after it starts")
    raise ValueError(f'expected working hours such as "09:00-18:00", not {value!r}')


WorkHours = Annotated[
    tuple[time, time],
    BeforeValidator(_parse_work_hours),
    PlainSerializer(lambda v: f"{v[0]:%H:%M}-{v[1]:%H:%M}", return_type=str),
    Field(json_schema_extra={"type": "string", "pattern": r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$"}),
]


class Model(BaseModel):
    """Strict on our config: unknown keys are errors, and rules never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RequestFields(Model):
    """Where the request's data lives in Jira: field ids, usually custom fields."""

    requesting_department: str = Field(
        description="Single-select field: the requesting department (需求部门)."
    )
    departments: str = Field(
        description="Multi-select field: the collaborating departments (协作部门)."
    )
    start: str | None = Field(
        default=None,
        description="Date field for the start; default: the day the request was created.",
    )
    due: str = Field(default="duedate", description="Date field bounding the whole tree.")
    project_manager: str | None = Field(
        default=None, description="User-picker field naming the PM; default: project_manager."
    )


class RequestRules(Model):
    """The collaboration request (需求表): one issue of a configured type."""

    issue_type: str = Field(description="Issue type of the collaboration request.")
    epic: Literal["self", "create"] = Field(
        default="self",
        description="self: the request is the epic (an epic-level type); create: make an epic and link it.",
    )
    epic_issue_type: str = Field(default="Epic", description="Issue type used when epic: create.")
    fields: RequestFields


class IssueTypes(Model):
    """Issue types used for the tree below the epic."""

    stage: str = "Task"
    deliverable: str = "Sub-task"


class JiraRules(Model):
    """Which projects are under enforcement and how the process maps onto Jira."""

    projects: list[str] = Field(min_length=1, description="Project keys under enforcement.")
    request: RequestRules
    issue_types: IssueTypes = IssueTypes()
    done_statuses: list[str] = Field(default_factory=lambda: ["Done", "已完成"], min_length=1)
    epic_link_field: str | None = Field(
        default=None,
        description="Data Center only: the Epic Link field id; default: found via /rest/api/2/field.",
    )


class CalendarRules(Model):
    """The working calendar that due dates and working-hour clocks count on."""

    workdays: list[Weekday] = Field(default_factory=_monday_to_friday, min_length=1)
    holidays: str | None = Field(
        default="CN",
        description="ISO country code whose public holidays (and adjusted working days) apply; null for none.",
    )
    extra_holidays: list[date] = Field(default_factory=list)
    extra_workdays: list[date] = Field(default_factory=list)
    work_hours: WorkHours = "09:00-18:00"  # type: ignore[assignment]


class Department(Model):
    """A department: its head (负责人) and its interface person (接口人)."""

    name_en: str | None = Field(default=None, description="English name, used when language: en.")
    head: str = Field(
        description="Account id (Cloud) or username (Data Center) of the department head."
    )
    contact: str = Field(description="The department's interface person (接口人).")
    members: list[str] = Field(
        default_factory=list, description="Others who may own this department's items."
    )


class Deliverable(Model):
    """An output (输出物) of a stage: one sub-task, or one per department with each_department."""

    name: str
    name_en: str | None = None
    owner: str = Field(
        default="requester",
        description="requester | pm | head | contact | <department key>; head/contact mean the "
        "department of the item (each_department) or the requesting department.",
    )
    each_department: bool = Field(
        default=False, description="One sub-task per participating department."
    )
    days: int | None = Field(
        default=None,
        ge=0,
        description="Working days after the stage starts; default: the stage's due date.",
    )
    description: str | None = None
    description_en: str | None = None


class MeetingLength(Model):
    """How long a stage's meeting should take, in minutes (e.g. kickoff 30-60)."""

    kind: str = Field(description="What the meeting is, e.g. 启动会 / kickoff.")
    kind_en: str | None = None
    min_minutes: int = Field(ge=5)
    max_minutes: int = Field(ge=5)

    @model_validator(mode="after")
    def _longest_not_shorter(self) -> MeetingLength:
        if self.max_minutes < self.min_minutes:
            raise ValueError("max_minutes must not be less than min_minutes")
        return self


class Stage(Model):
    """One step of the process: a task under the epic with its deliverables."""

    name: str
    name_en: str | None = None
    owner: str = Field(default="requester", description="requester | pm | <department key>.")
    days: int = Field(ge=1, description="Working days after the previous stage's due date.")
    description: str | None = None
    description_en: str | None = None
    meeting: MeetingLength | None = None
    deliverables: list[Deliverable] = Field(default_factory=list)


class OwnershipRules(Model):
    """Every item has one owner and one due date (唯一负责人, 时间节点)."""

    single_owner: bool = True
    owner_in_department: bool = True
    due_date: Literal["required", "optional"] = "required"
    due_within_parent: bool = True
    due_on_workday: bool = True
    stage_gate: Literal["revert", "warn", "off"] = "revert"
    overdue_after_days: int = Field(default=2, ge=0)
    warn_before_due: Duration = Field(default=timedelta(hours=24))


class EscalationStep(Model):
    """One rung of the ladder: after this long without an answer, tell this person."""

    after: Duration
    to: Literal["asked", "head", "pm", "requester"]


class EscalationRules(Model):
    """Unanswered asks remind, then escalate (seed 003: 48 hours → the department head)."""

    asks: list[Ask] = Field(default_factory=_mentions_and_assignments)
    waiting_statuses: list[str] = Field(default_factory=list)
    clock: Literal["hours", "working_hours"] = "hours"
    reminders: list[EscalationStep] = Field(default_factory=list)
    ladder: list[EscalationStep] = Field(default_factory=list)


class MeetingFields(Model):
    """Fields of the meeting issue."""

    start: str
    attendees: str


class MeetingRules(Model):
    """Meetings: notice ahead, minutes within 24 hours (seed 001)."""

    issue_type: str
    fields: MeetingFields
    held_status: str
    notice: Duration = Field(default=timedelta(days=3))
    minutes_within: Duration = Field(default=timedelta(hours=24))


class ConfluenceRules(Model):
    """Where meeting minutes are published."""

    space: str
    parent_page: str | None = None
    title: str = "{date} {request_summary} {meeting_summary} 会议纪要"


class Rules(Model):
    """The whole rules file."""

    version: Literal[1] = 1
    language: Language = "zh-CN"
    timezone: str = "Asia/Shanghai"
    project_manager: str | None = Field(
        default=None, description="Default project manager (account id or username) for pm owners."
    )
    jira: JiraRules
    calendar: CalendarRules = CalendarRules()
    departments: dict[str, Department] = Field(min_length=1)
    stages: list[Stage] = Field(min_length=1)
    ownership: OwnershipRules = OwnershipRules()
    escalation: EscalationRules = EscalationRules()
    meetings: MeetingRules | None = None
    confluence: ConfluenceRules | None = None

    def text(self, zh: str, en: str | None) -> str:
        """Pick the configured language's wording, falling back to the Chinese original."""
        return en if self.language == "en" and en else zh
