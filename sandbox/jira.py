"""A stateful Jira REST API v2 (Cloud or Data Center flavour) for the parts crossdept uses.

Endpoints follow https://developer.atlassian.com/cloud/jira/platform/rest/v2/ and, for Data
Center, https://docs.atlassian.com/software/jira/docs/api/REST/latest/. Every change queues
the webhook Jira would send, through the `emit` callable given at construction.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sandbox import jql
from sandbox.http import ApiError, SandboxRequest, SandboxResponse
from sandbox.seed import STATUS_CATEGORIES, Seed, SeedField, SeedIssueType, SeedProject, SeedUser

Emit = Callable[[str, dict[str, Any]], object]
Handler = Callable[["_Call"], SandboxResponse]

MAX_BULK_CREATE = 50  # https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-bulk-post
_NO_ISSUE = -1  # an issue id no issue has: what an unknown key matches under validateQuery=warn
MAX_PROPERTY_KEY = 255  # https://developer.atlassian.com/server/jira/platform/entity-properties/
MAX_PROPERTY_VALUE = 32768
NOT_FOUND_ISSUE = "Issue does not exist or you do not have permission to see it."
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
class _Comment:
    id: int
    author: str
    body: str
    created: datetime
    updated: datetime
    update_author: str


@dataclass
class _Issue:
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
    comments: list[_Comment] = field(default_factory=list)
    histories: list[dict[str, Any]] = field(default_factory=list)
    remote_links: list[dict[str, Any]] = field(default_factory=list)
    resolution: dict[str, str] | None = None
    resolution_date: datetime | None = None
    status_changed: datetime | None = None


@dataclass
class _Call:
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
class _JqlField:
    name: str
    ordered: bool
    read: Callable[[_Issue], list[Any]]
    convert: Callable[[jql.Operand, str], Any]
    sort: Callable[[_Issue], Any] | None = None

    def values(self, issue: _Issue) -> list[Any]:
        return self.read(issue)

    def coerce(self, operand: jql.Operand, operator: str) -> Any:
        return self.convert(operand, operator)

    def sort_key(self, issue: _Issue) -> Any:
        if self.sort is not None:
            return self.sort(issue)
        found = self.read(issue)
        return min(found) if found else None


class JiraFake:
    """Jira's REST API over an in-memory store; `handle` answers one authenticated request."""

    def __init__(
        self, seed: Seed, *, now: Callable[[], datetime], base_url: str, emit: Emit
    ) -> None:
        self.seed = seed
        self.now = now
        self.base_url = base_url.rstrip("/")
        self.emit = emit
        self.tz = seed.timezone
        self.users: dict[str, SeedUser] = {u.login: u for u in seed.users}
        self.fields: dict[str, SeedField] = {f.id: f for f in seed.fields}
        self.projects: dict[str, SeedProject] = {p.key: p for p in seed.projects}
        self.issues: dict[int, _Issue] = {}
        self.links: dict[int, dict[str, Any]] = {}
        self.notifications: list[Notification] = []
        self._next_issue_id = 10000
        self._next_key: dict[str, int] = {p.key: 1 for p in seed.projects}
        self._next_comment_id = 10000
        self._next_history_id = 10000
        self._next_link_id = 10000
        self._next_remote_link_id = 10000
        # Set while a /search runs with validateQuery=warn: unknown issue keys are collected here.
        self._jql_warnings: list[str] | None = None
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._register_routes()

    # ------------------------------------------------------------------ routing

    def _register_routes(self) -> None:
        r = self._route
        r("GET", r"serverInfo", self._server_info)
        r("GET", r"myself", self._myself)
        r("GET", r"field", self._list_fields)
        r("GET", r"priority", self._list_priorities)
        r("GET", r"issuetype", self._list_issue_types)
        r("GET", r"issueLinkType", self._list_link_types)
        r("GET", r"project", self._list_projects)
        r("GET", r"project/([^/]+)", self._get_project)
        r("GET", r"project/([^/]+)/statuses", self._project_statuses)
        r("GET", r"issue/createmeta", self._createmeta)
        r("GET", r"issue/createmeta/([^/]+)/issuetypes", self._createmeta_issue_types)
        r("GET", r"issue/createmeta/([^/]+)/issuetypes/([^/]+)", self._createmeta_fields)
        r("POST", r"issue", self._create_issue)
        r("POST", r"issue/bulk", self._bulk_create)
        r("POST", r"issue/bulkfetch", self._bulk_fetch)
        r("GET", r"issue/([^/]+)", self._get_issue)
        r("PUT", r"issue/([^/]+)", self._edit_issue)
        r("DELETE", r"issue/([^/]+)", self._delete_issue)
        r("PUT", r"issue/([^/]+)/assignee", self._assign)
        r("GET", r"issue/([^/]+)/transitions", self._list_transitions)
        r("POST", r"issue/([^/]+)/transitions", self._do_transition)
        r("GET", r"issue/([^/]+)/comment", self._list_comments)
        r("POST", r"issue/([^/]+)/comment", self._add_comment)
        r("GET", r"issue/([^/]+)/comment/([^/]+)", self._get_comment)
        r("PUT", r"issue/([^/]+)/comment/([^/]+)", self._edit_comment)
        r("DELETE", r"issue/([^/]+)/comment/([^/]+)", self._delete_comment)
        r("GET", r"issue/([^/]+)/properties", self._list_properties)
        r("GET", r"issue/([^/]+)/properties/([^/]+)", self._get_property)
        r("PUT", r"issue/([^/]+)/properties/([^/]+)", self._put_property)
        r("DELETE", r"issue/([^/]+)/properties/([^/]+)", self._delete_property)
        r("GET", r"issue/([^/]+)/remotelink", self._list_remote_links)
        r("POST", r"issue/([^/]+)/remotelink", self._add_remote_link)
        r("GET", r"issue/([^/]+)/remotelink/([^/]+)", self._get_remote_link)
        r("PUT", r"issue/([^/]+)/remotelink/([^/]+)", self._put_remote_link)
        r("DELETE", r"issue/([^/]+)/remotelink/([^/]+)", self._delete_remote_link)
        r("POST", r"issue/([^/]+)/notify", self._notify)
        r("POST", r"issueLink", self._create_link)
        r("GET", r"issueLink/([^/]+)", self._get_link)
        r("DELETE", r"issueLink/([^/]+)", self._delete_link)
        r("GET", r"user", self._get_user)
        r("GET", r"user/search", self._search_users)
        r("GET", r"user/bulk", self._bulk_users)
        r("GET", r"search", self._search)
        r("POST", r"search", self._search)
        r("GET", r"search/jql", self._search_jql)
        r("POST", r"search/jql", self._search_jql)

    def _route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(pattern + r"/?"), handler))

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        """Answer one request whose caller is already authenticated (`request.user`)."""
        match = re.fullmatch(r"/rest/api/(2|3|latest)/(.*)", request.path)
        if match is None:
            return ApiError(
                404, [f"The sandbox has no Jira resource at {request.path}."]
            ).response()
        version = "3" if match.group(1) == "3" else "2"
        rest = match.group(2)
        allowed: list[str] = []
        for method, pattern, handler in self._routes:
            found = pattern.fullmatch(rest)
            if found is None:
                continue
            if method != request.method:
                allowed.append(method)
                continue
            actor = self._actor_of(request)
            if actor is None:
                return ApiError(
                    401,
                    [
                        "You are not authenticated. Authentication required to perform this operation."
                    ],
                ).response()
            try:
                return handler(_Call(request, version, found.groups(), actor))
            except ApiError as error:
                return error.response()
        if allowed:
            return ApiError(405, [f"Method {request.method} is not allowed here."]).response()
        return ApiError(404, [f"The sandbox has no Jira resource at {request.path}."]).response()

    def _emit(self, event: str, payload: dict[str, Any]) -> None:
        """Queue the webhook Jira sends for a change (timestamp in epoch milliseconds)."""
        body = {"timestamp": int(self.now().timestamp() * 1000), "webhookEvent": event, **payload}
        self.emit(event, body)

    def _actor_of(self, request: SandboxRequest) -> str | None:
        """The login behind `request.user` (an accountId on Cloud, a username on Data Center)."""
        if request.user is None:
            # Anonymous callers may read serverInfo only, as on a real site.
            return "" if request.path.endswith("/serverInfo") else None
        if self.seed.is_cloud:
            return self.find_user(account_id=request.user)
        return request.user if request.user in self.users else None

    def issue_id_of(self, key_or_id: str) -> int | None:
        """The numeric id of an issue named by key or id, if it exists."""
        issue = self._find_issue(key_or_id)
        return issue.id if issue else None

    # ------------------------------------------------------------------ rendering helpers

    def _ts(self, moment: datetime) -> str:
        return format_timestamp(moment, self.tz)

    def _api(self, version: str = "2") -> str:
        return f"{self.base_url}/rest/api/{version}"

    def user_json(self, login: str | None) -> dict[str, Any] | None:
        """A user as Jira renders it: accountId on Cloud, name/key on Data Center."""
        if login is None:
            return None
        user = self.users[login]
        avatars = {
            size: f"{self.base_url}/secure/useravatar?size={size}"
            for size in ("48x48", "24x24", "16x16", "32x32")
        }
        if self.seed.is_cloud:
            return {
                "self": f"{self._api()}/user?accountId={user.account_id}",
                "accountId": user.account_id,
                "emailAddress": user.email,
                "avatarUrls": avatars,
                "displayName": user.display_name,
                "active": user.active,
                "timeZone": str(self.tz),
                "accountType": "atlassian",
            }
        return {
            "self": f"{self._api()}/user?username={user.login}",
            "name": user.login,
            "key": user.user_key,
            "emailAddress": user.email,
            "avatarUrls": avatars,
            "displayName": user.display_name,
            "active": user.active,
            "timeZone": str(self.tz),
        }

    def _user_id(self, login: str) -> str:
        """The identifier Jira uses for a user in changelogs and JQL."""
        user = self.users[login]
        return user.account_id if self.seed.is_cloud else user.login

    def _status_json(self, name: str) -> dict[str, Any]:
        status = self.seed.statuses[name]
        category = dict(STATUS_CATEGORIES[status.category])
        category["self"] = f"{self._api()}/statuscategory/{category['id']}"
        return {
            "self": f"{self._api()}/status/{status.id}",
            "description": "",
            "iconUrl": f"{self.base_url}/images/icons/statuses/generic.png",
            "name": status.name,
            "id": status.id,
            "statusCategory": category,
        }

    def _issue_type_json(self, issue_type: SeedIssueType) -> dict[str, Any]:
        rendered: dict[str, Any] = {
            "self": f"{self._api()}/issuetype/{issue_type.id}",
            "id": issue_type.id,
            "description": issue_type.description,
            "iconUrl": f"{self.base_url}/images/icons/issuetypes/generic.png",
            "name": issue_type.name,
            "subtask": issue_type.subtask,
        }
        if self.seed.is_cloud:
            rendered["avatarId"] = 10318
            rendered["hierarchyLevel"] = issue_type.hierarchy_level
        return rendered

    def _project_json(self, project: SeedProject, *, with_types: bool = False) -> dict[str, Any]:
        rendered: dict[str, Any] = {
            "self": f"{self._api()}/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "software",
            "avatarUrls": {"48x48": f"{self.base_url}/secure/projectavatar?pid={project.id}"},
        }
        if self.seed.is_cloud:
            rendered["simplified"] = False
        if with_types:
            rendered["issueTypes"] = [self._issue_type_json(t) for t in project.issue_types]
            rendered["lead"] = self.user_json(project.lead)
            rendered["description"] = ""
        return rendered

    def _priority_json(self, priority_id: str) -> dict[str, Any]:
        name = dict(PRIORITIES)[priority_id]
        return {
            "self": f"{self._api()}/priority/{priority_id}",
            "iconUrl": f"{self.base_url}/images/icons/priorities/{name.lower()}.svg",
            "name": name,
            "id": priority_id,
        }

    def _option_json(self, fld: SeedField, option_id: str) -> dict[str, Any]:
        value = next(o.value for o in fld.options if o.id == option_id)
        return {
            "self": f"{self._api()}/customFieldOption/{option_id}",
            "value": value,
            "id": option_id,
        }

    def _issue_ref(self, issue: _Issue) -> dict[str, Any]:
        return {
            "id": str(issue.id),
            "key": issue.key,
            "self": f"{self._api()}/issue/{issue.id}",
            "fields": {
                "summary": issue.values.get("summary"),
                "status": self._status_json(issue.status),
                "priority": self._priority_json(issue.values.get("priority", DEFAULT_PRIORITY)),
                "issuetype": self._issue_type_json(issue.issue_type),
            },
        }

    def _comment_json(self, issue: _Issue, comment: _Comment, version: str = "2") -> dict[str, Any]:
        rendered: dict[str, Any] = {
            "self": f"{self._api(version)}/issue/{issue.id}/comment/{comment.id}",
            "id": str(comment.id),
            "author": self.user_json(comment.author),
            "body": plain_to_adf(comment.body) if version == "3" else comment.body,
            "updateAuthor": self.user_json(comment.update_author),
            "created": self._ts(comment.created),
            "updated": self._ts(comment.updated),
        }
        if self.seed.is_cloud:
            rendered["jsdPublic"] = True
        return rendered

    def _custom_value_json(self, fld: SeedField, value: Any) -> Any:
        if value is None:
            return None
        kind = fld.type
        if kind == "select":
            return self._option_json(fld, value)
        if kind == "multiselect":
            return [self._option_json(fld, v) for v in value] or None
        if kind == "datetime":
            return self._ts(value)
        if kind == "userpicker":
            return self.user_json(value)
        if kind == "multiuserpicker":
            return [self.user_json(v) for v in value] or None
        if kind == "epiclink":
            return self.issues[value].key if value in self.issues else None
        return value

    def _all_fields(self, issue: _Issue, version: str) -> dict[str, Any]:
        values = issue.values
        parent_id = values.get("parent")
        parent = self.issues.get(parent_id) if parent_id is not None else None
        fields: dict[str, Any] = {
            "summary": values.get("summary"),
            "description": plain_to_adf(values.get("description"))
            if version == "3"
            else values.get("description"),
            "issuetype": self._issue_type_json(issue.issue_type),
            "project": self._project_json(issue.project),
            "status": self._status_json(issue.status),
            "priority": self._priority_json(values.get("priority", DEFAULT_PRIORITY)),
            "assignee": self.user_json(values.get("assignee")),
            "reporter": self.user_json(values.get("reporter")),
            "creator": self.user_json(issue.creator),
            "labels": list(values.get("labels", [])),
            "duedate": values.get("duedate"),
            "created": self._ts(issue.created),
            "updated": self._ts(issue.updated),
            "resolution": dict(
                issue.resolution, self=f"{self._api()}/resolution/{issue.resolution['id']}"
            )
            if issue.resolution
            else None,
            "resolutiondate": self._ts(issue.resolution_date) if issue.resolution_date else None,
            "subtasks": [
                self._issue_ref(child)
                for child in self.issues.values()
                if child.values.get("parent") == issue.id and child.issue_type.subtask
            ],
            "issuelinks": self._links_of(issue),
            "comment": {
                "comments": [self._comment_json(issue, c, version) for c in issue.comments],
                "self": f"{self._api(version)}/issue/{issue.id}/comment",
                "maxResults": len(issue.comments),
                "total": len(issue.comments),
                "startAt": 0,
            },
            "components": [],
            "fixVersions": [],
            "versions": [],
            "lastViewed": None,
        }
        if self.seed.is_cloud:
            fields["statuscategorychangedate"] = self._ts(issue.status_changed or issue.created)
        if parent is not None:
            fields["parent"] = self._issue_ref(parent)
        for fld in self.fields.values():
            fields[fld.id] = self._custom_value_json(fld, values.get(fld.id))
        return fields

    def _links_of(self, issue: _Issue) -> list[dict[str, Any]]:
        rendered = []
        for link_id, link in self.links.items():
            link_type = dict(link["type"], self=f"{self._api()}/issueLinkType/{link['type']['id']}")
            entry: dict[str, Any] = {
                "id": str(link_id),
                "self": f"{self._api()}/issueLink/{link_id}",
                "type": link_type,
            }
            if link["outward"] == issue.id and link["inward"] in self.issues:
                entry["inwardIssue"] = self._issue_ref(self.issues[link["inward"]])
            elif link["inward"] == issue.id and link["outward"] in self.issues:
                entry["outwardIssue"] = self._issue_ref(self.issues[link["outward"]])
            else:
                continue
            rendered.append(entry)
        return rendered

    def issue_json(
        self,
        issue: _Issue,
        *,
        version: str = "2",
        fields: Iterable[str] | None = None,
        expand: Iterable[str] = (),
        properties: Iterable[str] = (),
    ) -> dict[str, Any]:
        """An issue as GET /issue/{key} returns it, honouring fields, expand and properties."""
        every = self._all_fields(issue, version)
        wanted = _select_fields(
            every, list(fields) if fields is not None else ["*all"], self._field_names()
        )
        rendered: dict[str, Any] = {
            "expand": ISSUE_EXPAND,
            "id": str(issue.id),
            "self": f"{self._api(version)}/issue/{issue.id}",
            "key": issue.key,
            "fields": wanted,
        }
        expand = set(expand)
        if "changelog" in expand:
            rendered["changelog"] = {
                "startAt": 0,
                "maxResults": len(issue.histories),
                "total": len(issue.histories),
                "histories": [self._history_json(h) for h in issue.histories],
            }
        if "names" in expand:
            names = self._field_names()
            rendered["names"] = {fid: names.get(fid, fid) for fid in wanted}
        props = list(properties)
        if props:
            keys = (
                issue.properties.keys()
                if "*all" in props
                else [p for p in props if p in issue.properties]
            )
            rendered["properties"] = {k: issue.properties[k] for k in keys}
        return rendered

    def _history_json(self, history: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": history["id"],
            "author": self.user_json(history["author"]),
            "created": self._ts(history["created"]),
            "items": copy.deepcopy(history["items"]),
        }

    def _field_names(self) -> dict[str, str]:
        names = {fid: name for fid, (name, _) in SYSTEM_FIELDS.items()}
        names.update({f.id: f.name for f in self.fields.values()})
        return names

    # ------------------------------------------------------------------ lookups

    def _find_issue(self, key_or_id: str) -> _Issue | None:
        if key_or_id.isdigit():
            return self.issues.get(int(key_or_id))
        wanted = key_or_id.upper()
        for issue in self.issues.values():
            if issue.key == wanted:
                return issue
        return None

    def _issue(self, key_or_id: str) -> _Issue:
        issue = self._find_issue(key_or_id)
        if issue is None:
            raise ApiError(404, [NOT_FOUND_ISSUE])
        return issue

    def _find_project(self, key_or_id: str) -> SeedProject | None:
        for project in self.seed.projects:
            if key_or_id in (project.id, project.key) or key_or_id.upper() == project.key:
                return project
        return None

    def find_user(self, *, account_id: str | None = None, name: str | None = None) -> str | None:
        """The login of the user with this accountId (Cloud) or username/key (Data Center)."""
        for user in self.users.values():
            if account_id is not None and user.account_id == account_id:
                return user.login
            if name is not None and name in (user.login, user.user_key):
                return user.login
        return None

    def _user_from_ref(self, ref: Any, field_name: str, errors: dict[str, str]) -> str | None:
        """Read a user reference ({"accountId"} on Cloud, {"name"} on Data Center)."""
        if not isinstance(ref, Mapping):
            errors[field_name] = (
                f"Could not read a user from {json.dumps(ref, ensure_ascii=False)}."
            )
            return None
        if self.seed.is_cloud:
            if "accountId" not in ref:
                errors[field_name] = (
                    "Specify the user by accountId; Jira Cloud no longer accepts name or key."
                )
                return None
            login = self.find_user(account_id=str(ref["accountId"]))
            shown = ref["accountId"]
        else:
            name = ref.get("name", ref.get("key"))
            if name is None:
                errors[field_name] = "Specify the user by name (username) on Jira Data Center."
                return None
            login = self.find_user(name=str(name))
            shown = name
        if login is None:
            errors[field_name] = f"User '{shown}' does not exist."
        return login

    # ------------------------------------------------------------------ metadata endpoints

    def _server_info(self, call: _Call) -> SandboxResponse:
        now = self.now()
        version = self.seed.version
        numbers = [int(p) for p in re.findall(r"\d+", version)[:3]]
        info: dict[str, Any] = {
            "baseUrl": self.base_url,
            "version": version,
            "versionNumbers": numbers,
            "deploymentType": "Cloud" if self.seed.is_cloud else "Server",
            "buildNumber": 100000,
            "buildDate": self._ts(now.replace(hour=0, minute=0, second=0, microsecond=0)),
            "serverTime": self._ts(now),
            "scmInfo": "sandbox",
            "serverTitle": self.seed.server_title,
        }
        if not self.seed.is_cloud:
            # Data Center reports "Server"; jira-python treats anything but "Cloud" alike.
            info["deploymentType"] = "Server"
        return SandboxResponse(200, info)

    def _myself(self, call: _Call) -> SandboxResponse:
        rendered = self.user_json(call.actor)
        assert rendered is not None
        rendered["locale"] = "zh_CN"
        if not self.seed.is_cloud:
            rendered["groups"] = {"size": 1, "items": []}
        return SandboxResponse(200, rendered)

    def _list_fields(self, call: _Call) -> SandboxResponse:
        listing: list[dict[str, Any]] = []
        for fid, (name, schema) in SYSTEM_FIELDS.items():
            entry: dict[str, Any] = {
                "id": fid,
                "name": name,
                "custom": False,
                "orderable": fid in SETTABLE_SYSTEM_FIELDS,
                "navigable": True,
                "searchable": True,
                "clauseNames": [fid],
                "schema": schema,
            }
            if self.seed.is_cloud:
                entry["key"] = fid
            listing.append(entry)
        for fld in self.fields.values():
            schema = dict(CUSTOM_SCHEMAS[fld.type], customId=int(fld.number))
            entry = {
                "id": fld.id,
                "name": fld.name,
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [f"cf[{fld.number}]", fld.name],
                "schema": schema,
            }
            if self.seed.is_cloud:
                entry["key"] = fld.id
                entry["untranslatedName"] = fld.name
            listing.append(entry)
        return SandboxResponse(200, listing)

    def _list_priorities(self, call: _Call) -> SandboxResponse:
        return SandboxResponse(200, [self._priority_json(pid) for pid, _ in PRIORITIES])

    def _list_issue_types(self, call: _Call) -> SandboxResponse:
        seen: dict[str, dict[str, Any]] = {}
        for project in self.seed.projects:
            for issue_type in project.issue_types:
                seen.setdefault(issue_type.id, self._issue_type_json(issue_type))
        return SandboxResponse(200, list(seen.values()))

    def _list_link_types(self, call: _Call) -> SandboxResponse:
        types = [dict(t, self=f"{self._api()}/issueLinkType/{t['id']}") for t in LINK_TYPES]
        return SandboxResponse(200, {"issueLinkTypes": types})

    def _list_projects(self, call: _Call) -> SandboxResponse:
        return SandboxResponse(200, [self._project_json(p) for p in self.seed.projects])

    def _project(self, key_or_id: str) -> SeedProject:
        project = self._find_project(key_or_id)
        if project is None:
            raise ApiError(404, [f"No project could be found with key '{key_or_id}'."])
        return project

    def _get_project(self, call: _Call) -> SandboxResponse:
        return SandboxResponse(
            200, self._project_json(self._project(call.params[0]), with_types=True)
        )

    def _project_statuses(self, call: _Call) -> SandboxResponse:
        project = self._project(call.params[0])
        listing = []
        for issue_type in project.issue_types:
            workflow = self.seed.workflows[issue_type.workflow]
            listing.append(
                dict(
                    self._issue_type_json(issue_type),
                    statuses=[self._status_json(s) for s in workflow.statuses],
                )
            )
        return SandboxResponse(200, listing)

    def _field_meta(self, issue_type: SeedIssueType) -> dict[str, dict[str, Any]]:
        meta: dict[str, dict[str, Any]] = {}
        required_system = {"summary", "issuetype", "project"} | (
            {"parent"} if issue_type.subtask else set()
        )
        for fid in sorted(SETTABLE_SYSTEM_FIELDS):
            name, schema = SYSTEM_FIELDS[fid]
            meta[fid] = {
                "required": fid in required_system,
                "schema": schema,
                "name": name,
                "key": fid,
                "fieldId": fid,
                "hasDefaultValue": fid in ("priority", "reporter"),
                "operations": ["set"],
            }
        for fld in self.fields.values():
            entry: dict[str, Any] = {
                "required": fld.id in issue_type.required_fields,
                "schema": dict(CUSTOM_SCHEMAS[fld.type], customId=int(fld.number)),
                "name": fld.name,
                "key": fld.id,
                "fieldId": fld.id,
                "hasDefaultValue": False,
                "operations": ["set", "add", "remove"] if fld.type in MULTI_VALUED else ["set"],
            }
            if fld.options:
                entry["allowedValues"] = [self._option_json(fld, o.id) for o in fld.options]
            meta[fld.id] = entry
        return meta

    def _createmeta(self, call: _Call) -> SandboxResponse:
        query = call.request.query
        keys = _split_values(query.get("projectKeys", [])) + _split_values(
            query.get("projectIds", [])
        )
        type_names = set(_split_values(query.get("issuetypeNames", [])))
        type_ids = set(_split_values(query.get("issuetypeIds", [])))
        with_fields = "projects.issuetypes.fields" in _split_values(query.get("expand", []))
        projects = [p for p in self.seed.projects if not keys or p.key in keys or p.id in keys]
        rendered = []
        for project in projects:
            types = []
            for issue_type in project.issue_types:
                if type_names and issue_type.name not in type_names:
                    continue
                if type_ids and issue_type.id not in type_ids:
                    continue
                entry = self._issue_type_json(issue_type)
                if with_fields:
                    entry["fields"] = self._field_meta(issue_type)
                types.append(entry)
            rendered.append(dict(self._project_json(project), issuetypes=types))
        return SandboxResponse(200, {"expand": "projects", "projects": rendered})

    def _createmeta_issue_types(self, call: _Call) -> SandboxResponse:
        project = self._project(call.params[0])
        return _single_page([self._issue_type_json(t) for t in project.issue_types])

    def _createmeta_fields(self, call: _Call) -> SandboxResponse:
        project = self._project(call.params[0])
        issue_type = next((t for t in project.issue_types if t.id == call.params[1]), None)
        if issue_type is None:
            raise ApiError(
                404, [f"Issue type with id '{call.params[1]}' does not exist in this project."]
            )
        return _single_page(list(self._field_meta(issue_type).values()))

    # ------------------------------------------------------------------ field validation

    def _validate_value(
        self,
        fid: str,
        raw: Any,
        issue_type: SeedIssueType,
        project: SeedProject,
        errors: dict[str, str],
        version: str,
    ) -> Any:
        """Turn one field's REST value into the stored value, recording Jira's refusal in `errors`."""
        if fid == "summary":
            if not isinstance(raw, str) or not raw.strip():
                errors[fid] = "You must specify a summary of the issue."
            elif "\n" in raw or "\r" in raw:
                errors[fid] = "The summary is invalid because it contains newline characters."
            elif len(raw) > 255:
                errors[fid] = "Summary must be less than 255 characters."
            return raw
        if fid == "description":
            if raw is None:
                return None
            if version == "3":
                if not isinstance(raw, Mapping) or raw.get("type") != "doc":
                    errors[fid] = (
                        "Operation value must be an Atlassian Document (see the Atlassian Document Format)."
                    )
                return adf_to_plain(raw)
            if not isinstance(raw, str):
                errors[fid] = "Operation value must be a string"
            return raw
        if fid in ("assignee", "reporter"):
            if raw is None:
                if fid == "reporter":
                    errors[fid] = "Reporter is required."
                return None
            return self._user_from_ref(raw, fid, errors)
        if fid == "priority":
            if isinstance(raw, Mapping):
                for pid, name in PRIORITIES:
                    if str(raw.get("id")) == pid or raw.get("name") == name:
                        return pid
            errors[fid] = "The priority selected is invalid."
            return None
        if fid == "labels":
            if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
                errors[fid] = "Labels must be a list of strings."
                return []
            for label in raw:
                if " " in label:
                    errors[fid] = f"The label '{label}' contains spaces which is invalid."
            return list(dict.fromkeys(raw))
        if fid == "duedate":
            return self._date_value(fid, raw, errors)
        if fid == "parent":
            return self._parent_value(raw, issue_type, project, errors)
        fld = self.fields.get(fid)
        if fld is None:
            errors[fid] = NOT_ON_SCREEN.format(fid)
            return None
        return self._custom_value(fld, raw, errors, version)

    def _date_value(self, fid: str, raw: Any, errors: dict[str, str]) -> str | None:
        if raw is None:
            return None
        if isinstance(raw, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            try:
                date.fromisoformat(raw)
                return raw
            except ValueError:
                pass
        errors[fid] = f"Error parsing date string: {raw}"
        return None

    def _parent_value(
        self, raw: Any, issue_type: SeedIssueType, project: SeedProject, errors: dict[str, str]
    ) -> int | None:
        if raw is None:
            return None
        ref = raw.get("key", raw.get("id")) if isinstance(raw, Mapping) else None
        parent = self._find_issue(str(ref)) if ref is not None else None
        if parent is None:
            errors["parent"] = "Could not find issue by id or key."
            return None
        if issue_type.subtask:
            if parent.issue_type.subtask:
                errors["parent"] = "Sub-tasks cannot be created under another sub-task."
            elif parent.project.key != project.key:
                errors["parent"] = "Sub-tasks must be created in the same project as the parent."
            return parent.id
        if not self.seed.is_cloud:
            # Data Center links a child to its epic with the Epic Link field, not parent.
            errors["parent"] = (
                "Issue type is not a sub-task, so it cannot have a parent; use Epic Link."
            )
            return None
        if parent.issue_type.hierarchy_level != issue_type.hierarchy_level + 1:
            errors["parent"] = "Given parent work item does not belong to appropriate hierarchy."
            return None
        return parent.id

    def _custom_value(self, fld: SeedField, raw: Any, errors: dict[str, str], version: str) -> Any:
        if raw is None:
            return None
        kind = fld.type
        if kind == "select":
            return self._option_value(fld, raw, errors)
        if kind == "multiselect":
            if not isinstance(raw, list):
                errors[fld.id] = f"Field '{fld.name}' expects a list of options."
                return None
            chosen = [self._option_value(fld, item, errors) for item in raw]
            return [c for c in chosen if c is not None] or None
        if kind == "datepicker":
            return self._date_value(fld.id, raw, errors)
        if kind == "datetime":
            moment = _parse_datetime(raw) if isinstance(raw, str) else None
            if moment is None:
                errors[fld.id] = f"Error parsing time: {raw}"
            return moment
        if kind == "userpicker":
            return self._user_from_ref(raw, fld.id, errors)
        if kind == "multiuserpicker":
            if not isinstance(raw, list):
                errors[fld.id] = f"Field '{fld.name}' expects a list of users."
                return None
            people = [self._user_from_ref(item, fld.id, errors) for item in raw]
            return [p for p in people if p is not None] or None
        if kind == "labels":
            if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
                errors[fld.id] = f"Field '{fld.name}' expects a list of strings."
                return None
            return list(raw) or None
        if kind == "epiclink":
            if self.seed.is_cloud:
                errors[fld.id] = NOT_ON_SCREEN.format(fld.id)
                return None
            epic = self._find_issue(str(raw)) if isinstance(raw, str) else None
            if epic is None:
                errors[fld.id] = f"The issue {raw} does not exist."
                return None
            if epic.issue_type.hierarchy_level != 1:
                errors[fld.id] = f"The issue {epic.key} is not an epic."
                return None
            return epic.id
        if kind == "textarea" and version == "3":
            return adf_to_plain(raw)
        if not isinstance(raw, str):
            errors[fld.id] = f"Field '{fld.name}' expects a string."
            return None
        if kind == "epicname" and not raw.strip():
            errors[fld.id] = f"{fld.name} is required."
        return raw

    def _option_value(self, fld: SeedField, raw: Any, errors: dict[str, str]) -> str | None:
        if isinstance(raw, Mapping):
            for option in fld.options:
                if ("id" in raw and str(raw["id"]) == option.id) or (
                    "value" in raw and raw["value"] == option.value
                ):
                    return option.id
            shown = raw.get("value", raw.get("id"))
            errors[fld.id] = f"Option value '{shown}' is not valid"
            return None
        errors[fld.id] = f"Specify a valid 'id' or 'name' for {fld.name}"
        return None

    def _resolve_project_and_type(
        self, fields: Mapping[str, Any], errors: dict[str, str]
    ) -> tuple[SeedProject | None, SeedIssueType | None]:
        raw_project = fields.get("project")
        project = None
        if isinstance(raw_project, Mapping):
            ref = raw_project.get("id", raw_project.get("key"))
            project = self._find_project(str(ref)) if ref is not None else None
        if project is None:
            errors["project"] = "valid project is required"
            return None, None
        raw_type = fields.get("issuetype")
        if not isinstance(raw_type, Mapping) or not ({"id", "name"} & raw_type.keys()):
            errors["issuetype"] = "Specify an issue type"
            return project, None
        for issue_type in project.issue_types:
            if str(raw_type.get("id")) == issue_type.id or raw_type.get("name") == issue_type.name:
                return project, issue_type
        errors["issuetype"] = "Specify a valid issue type"
        return project, None

    # ------------------------------------------------------------------ create

    def _create_issue(self, call: _Call) -> SandboxResponse:
        body = call.request.json()
        issue = self._create_one(body, call)
        return SandboxResponse(
            201,
            {
                "id": str(issue.id),
                "key": issue.key,
                "self": f"{self._api(call.version)}/issue/{issue.id}",
            },
        )

    def _create_one(self, body: Any, call: _Call) -> _Issue:
        if not isinstance(body, Mapping) or not isinstance(body.get("fields"), Mapping):
            raise ApiError(
                400, ["Can not deserialize instance of IssueUpdateBean: 'fields' is required."]
            )
        fields = dict(body["fields"])
        update = body.get("update") or {}
        errors: dict[str, str] = {}
        project, issue_type = self._resolve_project_and_type(fields, errors)
        if project is None or issue_type is None:
            raise ApiError(400, [], errors)
        values: dict[str, Any] = {
            "priority": DEFAULT_PRIORITY,
            "reporter": call.actor,
            "labels": [],
        }
        if "summary" not in fields and "summary" not in update:
            errors["summary"] = "You must specify a summary of the issue."
        for fid, raw in fields.items():
            if fid in ("project", "issuetype"):
                continue
            values[fid] = self._validate_value(fid, raw, issue_type, project, errors, call.version)
        if isinstance(update, Mapping):
            self._apply_update_ops(
                values, update, issue_type, project, errors, call.version, allow_comment=False
            )
        if issue_type.subtask and values.get("parent") is None and "parent" not in errors:
            errors["parent"] = "Issue type is a sub-task but parent issue key or id not specified."
        for required in issue_type.required_fields:
            if values.get(required) in (None, "", []) and required not in errors:
                errors[required] = f"{self.fields[required].name} is required."
        properties = self._initial_properties(body.get("properties"), errors)
        if errors:
            raise ApiError(400, [], errors)
        now = self.now()
        issue_id = self._next_issue_id
        self._next_issue_id += 1
        number = self._next_key[project.key]
        self._next_key[project.key] = number + 1
        workflow = self.seed.workflows[issue_type.workflow]
        issue = _Issue(
            id=issue_id,
            key=f"{project.key}-{number}",
            project=project,
            issue_type=issue_type,
            status=workflow.statuses[0],
            created=now,
            updated=now,
            creator=call.actor,
            values={k: v for k, v in values.items() if v is not None},
            properties=properties,
        )
        self.issues[issue_id] = issue
        items = self._diff_items(issue, {}, issue.values)
        items.insert(0, self._status_item(None, issue.status))
        history_id = self._next_history_id
        self._next_history_id += 1
        payload: dict[str, Any] = {
            "issue_event_type_name": "issue_created",
            "user": self.user_json(call.actor),
            "issue": self.issue_json(issue),
        }
        if self.seed.is_cloud:
            # Cloud sends the creation's field values as a changelog; Data Center payloads do not.
            payload["changelog"] = {"id": str(history_id), "items": items}
        self._emit("jira:issue_created", payload)
        return issue

    def _initial_properties(self, raw: Any, errors: dict[str, str]) -> dict[str, Any]:
        if raw is None:
            return {}
        properties: dict[str, Any] = {}
        if not isinstance(raw, list):
            errors["properties"] = "Properties must be a list of {key, value}."
            return properties
        for entry in raw:
            if (
                not isinstance(entry, Mapping)
                or not isinstance(entry.get("key"), str)
                or "value" not in entry
            ):
                errors["properties"] = "Each property needs a key and a value."
                continue
            problem = _property_problem(entry["key"], entry["value"])
            if problem:
                errors["properties"] = problem
                continue
            properties[entry["key"]] = copy.deepcopy(entry["value"])
        return properties

    def _bulk_create(self, call: _Call) -> SandboxResponse:
        body = call.request.json()
        updates = body.get("issueUpdates") if isinstance(body, Mapping) else None
        if not isinstance(updates, list):
            raise ApiError(400, ["issueUpdates is required."])
        if len(updates) > MAX_BULK_CREATE:
            raise ApiError(
                400,
                [
                    f"You can create at most {MAX_BULK_CREATE} issues in one request; this request has {len(updates)}."
                ],
            )
        created: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        for number, update in enumerate(updates):
            try:
                issue = self._create_one(update, call)
            except ApiError as error:
                failures.append(
                    {
                        "failedElementNumber": number,
                        "status": error.status,
                        "elementErrors": {"errorMessages": error.messages, "errors": error.errors},
                    }
                )
                continue
            created.append(
                {
                    "id": str(issue.id),
                    "key": issue.key,
                    "self": f"{self._api(call.version)}/issue/{issue.id}",
                }
            )
        status = 201 if created or not updates else 400
        return SandboxResponse(status, {"issues": created, "errors": failures})

    # ------------------------------------------------------------------ read, edit, delete

    def _get_issue(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        query = call.request.query
        fields = _split_values(query["fields"]) if "fields" in query else None
        return SandboxResponse(
            200,
            self.issue_json(
                issue,
                version=call.version,
                fields=fields,
                expand=_split_values(query.get("expand", [])),
                properties=_split_values(query.get("properties", [])),
            ),
        )

    def _edit_issue(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        body = call.request.json()
        if not isinstance(body, Mapping):
            raise ApiError(400, ["No content to map due to end-of-input"])
        fields = body.get("fields") or {}
        update = body.get("update") or {}
        errors: dict[str, str] = {}
        values = dict(issue.values)
        comments: list[str] = []
        for fid, raw in fields.items():
            if fid in ("project", "issuetype"):
                errors[fid] = NOT_ON_SCREEN.format(fid)
                continue
            if fid in update:
                errors[fid] = f"Field '{fid}' cannot be set in both fields and update."
                continue
            values[fid] = self._validate_value(
                fid, raw, issue.issue_type, issue.project, errors, call.version
            )
        if isinstance(update, Mapping):
            comments = self._apply_update_ops(
                values,
                update,
                issue.issue_type,
                issue.project,
                errors,
                call.version,
                allow_comment=True,
            )
        if issue.issue_type.subtask and values.get("parent") is None:
            errors.setdefault(
                "parent", "Issue type is a sub-task but parent issue key or id not specified."
            )
        for required in issue.issue_type.required_fields:
            if values.get(required) in (None, "", []):
                errors.setdefault(required, f"{self.fields[required].name} is required.")
        if errors:
            raise ApiError(400, [], errors)
        self._apply_values(issue, values, call, "issue_updated")
        for text in comments:
            self._create_comment(issue, text, call.actor)
        if call.request.arg("returnIssue") == "true":
            return SandboxResponse(200, self.issue_json(issue, version=call.version))
        return SandboxResponse(204)

    def _apply_update_ops(
        self,
        values: dict[str, Any],
        update: Mapping[str, Any],
        issue_type: SeedIssueType,
        project: SeedProject,
        errors: dict[str, str],
        version: str,
        *,
        allow_comment: bool,
    ) -> list[str]:
        """Apply `update` verbs (set/add/remove) to `values`; return comment bodies to add."""
        comments: list[str] = []
        for fid, operations in update.items():
            if not isinstance(operations, list):
                errors[fid] = "Update operations must be a list."
                continue
            for operation in operations:
                if not isinstance(operation, Mapping) or len(operation) != 1:
                    errors[fid] = "Each update operation is one of set, add, remove, edit."
                    continue
                verb, argument = next(iter(operation.items()))
                if (
                    fid == "comment"
                    and allow_comment
                    and verb == "add"
                    and isinstance(argument, Mapping)
                ):
                    comments.append(
                        adf_to_plain(argument.get("body"))
                        if version == "3"
                        else str(argument.get("body", ""))
                    )
                    continue
                if verb == "set":
                    values[fid] = self._validate_value(
                        fid, argument, issue_type, project, errors, version
                    )
                    continue
                kind = (
                    "labels"
                    if fid == "labels"
                    else (self.fields[fid].type if fid in self.fields else "")
                )
                if verb not in ("add", "remove") or kind not in MULTI_VALUED:
                    errors[fid] = f"Operation '{verb}' is not supported for field '{fid}'."
                    continue
                converted = self._validate_value(
                    fid, [argument], issue_type, project, errors, version
                )
                if not converted:
                    continue
                current = list(values.get(fid) or [])
                item = converted[0]
                if verb == "add" and item not in current:
                    current.append(item)
                elif verb == "remove" and item in current:
                    current.remove(item)
                values[fid] = current
        return comments

    def _apply_values(
        self, issue: _Issue, values: dict[str, Any], call: _Call, event_type: str
    ) -> None:
        """Store new values, record the changelog and queue jira:issue_updated if anything changed."""
        new_values = {k: v for k, v in values.items() if v not in (None, [])}
        old_values = {k: v for k, v in issue.values.items() if v not in (None, [])}
        items = self._diff_items(issue, old_values, new_values)
        if not items:
            return
        issue.values = new_values
        changed = {item["fieldId"] for item in items if "fieldId" in item}
        if event_type == "issue_updated" and changed == {"assignee"}:
            event_type = "issue_assigned"
        self._record(issue, items, call.actor, event_type)

    def _record(
        self, issue: _Issue, items: list[dict[str, Any]], actor: str, event_type: str
    ) -> None:
        now = self.now()
        issue.updated = now
        history = {
            "id": str(self._next_history_id),
            "author": actor,
            "created": now,
            "items": items,
        }
        self._next_history_id += 1
        issue.histories.append(history)
        self._emit(
            "jira:issue_updated",
            {
                "issue_event_type_name": event_type,
                "user": self.user_json(actor),
                "issue": self.issue_json(issue),
                "changelog": {"id": history["id"], "items": copy.deepcopy(items)},
            },
        )

    def _diff_items(
        self, issue: _Issue, old: Mapping[str, Any], new: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        items = []
        for fid in list(dict.fromkeys([*old.keys(), *new.keys()])):
            before, after = old.get(fid), new.get(fid)
            if before == after:
                continue
            items.append(self._change_item(fid, before, after))
        return items

    def _change_item(self, fid: str, before: Any, after: Any) -> dict[str, Any]:
        """One changelog item, shaped like the real webhook samples."""
        from_raw, from_text = self._changelog_value(fid, before)
        to_raw, to_text = self._changelog_value(fid, after)
        if fid in self.fields:
            return {
                "field": self.fields[fid].name,
                "fieldtype": "custom",
                "fieldId": fid,
                "from": from_raw,
                "fromString": from_text,
                "to": to_raw,
                "toString": to_text,
            }
        name = "IssueParentAssociation" if fid == "parent" else fid
        return {
            "field": name,
            "fieldtype": "jira",
            "fieldId": fid,
            "from": from_raw,
            "fromString": from_text,
            "to": to_raw,
            "toString": to_text,
        }

    def _changelog_value(self, fid: str, value: Any) -> tuple[str | None, str | None]:
        if value is None or value == []:
            return None, None
        if fid in ("assignee", "reporter"):
            return self._user_id(value), self.users[value].display_name
        if fid == "priority":
            return value, dict(PRIORITIES)[value]
        if fid == "labels":
            return None, " ".join(value)
        if fid == "duedate":
            return value, f"{value} 00:00:00.0"
        if fid == "parent":
            parent = self.issues.get(value)
            return str(value), parent.key if parent else None
        fld = self.fields.get(fid)
        if fld is None:
            return None, str(value)
        if fld.type == "select":
            return value, self._option_json(fld, value)["value"]
        if fld.type == "multiselect":
            return "[" + ", ".join(value) + "]", ",".join(
                self._option_json(fld, v)["value"] for v in value
            )
        if fld.type == "datetime":
            return self._ts(value), self._ts(value)
        if fld.type == "userpicker":
            return self._user_id(value), self.users[value].display_name
        if fld.type == "multiuserpicker":
            return "[" + ", ".join(self._user_id(v) for v in value) + "]", ", ".join(
                self.users[v].display_name for v in value
            )
        if fld.type == "epiclink":
            epic = self.issues.get(value)
            return str(value), epic.key if epic else None
        return None, str(value)

    def _status_item(self, before: str | None, after: str) -> dict[str, Any]:
        return {
            "field": "status",
            "fieldtype": "jira",
            "fieldId": "status",
            "from": self.seed.statuses[before].id if before else None,
            "fromString": before,
            "to": self.seed.statuses[after].id,
            "toString": after,
        }

    def _delete_issue(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        children = [
            i
            for i in self.issues.values()
            if i.values.get("parent") == issue.id and i.issue_type.subtask
        ]
        if children and call.request.arg("deleteSubtasks") != "true":
            raise ApiError(
                400, ["The issue has subtasks; set deleteSubtasks=true to delete them as well."]
            )
        for victim in [*children, issue]:
            payload = {"user": self.user_json(call.actor), "issue": self.issue_json(victim)}
            del self.issues[victim.id]
            self.links = {
                k: v for k, v in self.links.items() if victim.id not in (v["inward"], v["outward"])
            }
            self._emit("jira:issue_deleted", dict(payload, issue_event_type_name="issue_deleted"))
        return SandboxResponse(204)

    def _assign(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        body = call.request.json()
        if not isinstance(body, Mapping):
            raise ApiError(400, ["A user reference is required."])
        errors: dict[str, str] = {}
        empty = body.get("accountId" if self.seed.is_cloud else "name", "missing") is None
        login = None if empty else self._user_from_ref(body, "assignee", errors)
        if errors:
            raise ApiError(400, [], errors)
        values = dict(issue.values, assignee=login)
        self._apply_values(issue, values, call, "issue_assigned")
        return SandboxResponse(204)

    # ------------------------------------------------------------------ transitions

    def _available_transitions(self, issue: _Issue) -> list[Any]:
        workflow = self.seed.workflows[issue.issue_type.workflow]
        return [
            t
            for t in workflow.transitions
            if t.to != issue.status and (not t.sources or issue.status in t.sources)
        ]

    def _list_transitions(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        with_fields = "transitions.fields" in _split_values(call.request.query.get("expand", []))
        wanted = call.request.arg("transitionId")
        listing = []
        for transition in self._available_transitions(issue):
            if wanted and transition.id != wanted:
                continue
            entry: dict[str, Any] = {
                "id": transition.id,
                "name": transition.name,
                "to": self._status_json(transition.to),
                "hasScreen": False,
                "isGlobal": not transition.sources,
                "isInitial": False,
                "isAvailable": True,
                "isConditional": False,
                "isLooped": False,
            }
            if with_fields:
                entry["fields"] = {}
            listing.append(entry)
        return SandboxResponse(200, {"expand": "transitions", "transitions": listing})

    def _do_transition(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        body = call.request.json()
        transition_ref = body.get("transition") if isinstance(body, Mapping) else None
        if not isinstance(transition_ref, Mapping) or "id" not in transition_ref:
            raise ApiError(400, ["Missing 'transition' identifier"])
        transition = next(
            (t for t in self._available_transitions(issue) if t.id == str(transition_ref["id"])),
            None,
        )
        if transition is None:
            raise ApiError(
                400, [f"Transition id '{transition_ref['id']}' is not valid for this issue."]
            )
        assert isinstance(body, Mapping)
        errors: dict[str, str] = {}
        values = dict(issue.values)
        for fid, raw in (body.get("fields") or {}).items():
            values[fid] = self._validate_value(
                fid, raw, issue.issue_type, issue.project, errors, call.version
            )
        comments: list[str] = []
        if isinstance(body.get("update"), Mapping):
            comments = self._apply_update_ops(
                values,
                body["update"],
                issue.issue_type,
                issue.project,
                errors,
                call.version,
                allow_comment=True,
            )
        if errors:
            raise ApiError(400, [], errors)
        new_values = {k: v for k, v in values.items() if v not in (None, [])}
        items = self._diff_items(
            issue, {k: v for k, v in issue.values.items() if v not in (None, [])}, new_values
        )
        issue.values = new_values
        now = self.now()
        done_before = self.seed.statuses[issue.status].category == "done"
        done_after = self.seed.statuses[transition.to].category == "done"
        if done_after and not done_before:
            issue.resolution = dict(RESOLUTION_DONE)
            issue.resolution_date = now
            items.append(_resolution_item(None, RESOLUTION_DONE))
        elif done_before and not done_after:
            items.append(_resolution_item(issue.resolution, None))
            issue.resolution = None
            issue.resolution_date = None
        items.append(self._status_item(issue.status, transition.to))
        if self.seed.statuses[issue.status].category != self.seed.statuses[transition.to].category:
            issue.status_changed = now
        issue.status = transition.to
        # Cloud's simplified workflows fire the Generic Event on transitions.
        self._record(issue, items, call.actor, "issue_generic")
        for text in comments:
            self._create_comment(issue, text, call.actor)
        return SandboxResponse(204)

    # ------------------------------------------------------------------ comments

    def _comment_text(self, call: _Call) -> str:
        body = call.request.json()
        if not isinstance(body, Mapping) or "body" not in body:
            raise ApiError(400, [], {"comment": "Comment body can not be empty!"})
        if call.version == "3":
            text = adf_to_plain(body["body"])
        elif not isinstance(body["body"], str):
            raise ApiError(
                400, [], {"comment": "Comment body must be a string in API v2 (wiki markup)."}
            )
        else:
            text = body["body"]
        if not text.strip():
            raise ApiError(400, [], {"comment": "Comment body can not be empty!"})
        return text

    def _create_comment(self, issue: _Issue, text: str, actor: str) -> _Comment:
        now = self.now()
        comment = _Comment(self._next_comment_id, actor, text, now, now, actor)
        self._next_comment_id += 1
        issue.comments.append(comment)
        issue.updated = now
        self._emit(
            "comment_created",
            {"comment": self._comment_json(issue, comment), "issue": self._reduced_issue(issue)},
        )
        self._emit(
            "jira:issue_updated",
            {
                "issue_event_type_name": "issue_commented",
                "user": self.user_json(actor),
                "issue": self.issue_json(issue),
                "comment": self._comment_json(issue, comment),
            },
        )
        return comment

    def _reduced_issue(self, issue: _Issue) -> dict[str, Any]:
        """The issue as comment_* webhooks carry it: only a handful of fields."""
        every = self._all_fields(issue, "2")
        keep = ("summary", "issuetype", "project", "assignee", "priority", "status")
        return {
            "id": str(issue.id),
            "self": f"{self._api()}/issue/{issue.id}",
            "key": issue.key,
            "fields": {k: every[k] for k in keep},
        }

    def _find_comment(self, issue: _Issue, comment_id: str) -> _Comment:
        for comment in issue.comments:
            if str(comment.id) == comment_id:
                return comment
        raise ApiError(404, [f"Can not find a comment for the id: {comment_id}."])

    def _list_comments(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        start = int(call.request.arg("startAt", "0") or 0)
        limit = int(call.request.arg("maxResults", "50") or 50)
        ordered = list(issue.comments)
        if call.request.arg("orderBy") in ("-created", "-updated"):
            ordered.reverse()
        page = ordered[start : start + limit]
        return SandboxResponse(
            200,
            {
                "startAt": start,
                "maxResults": limit,
                "total": len(ordered),
                "comments": [self._comment_json(issue, c, call.version) for c in page],
            },
        )

    def _add_comment(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        comment = self._create_comment(issue, self._comment_text(call), call.actor)
        return SandboxResponse(201, self._comment_json(issue, comment, call.version))

    def _get_comment(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        return SandboxResponse(
            200, self._comment_json(issue, self._find_comment(issue, call.params[1]), call.version)
        )

    def _edit_comment(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        comment = self._find_comment(issue, call.params[1])
        comment.body = self._comment_text(call)
        comment.updated = self.now()
        comment.update_author = call.actor
        issue.updated = comment.updated
        self._emit(
            "comment_updated",
            {"comment": self._comment_json(issue, comment), "issue": self._reduced_issue(issue)},
        )
        self._emit(
            "jira:issue_updated",
            {
                "issue_event_type_name": "issue_comment_edited",
                "user": self.user_json(call.actor),
                "issue": self.issue_json(issue),
                "comment": self._comment_json(issue, comment),
            },
        )
        return SandboxResponse(200, self._comment_json(issue, comment, call.version))

    def _delete_comment(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        comment = self._find_comment(issue, call.params[1])
        issue.comments.remove(comment)
        issue.updated = self.now()
        rendered = self._comment_json(issue, comment)
        self._emit("comment_deleted", {"comment": rendered, "issue": self._reduced_issue(issue)})
        self._emit(
            "jira:issue_updated",
            {
                "issue_event_type_name": "issue_comment_deleted",
                "user": self.user_json(call.actor),
                "issue": self.issue_json(issue),
                "comment": rendered,
            },
        )
        return SandboxResponse(204)

    # ------------------------------------------------------------------ properties

    def _list_properties(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        keys = [
            {"self": f"{self._api()}/issue/{issue.id}/properties/{k}", "key": k}
            for k in issue.properties
        ]
        return SandboxResponse(200, {"keys": keys})

    def _get_property(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        key = call.params[1]
        if key not in issue.properties:
            raise ApiError(404, [f"The property with key '{key}' does not exist."])
        return SandboxResponse(200, {"key": key, "value": copy.deepcopy(issue.properties[key])})

    def _put_property(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        key = call.params[1]
        raw = call.request.body
        try:
            value = json.loads(raw) if raw else None
        except ValueError as exc:
            raise ApiError(400, ["The property value must be a valid JSON."]) from exc
        if not raw:
            raise ApiError(400, ["The property value must be a valid JSON."])
        problem = _property_problem(key, value, raw_length=len(raw.decode("utf-8", "replace")))
        if problem:
            raise ApiError(400, [problem])
        existed = key in issue.properties
        issue.properties[key] = value
        return SandboxResponse(200 if existed else 201)

    def _delete_property(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        key = call.params[1]
        if key not in issue.properties:
            raise ApiError(404, [f"The property with key '{key}' does not exist."])
        del issue.properties[key]
        return SandboxResponse(204)

    # ------------------------------------------------------------------ links and notify

    def _remote_link_json(self, issue: _Issue, link: dict[str, Any]) -> dict[str, Any]:
        return dict(
            copy.deepcopy(link), self=f"{self._api()}/issue/{issue.id}/remotelink/{link['id']}"
        )

    def _list_remote_links(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        global_id = call.request.arg("globalId")
        links = [
            link
            for link in issue.remote_links
            if global_id is None or link.get("globalId") == global_id
        ]
        return SandboxResponse(200, [self._remote_link_json(issue, link) for link in links])

    def _add_remote_link(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        body = call.request.json()
        link_object = body.get("object") if isinstance(body, Mapping) else None
        if (
            not isinstance(link_object, Mapping)
            or not link_object.get("url")
            or not link_object.get("title")
        ):
            raise ApiError(
                400, [], {"object": "The remote link needs object.url and object.title."}
            )
        assert isinstance(body, Mapping)
        global_id = body.get("globalId")
        for link in issue.remote_links:
            if global_id and link.get("globalId") == global_id:
                link.update(copy.deepcopy(dict(body)))
                return SandboxResponse(
                    200, {"id": link["id"], "self": self._remote_link_json(issue, link)["self"]}
                )
        link = dict(copy.deepcopy(dict(body)), id=self._next_remote_link_id)
        self._next_remote_link_id += 1
        issue.remote_links.append(link)
        return SandboxResponse(
            201, {"id": link["id"], "self": self._remote_link_json(issue, link)["self"]}
        )

    def _find_remote_link(self, issue: _Issue, link_id: str) -> dict[str, Any]:
        for link in issue.remote_links:
            if str(link["id"]) == link_id:
                return link
        raise ApiError(404, [f"No remote link with id {link_id}."])

    def _get_remote_link(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        return SandboxResponse(
            200, self._remote_link_json(issue, self._find_remote_link(issue, call.params[1]))
        )

    def _put_remote_link(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        link = self._find_remote_link(issue, call.params[1])
        body = call.request.json()
        if not isinstance(body, Mapping) or not isinstance(body.get("object"), Mapping):
            raise ApiError(
                400, [], {"object": "The remote link needs object.url and object.title."}
            )
        link.update(copy.deepcopy(dict(body)))
        return SandboxResponse(204)

    def _delete_remote_link(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        issue.remote_links.remove(self._find_remote_link(issue, call.params[1]))
        return SandboxResponse(204)

    def _create_link(self, call: _Call) -> SandboxResponse:
        body = call.request.json()
        if not isinstance(body, Mapping):
            raise ApiError(400, ["A link type and two issues are required."])
        type_ref = body.get("type") or {}
        link_type = next(
            (
                t
                for t in LINK_TYPES
                if type_ref.get("name") == t["name"] or str(type_ref.get("id")) == t["id"]
            ),
            None,
        )
        if link_type is None:
            raise ApiError(404, [f"No issue link type with name '{type_ref.get('name')}' found."])
        ends = []
        for end in ("inwardIssue", "outwardIssue"):
            ref = body.get(end) or {}
            issue = self._find_issue(str(ref.get("key", ref.get("id", ""))))
            if issue is None:
                raise ApiError(404, [f"Issue Does Not Exist ({end})."])
            ends.append(issue)
        link_id = self._next_link_id
        self._next_link_id += 1
        self.links[link_id] = {"type": dict(link_type), "inward": ends[0].id, "outward": ends[1].id}
        comment = body.get("comment")
        if isinstance(comment, Mapping) and comment.get("body"):
            self._create_comment(ends[0], str(comment["body"]), call.actor)
        return SandboxResponse(201)

    def _get_link(self, call: _Call) -> SandboxResponse:
        link = self.links.get(int(call.params[0])) if call.params[0].isdigit() else None
        if link is None:
            raise ApiError(404, [f"No issue link with id '{call.params[0]}' exists."])
        return SandboxResponse(
            200,
            {
                "id": call.params[0],
                "type": dict(link["type"]),
                "inwardIssue": self._issue_ref(self.issues[link["inward"]]),
                "outwardIssue": self._issue_ref(self.issues[link["outward"]]),
            },
        )

    def _delete_link(self, call: _Call) -> SandboxResponse:
        if not call.params[0].isdigit() or int(call.params[0]) not in self.links:
            raise ApiError(404, [f"No issue link with id '{call.params[0]}' exists."])
        del self.links[int(call.params[0])]
        return SandboxResponse(204)

    def _notify(self, call: _Call) -> SandboxResponse:
        issue = self._issue(call.params[0])
        body = call.request.json()
        if not isinstance(body, Mapping):
            raise ApiError(400, ["A notification body is required."])
        recipients = body.get("to") or {}
        errors: dict[str, str] = {}
        for ref in recipients.get("users", []) if isinstance(recipients, Mapping) else []:
            self._user_from_ref(ref, "to", errors)
        if errors:
            raise ApiError(400, [], errors)
        self.notifications.append(Notification(issue.key, call.actor, copy.deepcopy(dict(body))))
        return SandboxResponse(204)

    # ------------------------------------------------------------------ users

    def _get_user(self, call: _Call) -> SandboxResponse:
        request = call.request
        if self.seed.is_cloud:
            if request.arg("username") is not None or request.arg("key") is not None:
                raise ApiError(
                    400,
                    [
                        "The query parameters 'username' and 'key' are not supported in GDPR strict mode."
                    ],
                )
            account_id = request.arg("accountId")
            login = self.find_user(account_id=account_id) if account_id else None
        else:
            name = request.arg("username") or request.arg("key")
            login = self.find_user(name=name) if name else None
        if login is None:
            raise ApiError(
                404, ["Specified user does not exist or you do not have required permissions"]
            )
        return SandboxResponse(200, self.user_json(login))

    def _bulk_users(self, call: _Call) -> SandboxResponse:
        """Cloud's GET /user/bulk: up to 200 accountIds in one call; unknown ones are left out.

        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-users/#api-rest-api-2-user-bulk-get
        Data Center has no such resource.
        """
        request = call.request
        if not self.seed.is_cloud:
            raise ApiError(404, [f"The sandbox has no Jira resource at {request.path}."])
        wanted = request.query.get("accountId") or []
        if not wanted:
            raise ApiError(400, ["At least one accountId is required."])
        found = [login for a in wanted if (login := self.find_user(account_id=a)) is not None]
        start = int(request.arg("startAt", "0") or 0)
        limit = int(request.arg("maxResults", "10") or 10)
        page = found[start : start + limit]
        return SandboxResponse(
            200,
            {
                "maxResults": limit,
                "startAt": start,
                "total": len(found),
                "isLast": start + len(page) >= len(found),
                "values": [self.user_json(login) for login in page],
            },
        )

    def _search_users(self, call: _Call) -> SandboxResponse:
        request = call.request
        if self.seed.is_cloud:
            if request.arg("username") is not None:
                raise ApiError(
                    400, ["The query parameter 'username' is not supported in GDPR strict mode."]
                )
            needle = (request.arg("query") or "").lower()
            account_id = request.arg("accountId")
        else:
            needle = (request.arg("username") or "").lower()
            account_id = None
        if not needle and not account_id:
            raise ApiError(400, ["The username query parameter was not provided"])
        found = [
            u.login
            for u in self.users.values()
            if (account_id and u.account_id == account_id)
            or (self.seed.is_cloud and needle and u.account_id.lower() == needle)
            or (
                needle
                and (
                    u.display_name.lower().startswith(needle)
                    or u.email.lower().startswith(needle)
                    or (not self.seed.is_cloud and u.login.lower().startswith(needle))
                    or any(w.startswith(needle) for w in u.display_name.lower().split())
                )
            )
        ]
        start = int(request.arg("startAt", "0") or 0)
        limit = int(request.arg("maxResults", "50") or 50)
        return SandboxResponse(
            200, [self.user_json(login) for login in found[start : start + limit]]
        )

    # ------------------------------------------------------------------ search

    def _search_params(self, call: _Call) -> dict[str, Any]:
        request = call.request
        if request.method == "POST":
            body = request.json()
            if not isinstance(body, Mapping):
                raise ApiError(400, ["A search body is required."])
            params = dict(body)
            for name in ("fields", "expand", "properties"):
                value = params.get(name)
                if isinstance(value, str):
                    params[name] = _split_values([value])
                elif value is None:
                    params[name] = None
                else:
                    params[name] = _split_values([str(v) for v in value])
            return params
        query = request.query
        return {
            "jql": request.arg("jql", ""),
            "startAt": request.arg("startAt"),
            "maxResults": request.arg("maxResults"),
            "nextPageToken": request.arg("nextPageToken"),
            "fields": _split_values(query["fields"]) if "fields" in query else None,
            "expand": _split_values(query.get("expand", [])),
            "properties": _split_values(query.get("properties", [])),
        }

    def _search(self, call: _Call) -> SandboxResponse:
        if self.seed.is_cloud:
            # https://developer.atlassian.com/changelog/#CHANGE-2046 : removed in favour of /search/jql
            raise ApiError(
                410,
                [
                    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."
                ],
            )
        params = self._search_params(call)
        # validateQuery: strict (default, also "true") answers 400 for an unknown issue key;
        # warn (also "false") turns such errors into warningMessages and matches nothing for them.
        validation = str(params.get("validateQuery") or "strict").lower()
        warnings: list[str] | None = [] if validation in ("warn", "false", "none") else None
        self._jql_warnings = warnings
        try:
            found = self.find_issues(str(params.get("jql") or ""), call.actor)
        finally:
            self._jql_warnings = None
        start = int(params.get("startAt") or 0)
        limit = min(int(params.get("maxResults") or 50), 1000)
        page = found[start : start + limit]
        fields = params.get("fields")
        result: dict[str, Any] = {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": limit,
            "total": len(found),
            "issues": [
                self.issue_json(
                    issue,
                    version=call.version,
                    fields=fields if fields is not None else ["*navigable"],
                    expand=params.get("expand") or (),
                    properties=params.get("properties") or (),
                )
                for issue in page
            ],
        }
        if warnings:
            result["warningMessages"] = warnings
        return SandboxResponse(200, result)

    def _bulk_fetch(self, call: _Call) -> SandboxResponse:
        """POST /issue/bulkfetch (Cloud only): up to 100 issues by id or key, errors for the rest."""
        if not self.seed.is_cloud:
            raise ApiError(404, ["null for uri: /rest/api/2/issue/bulkfetch"])
        body = call.request.json()
        wanted = body.get("issueIdsOrKeys") if isinstance(body, Mapping) else None
        if not isinstance(wanted, list) or not wanted:
            raise ApiError(400, ["issueIdsOrKeys must name at least one issue."])
        if len(wanted) > 100:
            raise ApiError(400, ["You can request up to 100 issues."])
        fields = body.get("fields") or ["*navigable"]
        properties = body.get("properties") or ()
        found: dict[int, _Issue] = {}
        errors: list[dict[str, str]] = []
        for ident in wanted:
            issue = self._find_issue(str(ident))
            if issue is None:
                errors.append(
                    {
                        "id": str(ident),
                        "errorMessage": "Issue does not exist or you do not have permission to see it.",
                    }
                )
            else:
                found[issue.id] = issue
        return SandboxResponse(
            200,
            {
                "expand": "",
                "issues": [
                    self.issue_json(
                        found[issue_id],
                        version=call.version,
                        fields=[str(f) for f in fields],
                        properties=[str(p) for p in properties],
                    )
                    for issue_id in sorted(found)  # ascending id order, as documented
                ],
                "issueErrors": errors,
            },
        )

    def _search_jql(self, call: _Call) -> SandboxResponse:
        if not self.seed.is_cloud:
            raise ApiError(404, ["null for uri: /rest/api/2/search/jql"])
        params = self._search_params(call)
        text = str(params.get("jql") or "")
        query = self._parse_jql(text)
        if query.where is None:
            raise ApiError(
                400,
                [
                    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
                ],
            )
        found = self._run_query(query, call.actor)
        token = params.get("nextPageToken")
        start = _decode_page_token(token) if token else 0
        limit = min(int(params.get("maxResults") or 50), 5000)
        page = found[start : start + limit]
        fields = params.get("fields")
        result: dict[str, Any] = {
            "issues": [
                self.issue_json(
                    issue,
                    version=call.version,
                    fields=fields if fields else ["id"],
                    expand=params.get("expand") or (),
                    properties=params.get("properties") or (),
                )
                for issue in page
            ],
            "isLast": start + limit >= len(found),
        }
        if not result["isLast"]:
            result["nextPageToken"] = _encode_page_token(start + limit)
        return SandboxResponse(200, result)

    def _parse_jql(self, text: str) -> jql.Query:
        try:
            query = jql.parse(text)
            resolve = self._jql_resolver("")
            jql.validate(query.where, resolve)
            for key in query.order_by:
                resolve(key.field)
        except jql.JqlError as error:
            raise ApiError(400, [str(error)]) from error
        return query

    def _run_query(self, query: jql.Query, actor: str) -> list[_Issue]:
        resolve = self._jql_resolver(actor)
        try:
            matched = [
                issue
                for issue in self.issues.values()
                if query.where is None or jql.matches(query.where, issue, resolve)
            ]
            if query.order_by:
                return jql.sort(matched, query.order_by, resolve)
        except jql.JqlError as error:
            raise ApiError(400, [str(error)]) from error
        return sorted(matched, key=lambda i: i.id, reverse=True)

    def find_issues(self, text: str, actor: str) -> list[_Issue]:
        """Issues matching a JQL query, in the order Jira would return them."""
        return self._run_query(self._parse_jql(text), actor)

    def _jql_resolver(self, actor: str) -> Callable[[str], jql.FieldAdapter[_Issue]]:
        """Map a JQL field name to an adapter that reads and compares that field."""
        now = self.now()

        def resolve(name: str) -> jql.FieldAdapter[_Issue]:
            lowered = name.lower()
            prop = re.fullmatch(r"issue\.property\[([^\]]+)\](?:\.(.+))?", name, re.IGNORECASE)
            if prop:
                return self._property_adapter(name, prop.group(1), prop.group(2))
            cf = re.fullmatch(r"cf\[(\d+)\]|customfield_(\d+)", lowered)
            if cf:
                fid = "customfield_" + (cf.group(1) or cf.group(2))
                if fid not in self.fields:
                    raise jql.JqlError(
                        f"Field '{name}' does not exist or you do not have permission to view it."
                    )
                return self._custom_adapter(self.fields[fid], actor, now)
            system = self._system_adapter(lowered, name, actor, now)
            if system is not None:
                return system
            for fld in self.fields.values():
                if fld.name.lower() == lowered:
                    return self._custom_adapter(fld, actor, now)
            if lowered in _KNOWN_UNSUPPORTED_JQL_FIELDS:
                raise jql.JqlError(
                    f"{jql.PREFIX}the sandbox does not support searching the field '{name}'."
                )
            raise jql.JqlError(
                f"Field '{name}' does not exist or you do not have permission to view it."
            )

        return resolve

    def _unknown_value(self, value: Any, field_name: str) -> jql.JqlError:
        return jql.JqlError(f"The value '{value}' does not exist for the field '{field_name}'.")

    def _issue_operand(self, field_name: str) -> Callable[[jql.Operand, str], int]:
        def convert(operand: jql.Operand, operator: str) -> int:
            if not isinstance(operand, str):
                raise jql.JqlError(
                    f"{jql.PREFIX}the field '{field_name}' takes an issue key or id."
                )
            issue = self._find_issue(operand)
            if issue is None:
                message = f"An issue with key '{operand}' does not exist for field '{field_name}'."
                if self._jql_warnings is None:
                    raise jql.JqlError(message)
                # validateQuery=warn: the clause matches nothing and the error becomes a warning.
                if message not in self._jql_warnings:
                    self._jql_warnings.append(message)
                return _NO_ISSUE
            return issue.id

        return convert

    def _user_operand(self, field_name: str, actor: str) -> Callable[[jql.Operand, str], str]:
        def convert(operand: jql.Operand, operator: str) -> str:
            if isinstance(operand, jql.Function):
                if operand.name != "currentuser":
                    raise jql.JqlError(
                        f"{jql.PREFIX}the field '{field_name}' does not take {operand.name}()."
                    )
                return actor
            if not isinstance(operand, str):
                raise self._unknown_value(operand, field_name)
            login = (
                self.find_user(account_id=operand)
                if self.seed.is_cloud
                else self.find_user(name=operand)
            )
            if login is None:
                raise self._unknown_value(operand, field_name)
            return login

        return convert

    def _time_operand(
        self, field_name: str, now: datetime
    ) -> Callable[[jql.Operand, str], datetime]:
        def convert(operand: jql.Operand, operator: str) -> datetime:
            if isinstance(operand, jql.Function):
                if operand.name != "now":
                    raise jql.JqlError(
                        f"{jql.PREFIX}the field '{field_name}' does not take {operand.name}()."
                    )
                return now
            moment = _parse_jql_time(str(operand), now, self.tz)
            if moment is None:
                raise jql.JqlError(
                    f"Date value '{operand}' for field '{field_name}' is invalid. Valid formats include: "
                    "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
                    "format e.g. '-5d', '4w 2d'."
                )
            return moment

        return convert

    def _system_adapter(
        self, lowered: str, name: str, actor: str, now: datetime
    ) -> _JqlField | None:
        tz = self.tz

        def day(value: str | None) -> list[Any]:
            return [datetime.fromisoformat(value).replace(tzinfo=tz)] if value else []

        if lowered == "project":

            def project_operand(op: jql.Operand, operator: str) -> str:
                project = self._find_project(str(op)) if isinstance(op, str) else None
                if project is None:
                    raise self._unknown_value(op, name)
                return project.key

            return _JqlField(name, False, lambda i: [i.project.key], project_operand)
        if lowered in ("key", "issuekey", "id", "issue"):
            return _JqlField(name, True, lambda i: [i.id], self._issue_operand(name))
        if lowered in ("issuetype", "type"):

            def type_operand(op: jql.Operand, operator: str) -> str:
                for project in self.seed.projects:
                    for issue_type in project.issue_types:
                        if isinstance(op, str) and (
                            op.lower() == issue_type.name.lower() or op == issue_type.id
                        ):
                            return issue_type.name
                raise self._unknown_value(op, name)

            return _JqlField(name, False, lambda i: [i.issue_type.name], type_operand)
        if lowered == "status":

            def status_operand(op: jql.Operand, operator: str) -> str:
                for status in self.seed.statuses.values():
                    if isinstance(op, str) and (
                        op.lower() == status.name.lower() or op == status.id
                    ):
                        return status.name
                raise self._unknown_value(op, name)

            return _JqlField(name, False, lambda i: [i.status], status_operand)
        if lowered in ("statuscategory", "category"):

            def category_operand(op: jql.Operand, operator: str) -> str:
                for key, category in STATUS_CATEGORIES.items():
                    if isinstance(op, str) and op.lower() in (
                        key,
                        category["name"].lower(),
                        str(category["id"]),
                    ):
                        return key
                raise self._unknown_value(op, name)

            return _JqlField(
                name, False, lambda i: [self.seed.statuses[i.status].category], category_operand
            )
        if lowered == "parent":
            return _JqlField(
                name,
                False,
                lambda i: [i.values["parent"]] if "parent" in i.values else [],
                self._issue_operand(name),
            )
        if lowered in ("assignee", "reporter", "creator"):

            def people(i: _Issue) -> list[Any]:
                login = i.creator if lowered == "creator" else i.values.get(lowered)
                return [login] if login else []

            return _JqlField(
                name,
                False,
                people,
                self._user_operand(name, actor),
                sort=lambda i: (
                    self.users[i.values[lowered]].display_name if i.values.get(lowered) else None
                ),
            )
        if lowered in ("duedate", "due"):
            return _JqlField(
                name, True, lambda i: day(i.values.get("duedate")), self._time_operand(name, now)
            )
        if lowered in ("created", "createddate"):
            return _JqlField(name, True, lambda i: [i.created], self._time_operand(name, now))
        if lowered in ("updated", "updateddate"):
            return _JqlField(name, True, lambda i: [i.updated], self._time_operand(name, now))
        if lowered in ("resolved", "resolutiondate"):
            return _JqlField(
                name,
                True,
                lambda i: [i.resolution_date] if i.resolution_date else [],
                self._time_operand(name, now),
            )
        if lowered == "labels":

            def label_operand(op: jql.Operand, operator: str) -> str:
                if not isinstance(op, str):
                    raise jql.JqlError(f"{jql.PREFIX}labels are compared with words or strings.")
                return op

            return _JqlField(name, False, lambda i: list(i.values.get("labels", [])), label_operand)
        if lowered == "priority":

            def priority_operand(op: jql.Operand, operator: str) -> int:
                for pid, pname in PRIORITIES:
                    if isinstance(op, str) and op.lower() in (pname.lower(), pid):
                        return -int(pid)  # higher priority compares greater, as in Jira
                raise self._unknown_value(op, name)

            return _JqlField(
                name,
                True,
                lambda i: [-int(i.values.get("priority", DEFAULT_PRIORITY))],
                priority_operand,
            )
        if lowered == "resolution":

            def resolution_operand(op: jql.Operand, operator: str) -> str:
                if isinstance(op, str) and op.lower() == "done":
                    return "Done"
                if isinstance(op, str) and op.lower() == "unresolved":
                    return "__unresolved__"
                raise self._unknown_value(op, name)

            return _JqlField(
                name,
                False,
                lambda i: [i.resolution["name"]] if i.resolution else ["__unresolved__"],
                resolution_operand,
            )
        if lowered == "summary":
            return _JqlField(name, True, lambda i: [i.values.get("summary", "")], _text_only(name))
        return None

    def _custom_adapter(self, fld: SeedField, actor: str, now: datetime) -> _JqlField:
        kind = fld.type
        name = fld.name

        def raw(i: _Issue) -> list[Any]:
            value = i.values.get(fld.id)
            if value is None:
                return []
            return list(value) if isinstance(value, list) else [value]

        if kind in ("select", "multiselect"):

            def option_operand(op: jql.Operand, operator: str) -> str:
                for option in fld.options:
                    if isinstance(op, str) and op in (option.value, option.id):
                        return option.id
                raise jql.JqlError(f"The option '{op}' for field '{name}' does not exist.")

            return _JqlField(name, False, raw, option_operand)
        if kind == "datepicker":
            tz = self.tz
            return _JqlField(
                name,
                True,
                lambda i: [datetime.fromisoformat(v).replace(tzinfo=tz) for v in raw(i)],
                self._time_operand(name, now),
            )
        if kind == "datetime":
            return _JqlField(name, True, raw, self._time_operand(name, now))
        if kind in ("userpicker", "multiuserpicker"):
            return _JqlField(name, False, raw, self._user_operand(name, actor))
        if kind == "epiclink":
            return _JqlField(name, False, raw, self._issue_operand(name))
        if kind == "labels":
            return _JqlField(name, False, raw, lambda op, operator: str(op))
        return _JqlField(name, True, raw, _text_only(name))

    def _property_adapter(self, name: str, key: str, path: str | None) -> _JqlField:
        def read(i: _Issue) -> list[Any]:
            if key not in i.properties:
                return []
            value: Any = i.properties[key]
            for part in (path or "").split(".") if path else []:
                if not isinstance(value, Mapping) or part not in value:
                    return []
                value = value[part]
            if value is None:
                return []
            items = value if isinstance(value, list) else [value]
            return [_property_atom(v) for v in items if not isinstance(v, Mapping | list)]

        def convert(op: jql.Operand, operator: str) -> Any:
            if not isinstance(op, str):
                raise jql.JqlError(
                    f"{jql.PREFIX}issue properties are compared with words, strings or numbers."
                )
            return _property_atom(op, from_query=True)

        return _JqlField(name, True, read, convert)


_KNOWN_UNSUPPORTED_JQL_FIELDS = {
    "text", "description", "comment", "environment", "component", "fixversion", "affectedversion",
    "sprint", "watcher", "watchers", "votes", "voter", "worklogauthor", "worklogdate", "filter",
    "attachments", "level", "lastviewed", "originalestimate", "remainingestimate", "timespent",
    "issuefunction", "approvals", "request-channel-type", "subtasks", "issuelinktype", "team",
    "epic link", "parent link",
}  # fmt: skip


def _text_only(field_name: str) -> Callable[[jql.Operand, str], Any]:
    def convert(operand: jql.Operand, operator: str) -> Any:
        raise jql.JqlError(
            f"The operator '{operator}' is not supported by the '{field_name}' field; Jira searches text "
            "with '~', which the sandbox does not support."
        )

    return convert


def _property_atom(value: Any, *, from_query: bool = False) -> Any:
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


def _resolution_item(
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


def _property_problem(key: str, value: Any, raw_length: int | None = None) -> str | None:
    if not key or len(key) > MAX_PROPERTY_KEY:
        return f"The property key cannot be longer than {MAX_PROPERTY_KEY} characters."
    length = raw_length if raw_length is not None else len(json.dumps(value, ensure_ascii=False))
    if length > MAX_PROPERTY_VALUE:
        return f"The property value cannot be longer than {MAX_PROPERTY_VALUE} characters."
    return None


def _split_values(values: Iterable[str]) -> list[str]:
    """Flatten repeated and comma-separated query values (`fields=a,b&fields=c`)."""
    result: list[str] = []
    for value in values:
        result.extend(part.strip() for part in str(value).split(",") if part.strip())
    return result


def _select_fields(
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


def _parse_datetime(text: str) -> datetime | None:
    for pattern in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def _parse_jql_time(text: str, now: datetime, tz: Any) -> datetime | None:
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


def _encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_page_token(token: str) -> int:
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError(400, ["The nextPageToken is invalid or expired."]) from exc


def _single_page(values: list[Any]) -> SandboxResponse:
    """Answer a paged createmeta listing in one page, as Jira does for short lists."""
    return SandboxResponse(
        200,
        {"startAt": 0, "maxResults": 50, "total": len(values), "isLast": True, "values": values},
    )
