"""What every area of the Jira fake shares: limits, seed-derived tables, records, and helpers."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sandbox import jql
from sandbox.http import ApiError, SandboxRequest, SandboxResponse
from sandbox.seed import SeedIssueType, SeedProject

Emit = Callable[[str, dict[str, Any]], object]
Handler = Callable[["Call"], SandboxResponse]

MAX_BULK_CREATE = 50  # https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-bulk-post
NO_ISSUE = -1  # an issue id no issue has: what an unknown key matches under validateQuery=warn
MAX_PROPERTY_KEY = 255  # https://developer.atlassian.com/server/jira/platform/entity-properties/
MAX_PROPERTY_VALUE = 32768
NOT_FOUND_ISSUE = "Issue does not exist or you do not have permission to see it."
# Where the `issuelinks` adds of a create or edit wait until the issue exists (never stored).
PENDING_LINKS = "__pending_links"
NOT_ON_SCREEN = "Field '{0}' cannot be set. It is not on the appropriate screen, or unknown."
ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
PRIORITIES = (("1", "Highest"), ("2", "High"), ("3", "Medium"), ("4", "Low"), ("5", "Lowest"))
DEFAULT_PRIORITY = "3"
RESOLUTION_DONE = {
    "id": "10000",
    "name": "Done",
    "description": "Work has been completed on this issue.",
}
LINK_TYPES = (
    {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
    {"id": "10001", "name": "Cloners", "inward": "is cloned by", "outward": "clones"},
    {"id": "10002", "name": "Duplicate", "inward": "is duplicated by", "outward": "duplicates"},
    {"id": "10003", "name": "Relates", "inward": "relates to", "outward": "relates to"},
)
SYSTEM_FIELDS: dict[str, tuple[str, dict[str, Any]]] = {
    "summary": ("Summary", {"type": "string", "system": "summary"}),
    "description": ("Description", {"type": "string", "system": "description"}),
    "issuetype": ("Issue Type", {"type": "issuetype", "system": "issuetype"}),
    "project": ("Project", {"type": "project", "system": "project"}),
    "status": ("Status", {"type": "status", "system": "status"}),
    "assignee": ("Assignee", {"type": "user", "system": "assignee"}),
    "reporter": ("Reporter", {"type": "user", "system": "reporter"}),
    "creator": ("Creator", {"type": "user", "system": "creator"}),
    "priority": ("Priority", {"type": "priority", "system": "priority"}),
    "labels": ("Labels", {"type": "array", "items": "string", "system": "labels"}),
    "duedate": ("Due date", {"type": "date", "system": "duedate"}),
    "created": ("Created", {"type": "datetime", "system": "created"}),
    "updated": ("Updated", {"type": "datetime", "system": "updated"}),
    "resolution": ("Resolution", {"type": "resolution", "system": "resolution"}),
    "resolutiondate": ("Resolved", {"type": "datetime", "system": "resolutiondate"}),
    "parent": ("Parent", {"type": "issuelink", "system": "parent"}),
    "subtasks": ("Sub-tasks", {"type": "array", "items": "issuelinks", "system": "subtasks"}),
    "issuelinks": (
        "Linked Issues",
        {"type": "array", "items": "issuelinks", "system": "issuelinks"},
    ),
    "comment": ("Comment", {"type": "comments-page", "system": "comment"}),
}
SETTABLE_SYSTEM_FIELDS = {
    "summary", "description", "issuetype", "project", "assignee", "reporter", "priority", "labels",
    "duedate", "parent",
}  # fmt: skip
CUSTOM_SCHEMAS: dict[str, dict[str, Any]] = {
    "text": {
        "type": "string",
        "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textfield",
    },
    "textarea": {
        "type": "string",
        "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textarea",
    },
    "select": {
        "type": "option",
        "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select",
    },
    "multiselect": {
        "type": "array",
        "items": "option",
        "custom": "com.atlassian.jira.plugin.system.customfieldtypes:multiselect",
    },
    "datepicker": {
        "type": "date",
        "custom": "com.atlassian.jira.plugin.system.customfieldtypes:datepicker",
    },
    "datetime": {
        "type": "datetime",
        "custom": "com.atlassian.jira.plugin.system.customfieldtypes:datetime",
    },
    "userpicker": {
        "type": "user",
        "custom": "com.atlassian.jira.plugin.system.customfieldtypes:userpicker",
    },
    "multiuserpicker": {
        "type": "array",
        "items": "user",
        "custom": "com.atlassian.jira.plugin.system.customfieldtypes:multiuserpicker",
    },
    "labels": {
        "type": "array",
        "items": "string",
        "custom": "com.atlassian.jira.plugin.system.customfieldtypes:labels",
    },
    "epiclink": {"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-epic-link"},
    "epicname": {"type": "string", "custom": "com.pyxis.greenhopper.jira:gh-epic-label"},
}
MULTI_VALUED = {"multiselect", "multiuserpicker", "labels"}


def format_timestamp(moment: datetime, tz: Any) -> str:
    """Render a time the way Jira does: 2026-11-22T10:04:41.747+0800."""
    local = moment.astimezone(tz)
    return (
        local.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{local.microsecond // 1000:03d}"
        + local.strftime("%z")
    )


def plain_to_adf(text: str | None) -> dict[str, Any] | None:
    """Wrap wiki text in a minimal Atlassian Document (API v3 speaks ADF, v2 strings)."""
    if text is None:
        return None
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": line}] if line else []}
        for line in text.split("\n")
    ]
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_to_plain(document: Any) -> str:
    """Flatten an ADF document's text nodes, one line per block."""
    if isinstance(document, str):
        return document
    if not isinstance(document, Mapping):
        return ""
    if document.get("type") == "text":
        return str(document.get("text", ""))
    parts = [adf_to_plain(child) for child in document.get("content", []) or []]
    joiner = "\n" if document.get("type") == "doc" else ""
    return joiner.join(parts)


@dataclass
class StoredComment:
    id: int
    author: str
    body: str
    created: datetime
    updated: datetime
    update_author: str


@dataclass
class StoredIssue:
    id: int
    key: str
    project: SeedProject
    issue_type: SeedIssueType
    status: str
    created: datetime
    updated: datetime
    creator: str
    values: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    comments: list[StoredComment] = field(default_factory=list)
    histories: list[dict[str, Any]] = field(default_factory=list)
    remote_links: list[dict[str, Any]] = field(default_factory=list)
    resolution: dict[str, str] | None = None
    resolution_date: datetime | None = None
    status_changed: datetime | None = None


@dataclass
class Call:
    request: SandboxRequest
    version: str
    params: tuple[str, ...]
    actor: str  # login of the authenticated caller


@dataclass
class Notification:
    """An e-mail Jira was asked to send with POST /issue/{key}/notify."""

    issue_key: str
    sender: str
    body: dict[str, Any]


@dataclass
class JqlField:
    name: str
    ordered: bool
    read: Callable[[StoredIssue], list[Any]]
    convert: Callable[[jql.Operand, str], Any]
    sort: Callable[[StoredIssue], Any] | None = None

    def values(self, issue: StoredIssue) -> list[Any]:
        return self.read(issue)

    def coerce(self, operand: jql.Operand, operator: str) -> Any:
        return self.convert(operand, operator)

    def sort_key(self, issue: StoredIssue) -> Any:
        if self.sort is not None:
            return self.sort(issue)
        found = self.read(issue)
        return min(found) if found else None


def text_only(field_name: str) -> Callable[[jql.Operand, str], Any]:
    def convert(operand: jql.Operand, operator: str) -> Any:
        raise jql.JqlError(
            f"The operator '{operator}' is not supported by the '{field_name}' field; Jira searches text "
            "with '~', which the sandbox does not support."
        )

    return convert


def property_atom(value: Any, *, from_query: bool = False) -> Any:
    """Normalise property values so numbers compare as numbers and the rest as strings."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return float(value)
    text = str(value)
    if from_query:
        try:
            return float(text)
        except ValueError:
            return text
    return text


def resolution_item(
    before: Mapping[str, str] | None, after: Mapping[str, str] | None
) -> dict[str, Any]:
    return {
        "field": "resolution",
        "fieldtype": "jira",
        "fieldId": "resolution",
        "from": before["id"] if before else None,
        "fromString": before["name"] if before else None,
        "to": after["id"] if after else None,
        "toString": after["name"] if after else None,
    }


def property_problem(key: str, value: Any, raw_length: int | None = None) -> str | None:
    if not key or len(key) > MAX_PROPERTY_KEY:
        return f"The property key cannot be longer than {MAX_PROPERTY_KEY} characters."
    length = raw_length if raw_length is not None else len(json.dumps(value, ensure_ascii=False))
    if length > MAX_PROPERTY_VALUE:
        return f"The property value cannot be longer than {MAX_PROPERTY_VALUE} characters."
    return None


def split_values(values: Iterable[str]) -> list[str]:
    """Flatten repeated and comma-separated query values (`fields=a,b&fields=c`)."""
    result: list[str] = []
    for value in values:
        result.extend(part.strip() for part in str(value).split(",") if part.strip())
    return result


def select_fields(
    every: Mapping[str, Any], requested: list[str], names: Mapping[str, str]
) -> dict[str, Any]:
    """Apply Jira's `fields` parameter: *all, *navigable, explicit ids, -excluded."""
    include: set[str] = set()
    exclude = {r[1:] for r in requested if r.startswith("-")}
    positive = [r for r in requested if not r.startswith("-")]
    if not positive:
        positive = ["*all"]
    by_name = {name.lower(): fid for fid, name in names.items()}
    for entry in positive:
        if entry == "*all":
            include.update(every)
        elif entry == "*navigable":
            include.update(k for k in every if k != "comment")
        elif entry in every:
            include.add(entry)
        elif entry.lower() in by_name:
            include.add(by_name[entry.lower()])
    return {k: v for k, v in every.items() if k in include and k not in exclude}


def parse_datetime(text: str) -> datetime | None:
    for pattern in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def parse_jql_time(text: str, now: datetime, tz: Any) -> datetime | None:
    relative = re.fullmatch(r"([+-]?)\s*((?:\d+\s*[wdhm]\s*)+)", text.strip())
    if relative:
        sign = -1 if relative.group(1) == "-" else 1
        total = timedelta()
        units = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
        for amount, unit in re.findall(r"(\d+)\s*([wdhm])", relative.group(2)):
            total += timedelta(**{units[unit]: int(amount)})
        return now + sign * total
    for pattern in ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=tz)
        except ValueError:
            continue
    return None


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token: str) -> int:
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError(400, ["The nextPageToken is invalid or expired."]) from exc


def single_page(values: list[Any]) -> SandboxResponse:
    """Answer a paged createmeta listing in one page, as Jira does for short lists."""
    return SandboxResponse(
        200,
        {"startAt": 0, "maxResults": 50, "total": len(values), "isLast": True, "values": values},
    )
