"""The admin's rules file as typed, frozen models: the contract between config/rules.yaml and the
code. This is the part every rule reads; a rule's own section is in its folder's config.py."""

from __future__ import annotations

import difflib
import json
import re
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import cache, cached_property
from types import MappingProxyType
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    ClassVar,
    Generic,
    Literal,
    Self,
    TypeVar,
    cast,
)
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    create_model,
    field_validator,
    model_validator,
)

Language = Literal["zh-CN", "en"]
SectionT = TypeVar("SectionT")

if TYPE_CHECKING:
    from plugin.process.calendar import WorkCalendar

FieldPath = tuple[str | int, ...]  # where a value sits in the rules file, e.g. ("stages", 0)
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Ask = Literal["mention", "assignment", "waiting_status"]
Answer = Literal["comment", "transition", "edit"]


def _monday_to_friday() -> list[Weekday]:
    return ["mon", "tue", "wed", "thu", "fri"]


def _mentions() -> list[Ask]:
    # Seed 003 times answers to requests for collaboration, not work on an assigned item: an
    # assignment for three weeks of work is no question unanswered after 48 hours.
    return ["mention"]


# Who owns an item. A department key (e.g. 市场部) means that department's head.
OWNER_ROLES = ("requester", "pm", "head", "contact", "decision_maker")


def describe_value(value: Any) -> str:
    """Show a value the way an admin would write it in YAML, so messages quote what they typed."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def suggest(word: str, choices: Iterable[str]) -> str:
    """Return '; did you mean "x"?' for the closest choice, or '' when nothing is close."""
    options = list(choices)
    folded = {option.casefold(): option for option in options}
    match = folded.get(word.casefold())
    if match is None:
        close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
        match = close[0] if close else None
    return f'; did you mean "{match}"?' if match is not None else ""


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*$")
_UNIT_SECONDS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(value: Any) -> timedelta:
    """Read "90m", "24h", "3d" or "2w" (a bare number means hours) so admins write what they mean."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return timedelta(hours=value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    raise ValueError(
        f"expected a duration such as 24h, 3d or 90m (a bare number means hours), "
        f"not {describe_value(value)}"
    )


def format_duration(value: timedelta) -> str:
    """Write a duration back in the unit an admin would use: hours below 3 days, exact units above."""
    seconds = int(value.total_seconds())
    if seconds and seconds % (7 * 86400) == 0:
        return f"{seconds // (7 * 86400)}w"
    if seconds >= 3 * 86400 and seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m"


# Editors see a string pattern (or a number of hours); pydantic's own rendering of timedelta
# would claim ISO 8601 ("PT24H"), which this file does not accept.
Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": _DURATION.pattern},
                {"type": "number", "minimum": 0},
            ],
            "description": 'A duration: "90m", "24h", "3d", "2w"; a bare number means hours.',
        }
    ),
]

_WORK_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _parse_work_hours(value: Any) -> tuple[time, time]:
    if isinstance(value, tuple):
        return value
    if isinstance(value, str):
        match = _WORK_HOURS.match(value)
        if match:
            try:
                start = time(int(match.group(1)), int(match.group(2)))
                end = time(int(match.group(3)), int(match.group(4)))
            except ValueError:
                raise ValueError(f"not a time of day: {describe_value(value)}") from None
            if start < end:
                return (start, end)
            raise ValueError("the working day must end after it starts")
    raise ValueError(f'expected working hours such as "09:00-18:00", not {describe_value(value)}')


def format_work_hours(value: tuple[time, time]) -> str:
    """Write working hours back as the admin writes them: "09:00-18:00"."""
    return f"{value[0]:%H:%M}-{value[1]:%H:%M}"


WorkHours = Annotated[
    tuple[time, time],
    BeforeValidator(_parse_work_hours),
    PlainSerializer(format_work_hours, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\s*\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}\s*$",
            "description": 'Start and end of the working day, e.g. "09:00-18:00".',
        }
    ),
]

# Names, field ids and issue types: blank text is always a mistake.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# A person: account id on Jira Cloud, username on Data Center.
User = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        hint = suggest(name, _timezones()) or '; use an IANA name such as "Asia/Shanghai"'
        raise ValueError(f'unknown timezone "{name}"{hint}') from None
    return name


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


@cache
def holiday_countries() -> frozenset[str]:
    """Country codes the `holidays` library knows (ISO 3166 alpha-2 and alpha-3)."""
    import holidays  # imported late: only a calendar with holidays needs it

    return frozenset(holidays.list_supported_countries())


def _check_country(code: str) -> str:
    if code not in holiday_countries():
        hint = suggest(code, holiday_countries()) or (
            "; use an ISO 3166 code such as CN, or null for no public holidays"
        )
        raise ValueError(f'unknown holiday country "{code}"{hint}')
    return code


TimezoneName = Annotated[str, AfterValidator(_check_timezone)]
HolidayCountry = Annotated[str, AfterValidator(_check_country)]


class Model(BaseModel):
    """Strict on our config: unknown keys are errors, and rules never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RequestFields(Model):
    """Where the request's data lives in Jira: field ids, usually custom fields."""

    requesting_department: Text = Field(
        description="Single-select field: the requesting department (需求部门)."
    )
    departments: Text = Field(
        description="Multi-select field: the collaborating departments (协作部门)."
    )
    start: Text | None = Field(
        default=None,
        description="Date field for the start; default: the day the request was created.",
    )
    due: Text = Field(default="duedate", description="Date field bounding the whole tree.")
    project_manager: Text | None = Field(
        default=None,
        description="User-picker field naming the PM; default: the top-level project_manager.",
    )
    decision_makers: Text | None = Field(
        default=None,
        description="Multi-user-picker field naming the request's decision makers (决策层); "
        "default: the top-level decision_makers.",
    )


class RequestRules(Model):
    """The collaboration request (需求表): one issue of a configured type."""

    issue_type: Text = Field(description="Issue type of the collaboration request.")
    epic: Literal["self", "create"] = Field(
        default="self",
        description="self: the request is the epic (an epic-level type); create: make an epic and link it.",
    )
    epic_issue_type: Text = Field(default="Epic", description="Issue type used when epic: create.")
    fields: RequestFields
    summary_comment: bool = Field(
        default=True,
        description="Comment once on the request with its stages, owners and due dates; edited, not repeated, when the tree changes.",
    )


class IssueTypes(Model):
    """Issue types used for the tree below the epic."""

    stage: Text = Field(default="Task", description="Issue type of a stage (a child of the epic).")
    deliverable: Text = Field(
        default="Sub-task", description="Issue type of a deliverable (a sub-task of its stage)."
    )


class JiraRules(Model):
    """Which projects are under enforcement and how the process maps onto Jira."""

    projects: list[Text] = Field(min_length=1, description="Project keys under enforcement.")
    request: RequestRules
    issue_types: IssueTypes = IssueTypes()
    done_statuses: list[Text] = Field(
        default_factory=lambda: ["Done", "已完成"],
        min_length=1,
        description="Statuses that count as done (besides the Done status category).",
    )
    epic_link_field: Text | None = Field(
        default=None,
        description="Data Center only: the Epic Link field id; default: found via /rest/api/2/field.",
    )


class CalendarRules(Model):
    """The working calendar that due dates and working-hour clocks count on."""

    workdays: list[Weekday] = Field(
        default_factory=_monday_to_friday, min_length=1, description="The usual working days."
    )
    holidays: HolidayCountry | None = Field(
        default="CN",
        description="ISO country code whose public holidays (and adjusted working days) apply; null for none.",
    )
    extra_holidays: list[date] = Field(
        default_factory=list, description="Company days off, e.g. 2025-12-31."
    )
    extra_workdays: list[date] = Field(
        default_factory=list, description="Days worked although a weekend or holiday."
    )
    work_hours: WorkHours = Field(
        default=(time(9, 0), time(18, 0)),
        description="The working day, for clocks counted in working hours.",
    )


class Department(Model):
    """A department: its head (负责人) and its interface person (接口人)."""

    name_en: Text | None = Field(default=None, description="English name, used when language: en.")
    head: User = Field(
        description="Account id (Cloud) or username (Data Center) of the department head."
    )
    contact: User = Field(description="The department's interface person (接口人).")
    members: list[User] = Field(
        default_factory=list, description="Others who may own this department's items."
    )
    channel: Text | None = Field(
        default=None, description="The notify channel of this department's own group."
    )


class Deliverable(Model):
    """An output (输出物) of a stage: one sub-task, or one per department with each_department."""

    name: Text = Field(description="Summary of the sub-task, e.g. 《跨部门合作需求表》.")
    name_en: Text | None = Field(default=None, description="English name, used when language: en.")
    owner: Text = Field(
        default="requester",
        description="requester | pm | head | contact | decision_maker | <department key>; "
        "head/contact mean the department of the item (each_department) or the requesting "
        "department; decision_maker the request's decision makers (else the requester).",
    )
    each_department: bool = Field(
        default=False, description="One sub-task per participating department."
    )
    supporting: Literal["collaborating"] | list[Text] = Field(
        default_factory=list,
        description="Supporting departments (配合部门), recorded on the item apart from its one "
        "owner: collaborating (every other department of the request) or a list of department "
        "keys (those of them taking part).",
    )
    each_decision_maker: bool = Field(
        default=False,
        description="One sub-task per decision maker of the request (a joint approval: done "
        "when all are); none when the request has no decision makers.",
    )
    days: int | None = Field(
        default=None,
        ge=0,
        description="Working days after the stage starts; default: the stage's due date.",
    )
    description: str | None = Field(default=None, description="What the deliverable is.")
    description_en: str | None = None


class MeetingLength(Model):
    """How long a stage's meeting should take, in minutes (e.g. kickoff 30-60)."""

    kind: Text = Field(description="What the meeting is, e.g. 启动会 / kickoff.")
    kind_en: Text | None = None
    min_minutes: int = Field(ge=5)
    max_minutes: int = Field(ge=5)

    @field_validator("max_minutes")
    @classmethod
    def _longest_not_shorter(cls, value: int, info: ValidationInfo) -> int:
        shortest = info.data.get("min_minutes")
        if isinstance(shortest, int) and value < shortest:
            raise ValueError(f"max_minutes ({value}) is less than min_minutes ({shortest})")
        return value


class Stage(Model):
    """One step of the process: a task under the epic with its deliverables."""

    name: Text = Field(description="Summary of the stage task; unique among stages.")
    name_en: Text | None = Field(default=None, description="English name, used when language: en.")
    owner: Text = Field(
        default="requester",
        description="requester | pm | head | contact | decision_maker | <department key>; "
        "head/contact mean the requesting department's; decision_maker the request's first "
        "decision maker (else the requester).",
    )
    days: int = Field(ge=1, description="Working days after the previous stage's due date.")
    description: str | None = Field(default=None, description="What the stage is for.")
    description_en: str | None = None
    meeting: MeetingLength | None = Field(
        default=None, description="The stage's meeting and how long it should take."
    )
    supporting: Literal["collaborating"] | list[Text] = Field(
        default_factory=list,
        description="Supporting departments (配合部门), recorded on the item apart from its one "
        "owner: collaborating (every other department of the request) or a list of department "
        "keys (those of them taking part).",
    )
    deliverables: list[Deliverable] = Field(default_factory=list)


class DelayedStatus(Model):
    """A workflow status meaning 延期: the sweep moves late items there instead of labelling them."""

    status: Text = Field(description="The status of a delayed item, e.g. 延期.")
    back_to: Text = Field(
        description="Where a delayed item goes once re-dated and no longer late, e.g. 进行中."
    )


class AfterDone(Model):
    """A deadline that starts from an event: when a stage is actually done, another stage (and
    everything under it) is due this many working days after that day."""

    stage_done: int = Field(ge=1, description="The stage (1 = the first) whose completion counts.")
    redates: int = Field(ge=1, description="The stage whose due date is set from that day.")
    within: int = Field(ge=0, description="Working days after the day the stage was done.")


class Feedback(Model):
    """Feedback that sends an item back for work, and the working days its owner has: an
    acceptance finding (rework) or review comments on a document (revision). Exactly one of
    `status` (the item moved into it) or `label` (the label added) says it happened."""

    kind: Literal["rework", "revision"] = Field(
        description="rework: an acceptance finding; revision: review comments on a document."
    )
    status: Text | None = Field(default=None, description="The status meaning the feedback.")
    label: Text | None = Field(default=None, description="The label meaning the feedback.")
    stages: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=list, description="Only items of these stages (1 = the first); [] = any."
    )
    within: int = Field(default=3, ge=1, description="Working days after the feedback.")

    @model_validator(mode="after")
    def _one_trigger(self) -> Self:
        if (self.status is None) == (self.label is None):
            raise ValueError("say what the feedback is with exactly one of status or label")
        return self


class OwnershipRules(Model):
    """Every item has one owner and one due date (唯一负责人, 时间节点)."""

    single_owner: bool = Field(default=True, description="Every item has exactly one assignee.")
    owner_in_department: bool = Field(
        default=True,
        description="A department's item must be owned by its head, contact or members.",
    )
    due_date: Literal["required", "optional"] = "required"
    due_within_parent: bool = Field(default=True, description="No child is due after its parent.")
    due_on_workday: bool = Field(default=True, description="Due dates fall on working days.")
    stage_gate: Literal["revert", "warn", "off"] = Field(
        default="revert",
        description="A stage started before the previous one is done: move it back, warn, or allow.",
    )
    overdue_after_days: int = Field(
        default=2, ge=0, description="Days past due before the PM is told (the guides: 2 days)."
    )
    warn_before_due: Duration = Field(
        default=timedelta(hours=24),
        description="Owners who expect a delay must warn this long before the due date.",
    )
    delayed_status: DelayedStatus | None = Field(
        default=None,
        description="Mark delayed items with this workflow status (and move them back) instead of the label.",
    )
    delayed_label: Text | None = Field(
        default=None,
        description="Label on an item past its due date and not done (default: 延期 / delayed by language).",
    )
    violation_label: Text | None = Field(
        default=None,
        description="Label on an item that breaks a rule, removed once fixed (default: crossdept-违规 / crossdept-violation by language).",
    )
    after_done: list[AfterDone] = Field(
        default_factory=list,
        description="Deadlines counted from a stage's actual completion, e.g. the retrospective "
        "within 5 working days of the acceptance: {stage_done: 5, redates: 6, within: 5}.",
    )
    feedback: list[Feedback] = Field(
        default_factory=list,
        description="Deadlines counted from feedback: an item moved to a status or given a label "
        "is due `within` working days after it, e.g. {kind: rework, label: 验收不通过, "
        "stages: [5], within: 3}.",
    )


class EscalationStep(Model):
    """One rung of the ladder: after this long without an answer, tell this person."""

    after: Duration
    to: Literal["asked", "head", "pm", "requester"] = Field(
        description="asked: the person asked; head: their department head; pm; requester."
    )
    clock: Literal["hours", "working_hours"] | None = Field(
        default=None,
        description="The clock this step counts on; default: escalation.clock. A step that would "
        "fall due after a later one (2 working hours from a Friday evening) is left out.",
    )


def _process_reminders() -> list[EscalationStep]:
    return [EscalationStep(after=timedelta(hours=24), to="asked")]


def _process_ladder() -> list[EscalationStep]:
    # The PM step the process adds after the head needs a project manager, so it is in the
    # shipped rules file rather than in the defaults every file gets.
    return [EscalationStep(after=timedelta(hours=48), to="head")]


def _every_answer() -> list[Answer]:
    return ["comment", "transition", "edit"]


def _ask_words() -> list[str]:
    # Seed 003 times responses to requests for collaboration: a question mark always asks; these
    # words make a request of a sentence without one. Chinese first, then English.
    return [
        "请", "麻烦", "帮忙", "能否", "可否", "是否", "能不能", "务必", "尽快", "确认", "回复",
        "看看", "看一下", "跟进", "还差", "提供", "补充",
        "please", "could you", "can you", "would you", "let me know", "need your", "confirm",
        "review",
    ]  # fmt: skip


def _not_ask_words() -> list[str]:
    # Words holding an ask word that ask nobody: an application, an invitation, leave, hiring,
    # what is already done, and documents and parties named after an ask (a confirmation letter,
    # a reply letter, a supplementary agreement, a supplier).
    return [
        "申请", "邀请", "请假", "聘请", "宴请", "已确认", "已回复", "已提供", "已补充", "已跟进",
        "确认书", "确认函", "确认单", "回复函", "补充协议", "提供商", "提供方",
        "confirmed", "reviewed",
    ]  # fmt: skip


class AskLimits(Model):
    """How many clocks people's mentions may start: a comment naming forty people is not forty
    asks, and the department heads and the PM are not pinged for each of them."""

    per_comment: int = Field(
        default=5, ge=1, description="Asks one comment may start; the rest are not timed."
    )
    per_author_per_day: int = Field(
        default=50, ge=1, description="Asks one person's comments may start in 24 hours."
    )
    per_issue: int = Field(default=10, ge=1, description="Asks open on one issue at a time.")


class EscalationRules(Model):
    """Unanswered asks remind, then escalate (the guides: 48 hours → the department head)."""

    asks: list[Ask] = Field(
        default_factory=_mentions,
        description="What counts as asking someone: mention (a question in a person's comment; "
        "not a minutes record or quoted text), assignment, waiting_status.",
    )
    ask_words: list[Text] = Field(
        default_factory=_ask_words,
        description="A comment's mentions ask only when it holds a question mark or one of these "
        "words (case does not matter); a mention in an FYI starts no clock.",
    )
    not_ask_words: list[Text] = Field(
        default_factory=_not_ask_words,
        description="Words taken out before ask_words are looked for (申请 holds 请 but asks nothing).",
    )
    waiting_statuses: list[Text] = Field(
        default_factory=list, description="Statuses meaning 'waiting for the assignee'."
    )
    clock: Literal["hours", "working_hours"] = Field(
        default="hours", description="Count wall-clock hours or working hours only."
    )
    reminders: list[EscalationStep] = Field(
        default_factory=_process_reminders,
        description="Reminders to the person asked (default: after 24 hours).",
    )
    ladder: list[EscalationStep] = Field(
        default_factory=_process_ladder,
        description="Escalation steps (default: the department head after 48 hours).",
    )
    answered_by: list[Answer] = Field(
        default_factory=_every_answer,
        description="What the person asked does that answers: comment, transition, edit.",
    )
    label: Text | None = Field(
        default=None,
        description="Label of an issue with an escalated ask (default: crossdept-催办 / crossdept-escalated).",
    )
    notify: bool = Field(
        default=False, description="Also e-mail each step's recipient through Jira's notify call."
    )
    limits: AskLimits = Field(
        default_factory=AskLimits,
        description="Caps on the asks mentions start; what goes over is said once and audited.",
    )


TITLE_PLACEHOLDERS = (
    "date",
    "request_summary",
    "meeting_summary",
    "meeting_key",
    "kind",
    "lead_department",
)


def check_title(title: str, known: Sequence[str]) -> str:
    """A page title template names only placeholders crossdept fills: another would fail only
    when a page is published, so the rules file is refused instead."""
    try:
        names = [name for _text, name, _spec, _conv in string.Formatter().parse(title)]
    except ValueError as error:  # a lone { or }
        raise ValueError(f"{error}; write {{{{ or }}}} for a brace itself") from None
    for name in names:
        if name is not None and name not in known:
            listed = ", ".join("{" + placeholder + "}" for placeholder in known)
            raise ValueError(
                f"unknown placeholder {{{name}}}; known: {listed}" + suggest(name, list(known))
            )
    return title


class ConfluenceRules(Model):
    """Where meeting minutes are published."""

    space: Text = Field(description="Space key.")
    parent_page: Text | None = Field(default=None, description="Title of the parent page.")
    title: Text = Field(
        default="{date} {request_summary} {meeting_summary} 会议纪要",
        description=(
            "Page title; placeholders {date}, {request_summary}, {meeting_summary}, "
            "{meeting_key}, {kind} (会议纪要 / Minutes), {lead_department} (the request's "
            "requesting department, e.g. 2026-03-05 新品X推广 规划会 会议纪要_市场部)."
        ),
    )
    retention_years: int | None = Field(
        default=2,
        ge=1,
        le=100,
        description="Every page crossdept publishes says it is kept at least this many years "
        "(the guides: 2); null: not stated. crossdept never deletes a page.",
    )
    groups: dict[str, Text] = Field(
        default_factory=dict,
        description="Confluence group of each department, by department key. When set, each "
        "page crossdept publishes for a request may be edited by the requesting department's "
        "group and viewed by the collaborating departments' groups (and crossdept's account "
        "and the project manager); groups the site lacks are left out (seed 004).",
    )

    @field_validator("title")
    @classmethod
    def _known_placeholders(cls, title: str) -> str:
        return check_title(title, TITLE_PLACEHOLDERS)


RobotKind = Literal["wecom", "dingtalk", "feishu"]
ROBOT_VARIABLE_PREFIX = "CROSSDEPT_ROBOT_"
_ROBOT_VARIABLE = re.compile(r"^CROSSDEPT_ROBOT_[A-Z0-9_]+$")


def _robot_variable(name: str) -> str:
    """A robot's address or secret is named by its environment variable, never written here."""
    if not _ROBOT_VARIABLE.match(name):
        raise ValueError(
            f"the name of an environment variable starting with {ROBOT_VARIABLE_PREFIX}, e.g. "
            f"{ROBOT_VARIABLE_PREFIX}TECH_URL: a robot's address and secret stay out of this "
            f"file, not {describe_value(name)}"
        )
    return name


RobotVariable = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    AfterValidator(_robot_variable),
    WithJsonSchema({"type": "string", "pattern": _ROBOT_VARIABLE.pattern}),
]


class Person(Model):
    """How the group robots call on one person (a Jira account id or username)."""

    mobile: Text | None = Field(
        default=None, description="Mobile number (WeCom text messages and DingTalk @ by it)."
    )
    wecom: Text | None = Field(default=None, description="WeCom userid.")
    dingtalk: Text | None = Field(default=None, description="DingTalk userId.")
    feishu: Text | None = Field(default=None, description="Feishu open_id or user_id.")


class Channel(Model):
    """One group robot. Its address and secret are secrets: the file names the environment
    variables that hold them, never the values."""

    kind: RobotKind = Field(description="wecom (企业微信), dingtalk (钉钉) or feishu (飞书).")
    url_env: RobotVariable = Field(
        description="Environment variable (CROSSDEPT_ROBOT_…) holding the robot's webhook address."
    )
    secret_env: RobotVariable | None = Field(
        default=None,
        description="Environment variable (CROSSDEPT_ROBOT_…) holding the signing secret "
        "(DingTalk 加签, Feishu 签名校验); leave out for a robot without one.",
    )
    per_minute: int | None = Field(
        default=None,
        ge=1,
        le=100,
        description="Messages a minute this robot may send (default: its platform's, 20 for "
        "WeCom and DingTalk, 100 for Feishu).",
    )


GroupNews = Literal["tree_built", "escalation", "delay", "minutes", "weekly"]
GROUP_NEWS: tuple[GroupNews, ...] = ("tree_built", "escalation", "delay", "minutes", "weekly")


def _all_news() -> list[GroupNews]:
    return list(GROUP_NEWS)


class NotifyRules(Model):
    """Group messages: crossdept also says in WeCom, DingTalk or Feishu groups what it says in
    Jira, where department heads read it. The Jira comment stays the record."""

    channels: dict[Text, Channel] = Field(
        min_length=1, description="The group robots, by a name the rest of the file uses."
    )
    request_channel: Text | None = Field(
        default=None,
        description="Channel of every request's group (when requests share one).",
    )
    request_channel_field: Text | None = Field(
        default=None,
        description="Id of a request field whose value names its group's channel (a select "
        "or text field); wins over request_channel when set on a request.",
    )
    route: Literal["request", "department", "both"] = Field(
        default="both",
        description="Where news goes: the request's group, the departments' own groups "
        "(departments.*.channel), or both.",
    )
    send: list[GroupNews] = Field(
        default_factory=_all_news,
        description="What is said in groups: tree_built (a link to the new tree), escalation "
        "(to a department head, who is called on), delay (told to the PM), minutes (their "
        "actions and owners), weekly (the weekly page).",
    )


class Rules(Model):
    """The part of the rules file every rule reads; each rule adds its own section to it
    (`Section`, composed in plugin.composition)."""

    SECTIONS: ClassVar[tuple[Section[Any], ...]] = ()  # each rule's own part (rules_with)

    version: Literal[1] = 1
    language: Language = Field(
        default="zh-CN", description="Language of what crossdept writes: zh-CN or en."
    )
    timezone: TimezoneName = Field(
        default="Asia/Shanghai", description="IANA timezone of the working calendar."
    )
    project_manager: User | None = Field(
        default=None, description="Default project manager (account id or username) for pm owners."
    )
    decision_makers: list[User] = Field(
        default_factory=list,
        description="The decision makers (决策层, e.g. 总监) who approve the plan and accept the "
        "results, when the request's own field names none.",
    )
    jira: JiraRules
    calendar: CalendarRules = CalendarRules()
    departments: dict[str, Department] = Field(
        min_length=1, description="Keyed by the department field's option values."
    )
    stages: list[Stage] = Field(min_length=1, description="The stages, in order.")
    ownership: OwnershipRules = OwnershipRules()
    escalation: EscalationRules = EscalationRules()
    confluence: ConfluenceRules | None = None
    notify: NotifyRules | None = Field(
        default=None, description="Group messages (WeCom, DingTalk, Feishu); off when absent."
    )
    people: dict[User, Person] = Field(
        default_factory=dict,
        description="How group robots call on people, by Jira account id (Cloud) or username.",
    )

    @property
    def tz(self) -> ZoneInfo:
        """The timezone of the working calendar, as a tzinfo."""
        return ZoneInfo(self.timezone)

    # What is compiled from the file once, on first use, instead of on every use.
    @cached_property
    def work_calendar(self) -> WorkCalendar:
        """The working calendar (weekdays, public holidays and 调休, the file's extra days)."""
        from plugin.process.calendar import WorkCalendar  # the calendar reads CalendarRules

        return WorkCalendar.from_rules(self.calendar)

    @cached_property
    def departments_by_person(self) -> Mapping[str, tuple[str, ...]]:
        """Each person's departments (as head, contact or member), in the file's order."""
        found: dict[str, list[str]] = {}
        for key, department in self.departments.items():
            for person in dict.fromkeys((department.head, department.contact, *department.members)):
                found.setdefault(person, []).append(key)
        return MappingProxyType({person: tuple(keys) for person, keys in found.items()})

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with some values changed; what was compiled from the old ones is dropped."""
        copied = super().model_copy(update=update, deep=deep)
        for name in ("work_calendar", "departments_by_person"):
            copied.__dict__.pop(name, None)
        return copied

    def text(self, zh: str, en: str | None) -> str:
        """Pick the configured language's wording, falling back to the Chinese original."""
        return en if self.language == "en" and en else zh


@dataclass(frozen=True)
class Section(Generic[SectionT]):
    """One rule's own part of the rules file: its key, model and default, read back typed."""

    key: str
    model: Any  # the annotation of the key, e.g. `MeetingRules | None`
    default: SectionT
    description: str
    # What the section cannot check alone (another section, the departments): the whole file
    # in, each problem's path and message out, which check-config reports with its line.
    check: Callable[[Any], list[tuple[FieldPath, str]]] | None = None

    def of(self, rules: Rules) -> SectionT:
        """This section as the rules file sets it (its default when the file leaves it out)."""
        return cast("SectionT", getattr(rules, self.key, self.default))


def rules_with(*sections: Section[Any]) -> type[Rules]:
    """The model of the whole rules file: the shared part and each rule's section."""
    taken = set(Rules.model_fields)
    for section in sections:
        if section.key in taken:
            raise ValueError(f"two parts of the rules file are both called {section.key!r}")
        taken.add(section.key)
    fields: dict[str, Any] = {
        section.key: (
            section.model,
            Field(default=section.default, description=section.description),
        )
        for section in sections
    }
    model: type[Rules] = create_model("Rules", __base__=Rules, __module__=__name__, **fields)
    model.__doc__ = "The whole rules file."
    model.SECTIONS = sections
    return model
