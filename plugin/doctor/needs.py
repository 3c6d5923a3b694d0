"""What the rules file needs of a site, each need with the place in the file that asks for it:
the list doctor checks the site against, read from the rules alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from plugin.process.config import FieldPath, Rules
from plugin.rules.minutes.config import meeting_rules
from plugin.rules.reports.config import report_rules

# The project permissions crossdept uses, with what it does with each (Jira's built-in keys).
# Issue properties are set with Edit issues; due dates with Schedule issues.
# https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-permissions/#built-in-permissions
PERMISSIONS: dict[str, str] = {
    "BROWSE_PROJECTS": "read the project's issues",
    "CREATE_ISSUES": "create the tree's issues",
    "EDIT_ISSUES": "edit issues and set their properties",
    "ASSIGN_ISSUES": "assign owners",
    "SCHEDULE_ISSUES": "set due dates",
    "TRANSITION_ISSUES": "move issues between statuses",
    "ADD_COMMENTS": "comment",
    "EDIT_OWN_COMMENTS": "edit its own comments",
    "LINK_ISSUES": "link issues",
}

# The webhook events crossdept acts on (docs/jira-setup.md).
WEBHOOK_EVENTS = (
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
    "comment_deleted",
)

FieldKind = Literal["select", "multiselect", "date", "datetime", "user", "users", "labels"]
Level = Literal["epic", "standard", "subtask"]


@dataclass(frozen=True)
class TypeNeed:
    """An issue type that must exist in every project, at a level of the hierarchy."""

    role: str  # what crossdept uses it for, e.g. "stage"
    name: str
    level: Level
    path: FieldPath


@dataclass(frozen=True)
class FieldNeed:
    """A field crossdept reads or writes, of a kind, on an issue type's create screen."""

    role: str
    field_id: str
    kind: FieldKind
    screen_type: str  # the issue type whose screen must hold it
    path: FieldPath
    options: tuple[str, ...] = ()  # the select values it must offer (the departments)
    screen: Literal["create", "edit"] = "create"


@dataclass(frozen=True)
class StatusNeed:
    """A status that must be in the workflow of each of `types`; with `done`, any status of the
    Done category will do in its place."""

    role: str
    names: tuple[str, ...]  # any one of them
    types: tuple[str, ...]
    path: FieldPath
    done: bool = False


@dataclass(frozen=True)
class WayBackNeed:
    """`stage_gate: revert` moves an item started too early back where it came from: each
    in-progress status of these types needs a transition back to a to-do status."""

    types: tuple[str, ...]
    path: FieldPath


@dataclass(frozen=True)
class PersonNeed:
    """A person named in the rules, who must exist and be active."""

    account: str
    role: Literal["head", "contact", "member", "project manager", "decision maker"]
    department: str | None
    path: FieldPath


@dataclass(frozen=True)
class PageNeed:
    """A Confluence page crossdept publishes under, by title in the space."""

    title: str
    path: FieldPath


@dataclass(frozen=True)
class GroupNeed:
    """A Confluence group the page restrictions name for a department."""

    name: str
    department: str
    path: FieldPath


@dataclass(frozen=True)
class RobotNeed:
    """A group robot the rules file names: the environment variables that must hold it."""

    channel: str
    variables: tuple[str, ...]  # its address, and its signing secret when it has one
    path: FieldPath


@dataclass(frozen=True)
class SiteNeeds:
    """Everything doctor checks, from one rules file."""

    projects: tuple[str, ...]
    types: tuple[TypeNeed, ...]
    fields: tuple[FieldNeed, ...]
    statuses: tuple[StatusNeed, ...]
    people: tuple[PersonNeed, ...]
    space: str | None
    pages: tuple[PageNeed, ...]
    holidays: str | None
    extra_days: frozenset[int]  # years the admin listed extra holidays or working days for
    way_back: WayBackNeed | None = None
    robots: tuple[RobotNeed, ...] = ()
    groups: tuple[GroupNeed, ...] = ()  # Confluence groups of the page restrictions


def site_needs(rules: Rules) -> SiteNeeds:
    """Read what the rules need of Jira and Confluence."""
    jira = rules.jira
    request = jira.request
    tree_types = (jira.issue_types.stage, jira.issue_types.deliverable)
    types = [
        TypeNeed(
            "request",
            request.issue_type,
            "epic" if request.epic == "self" else "standard",
            ("jira", "request", "issue_type"),
        ),
        TypeNeed("stage", jira.issue_types.stage, "standard", ("jira", "issue_types", "stage")),
        TypeNeed(
            "deliverable",
            jira.issue_types.deliverable,
            "subtask",
            ("jira", "issue_types", "deliverable"),
        ),
    ]
    if request.epic == "create":
        types.append(
            TypeNeed(
                "epic", request.epic_issue_type, "epic", ("jira", "request", "epic_issue_type")
            )
        )
    departments = tuple(rules.departments)

    def request_field(role: str, key: str, kind: FieldKind, *options: str) -> FieldNeed:
        path = ("jira", "request", "fields", key)
        return FieldNeed(
            role, getattr(request.fields, key), kind, request.issue_type, path, options
        )

    fields = [
        request_field("requesting department", "requesting_department", "select", *departments),
        request_field("collaborating departments", "departments", "multiselect", *departments),
        request_field("due date", "due", "date"),
    ]
    if request.fields.start:
        fields.append(request_field("start date", "start", "date"))
    if request.fields.project_manager:
        fields.append(request_field("project manager", "project_manager", "user"))
    if request.fields.decision_makers:
        fields.append(request_field("decision makers", "decision_makers", "users"))
    for role, type_name, path in (
        ("stage", jira.issue_types.stage, ("jira", "issue_types", "stage")),
        ("deliverable", jira.issue_types.deliverable, ("jira", "issue_types", "deliverable")),
    ):
        fields.append(FieldNeed(f"{role} due date", "duedate", "date", type_name, path))
        fields.append(FieldNeed(f"{role} owner", "assignee", "user", type_name, path))
        # Delayed and rule-breaking items are labelled in an edit (ownership, escalation).
        fields.append(
            FieldNeed(f"{role} labels", "labels", "labels", type_name, path, screen="edit")
        )
    done_types = (request.issue_type, *tree_types)
    statuses = [
        StatusNeed(
            "finished", tuple(jira.done_statuses), done_types, ("jira", "done_statuses"), done=True
        )
    ]
    delayed = rules.ownership.delayed_status
    if delayed is not None:
        statuses.append(
            StatusNeed(
                "delayed", (delayed.status,), tree_types, ("ownership", "delayed_status", "status")
            )
        )
        statuses.append(
            StatusNeed(
                "back from delayed",
                (delayed.back_to,),
                tree_types,
                ("ownership", "delayed_status", "back_to"),
            )
        )
    for index, waiting in enumerate(rules.escalation.waiting_statuses):
        statuses.append(
            StatusNeed(
                "waiting for the assignee",
                (waiting,),
                tree_types,
                ("escalation", "waiting_statuses", index),
            )
        )
    meetings = meeting_rules(rules)
    if meetings is not None:
        types.append(
            TypeNeed("meeting", meetings.issue_type, "standard", ("meetings", "issue_type"))
        )
        fields.append(
            FieldNeed(
                "meeting start",
                meetings.fields.start,
                "datetime",
                meetings.issue_type,
                ("meetings", "fields", "start"),
            )
        )
        fields.append(
            FieldNeed(
                "attendees",
                meetings.fields.attendees,
                "users",
                meetings.issue_type,
                ("meetings", "fields", "attendees"),
            )
        )
        if meetings.fields.organiser:
            fields.append(
                FieldNeed(
                    "organiser",
                    meetings.fields.organiser,
                    "user",
                    meetings.issue_type,
                    ("meetings", "fields", "organiser"),
                )
            )
        statuses.append(
            StatusNeed(
                "held", (meetings.held_status,), (meetings.issue_type,), ("meetings", "held_status")
            )
        )
    people: list[PersonNeed] = []
    for name, department in rules.departments.items():
        people.append(PersonNeed(department.head, "head", name, ("departments", name, "head")))
        people.append(
            PersonNeed(department.contact, "contact", name, ("departments", name, "contact"))
        )
        people += [
            PersonNeed(member, "member", name, ("departments", name, "members", index))
            for index, member in enumerate(department.members)
        ]
    if rules.project_manager:
        people.append(
            PersonNeed(rules.project_manager, "project manager", None, ("project_manager",))
        )
    people += [
        PersonNeed(person, "decision maker", None, ("decision_makers", index))
        for index, person in enumerate(rules.decision_makers)
    ]
    pages: list[PageNeed] = []
    space = rules.confluence.space if rules.confluence is not None else None
    if rules.confluence is not None and rules.confluence.parent_page and meetings is not None:
        pages.append(PageNeed(rules.confluence.parent_page, ("confluence", "parent_page")))
    weekly = report_rules(rules).weekly
    if rules.confluence is not None and weekly is not None and weekly.parent_page:
        pages.append(PageNeed(weekly.parent_page, ("reports", "weekly", "parent_page")))
    groups = tuple(
        GroupNeed(group, department, ("confluence", "groups", department))
        for department, group in (rules.confluence.groups if rules.confluence else {}).items()
    )
    calendar = rules.calendar
    return SiteNeeds(
        projects=tuple(jira.projects),
        types=tuple(types),
        fields=tuple(fields),
        statuses=tuple(statuses),
        people=tuple(people),
        space=space,
        pages=tuple(dict.fromkeys(pages)),
        holidays=calendar.holidays,
        extra_days=frozenset(d.year for d in (*calendar.extra_holidays, *calendar.extra_workdays)),
        groups=groups,
        way_back=WayBackNeed(tree_types, ("ownership", "stage_gate"))
        if rules.ownership.stage_gate == "revert"
        else None,
        robots=tuple(
            RobotNeed(
                name,
                (channel.url_env, *([channel.secret_env] if channel.secret_env else [])),
                ("notify", "channels", name),
            )
            for name, channel in (rules.notify.channels.items() if rules.notify else ())
        ),
    )
