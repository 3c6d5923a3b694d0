"""What an administrator reads and sets up on a Jira site, for `crossdept doctor` and `setup`:
permissions, issue types, fields and their options, workflow statuses, admin webhooks.

Every call is one the site's own API documents; where Cloud and Data Center differ, both ways are
named next to the call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from plugin.atlassian.queries import quoted
from plugin.spine.errors import RefusedError

# Data Center's Epic Link / Epic Name custom field types (Jira Software). Only the Epic type
# has Epic Name, and an Epic Link may point only at an issue of that type.
EPIC_LINK_TYPE = "com.pyxis.greenhopper.jira:gh-epic-link"
EPIC_NAME_TYPE = "com.pyxis.greenhopper.jira:gh-epic-label"

# Jira Cloud's createmeta pages hold at most 200 entries; Data Center's the same parameters.
CREATEMETA_PAGE = 200


@dataclass(frozen=True)
class SiteType:
    """An issue type of a project: its id, name and level (1 epic, 0 standard, -1 sub-task;
    None on Data Center for a type that is not a sub-task, whose level it does not report)."""

    id: str
    name: str
    level: int | None


@dataclass(frozen=True)
class ScreenField:
    """A field on an issue type's create screen, with the values a select field allows."""

    id: str
    name: str
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkflowGraph:
    """One issue type's workflow: its statuses by category (new, indeterminate, done) and its
    transitions, each from some statuses (None: a global transition, from any status) to one."""

    statuses: Mapping[str, str]
    transitions: tuple[tuple[tuple[str, ...] | None, str], ...]

    def ways_out(self, status: str) -> set[str]:
        """The statuses one transition away from `status`."""
        return {to for sources, to in self.transitions if sources is None or status in sources}


@dataclass(frozen=True)
class SiteProject:
    """One project as crossdept's account sees it."""

    key: str
    id: str
    types: Mapping[str, SiteType]  # by name
    permissions: Mapping[str, bool]  # permission key -> held
    statuses: Mapping[str, Mapping[str, str]]  # issue type name -> status name -> category key
    create_screens: Mapping[str, Mapping[str, ScreenField]] = field(default_factory=dict)
    # An issue's edit screen, by type; None where the project has no issue of that type yet
    # (Jira shows an edit screen only for an issue).
    edit_screens: Mapping[str, Mapping[str, ScreenField] | None] = field(default_factory=dict)
    # Workflows with their transitions, by type; Cloud only (Data Center's REST API has none).
    workflows: Mapping[str, WorkflowGraph] = field(default_factory=dict)


@dataclass(frozen=True)
class Webhooks:
    """The admin webhooks, or why they could not be read (crossdept's account is no admin)."""

    registered: tuple[Mapping[str, Any], ...] = ()
    unreadable: str = ""


class JiraCaller(Protocol):
    """The one thing this reader needs of the Jira gateway."""

    is_cloud: bool
    server_info: dict[str, Any]

    def request_json(
        self,
        method: str,
        template: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | Sequence[tuple[str, str]] | None = None,
        body: Any = None,
        accept: Iterable[int] = (),
    ) -> tuple[int, Any]: ...

    def fields(self) -> list[dict[str, Any]]: ...

    def search_issues(
        self,
        jql: str,
        fields: Sequence[str] = ("summary",),
        properties: Sequence[str] = (),
        limit: int = 500,
    ) -> list[dict[str, Any]]: ...


class JiraAdmin:
    """Read a Jira site's configuration, and make the additive changes `setup` may make."""

    def __init__(self, jira: JiraCaller) -> None:
        self.jira = jira

    @property
    def is_cloud(self) -> bool:
        return self.jira.is_cloud

    def myself(self) -> Mapping[str, Any]:
        """The account crossdept acts as (GET /myself), with its display name."""
        _status, found = self.jira.request_json("GET", "/rest/api/2/myself")
        return found if isinstance(found, Mapping) else {}

    def fields(self) -> dict[str, Mapping[str, Any]]:
        """Every field of the site by id, with its name and schema (the gateway's GET /field)."""
        return {str(item["id"]): item for item in self.jira.fields()}

    def project(self, key: str, permissions: Sequence[str]) -> SiteProject | None:
        """A project's types, crossdept's permissions in it and its statuses; None if it does not
        exist or crossdept may not browse it (Jira answers 404 to both)."""
        status, found = self.jira.request_json(
            "GET", "/rest/api/2/project/{key}", path={"key": key}, accept=(404,)
        )
        if status == 404 or not isinstance(found, Mapping):
            return None
        types = {
            str(kind["name"]): SiteType(str(kind["id"]), str(kind["name"]), _level(kind))
            for kind in found.get("issueTypes") or []
        }
        return SiteProject(
            key=str(found.get("key", key)),
            id=str(found.get("id", "")),
            types=types,
            permissions=self.my_permissions(key, permissions),
            statuses=self.statuses(key),
        )

    def my_permissions(self, project: str, wanted: Sequence[str]) -> dict[str, bool]:
        """Which of `wanted` crossdept's account holds in a project. Cloud answers only the keys
        asked for (and requires them); Data Center takes no `permissions` and answers all.
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-permissions/#api-rest-api-2-mypermissions-get
        jira.js src/server/api/permissions.ts#getPermissions (Data Center 11.3)"""
        params = {"projectKey": project}
        if self.is_cloud:
            params["permissions"] = ",".join(wanted)
        _status, found = self.jira.request_json("GET", "/rest/api/2/mypermissions", params=params)
        listing = (found or {}).get("permissions") or {}
        return {key: bool((listing.get(key) or {}).get("havePermission")) for key in wanted}

    def statuses(self, project: str) -> dict[str, dict[str, str]]:
        """Each issue type's workflow statuses and their categories (GET /project/{key}/statuses)."""
        _status, found = self.jira.request_json(
            "GET", "/rest/api/2/project/{key}/statuses", path={"key": project}
        )
        return {
            str(kind.get("name")): {
                str(status.get("name")): str((status.get("statusCategory") or {}).get("key", ""))
                for status in kind.get("statuses") or []
            }
            for kind in found or []
            if isinstance(kind, Mapping)
        }

    def create_screen(self, project: str, issue_type_id: str) -> dict[str, ScreenField]:
        """The fields on an issue type's create screen, with select fields' allowed values, page
        by page (GET /issue/createmeta/{project}/issuetypes/{id}, Cloud and Data Center 8.4+)."""
        found: dict[str, ScreenField] = {}
        start = 0
        while True:
            _status, page = self.jira.request_json(
                "GET",
                "/rest/api/2/issue/createmeta/{project}/issuetypes/{type}",
                path={"project": project, "type": issue_type_id},
                params={"startAt": str(start), "maxResults": str(CREATEMETA_PAGE)},
            )
            values = (page or {}).get("values") or []
            for entry in values:
                options = tuple(
                    str(v.get("value") or v.get("name") or "")
                    for v in entry.get("allowedValues") or []
                    if isinstance(v, Mapping)
                )
                fid = str(entry.get("fieldId") or entry.get("key") or "")
                found[fid] = ScreenField(fid, str(entry.get("name", fid)), options)
            start += len(values)
            if not values or (page or {}).get("isLast", True) or start >= page.get("total", 0):
                return found

    def edit_screen(self, project: str, issue_type: str) -> dict[str, ScreenField] | None:
        """The edit screen of the newest issue of a type in a project (GET /issue/{key}/editmeta),
        or None when there is no such issue to ask about."""
        jql = (
            f"project = {quoted([project])} AND issuetype = {quoted([issue_type])} "
            "ORDER BY created DESC"
        )
        found = self.jira.search_issues(jql, fields=("summary",), limit=1)
        if not found:
            return None
        _status, meta = self.jira.request_json(
            "GET", "/rest/api/2/issue/{key}/editmeta", path={"key": str(found[0]["key"])}
        )
        return {
            str(fid): ScreenField(str(fid), str(entry.get("name", fid)))
            for fid, entry in ((meta or {}).get("fields") or {}).items()
            if isinstance(entry, Mapping)
        }

    def workflow(self, project_id: str, issue_type_id: str) -> WorkflowGraph | None:
        """The workflow of an issue type in a project, with its transitions (Jira Cloud's "Bulk
        get workflows"; None on Data Center, whose REST API does not describe transitions).
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-workflows/#api-rest-api-2-workflows-post"""
        if not self.is_cloud:
            return None
        _status, found = self.jira.request_json(
            "POST",
            "/rest/api/2/workflows",
            body={
                "projectAndIssueTypes": [{"projectId": project_id, "issueTypeId": issue_type_id}]
            },
        )
        categories = {"TODO": "new", "IN_PROGRESS": "indeterminate", "DONE": "done"}
        names = {
            str(s.get("statusReference")): (
                str(s.get("name")),
                categories.get(str(s.get("statusCategory")), ""),
            )
            for s in (found or {}).get("statuses") or []
        }
        for workflow in (found or {}).get("workflows") or []:
            statuses = {
                names[ref][0]: names[ref][1]
                for ref in (str(s.get("statusReference")) for s in workflow.get("statuses") or [])
                if ref in names
            }
            transitions = tuple(
                (
                    tuple(
                        names[str(link.get("fromStatusReference"))][0]
                        for link in t.get("links") or []
                        if str(link.get("fromStatusReference")) in names
                    )
                    if t.get("type") != "GLOBAL"
                    else None,
                    names.get(str(t.get("toStatusReference")), ("", ""))[0],
                )
                for t in workflow.get("transitions") or []
                if t.get("type") != "INITIAL"
            )
            return WorkflowGraph(statuses, transitions)
        return None

    def field_context(self, field_id: str) -> str | None:
        """The id of a custom field's global context, where setup adds options (Cloud only;
        None when the field has no global context).
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-custom-field-contexts/"""
        _status, found = self.jira.request_json(
            "GET", "/rest/api/2/field/{field}/context", path={"field": field_id}
        )
        for context in (found or {}).get("values") or []:
            if context.get("isGlobalContext"):
                return str(context["id"])
        return None

    def add_options(self, field_id: str, context_id: str, values: Sequence[str]) -> None:
        """Add select options to a field's context (Cloud; Data Center has no such resource).
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-custom-field-options/#api-rest-api-2-field-fieldid-context-contextid-option-post"""
        self.jira.request_json(
            "POST",
            "/rest/api/2/field/{field}/context/{context}/option",
            path={"field": field_id, "context": context_id},
            body={"options": [{"value": value, "disabled": False} for value in values]},
        )

    def webhooks(self) -> Webhooks:
        """The admin webhooks; only a Jira administrator may read them."""
        try:
            _status, found = self.jira.request_json("GET", "/rest/webhooks/1.0/webhook")
        except RefusedError as error:
            if error.status in (401, 403):
                return Webhooks(unreadable=error.reason())
            raise
        return Webhooks(tuple(w for w in found or [] if isinstance(w, Mapping)))

    def register_webhook(self, registration: Mapping[str, Any]) -> Mapping[str, Any]:
        """Register an admin webhook (POST /rest/webhooks/1.0/webhook)."""
        _status, found = self.jira.request_json(
            "POST", "/rest/webhooks/1.0/webhook", body=dict(registration)
        )
        return found if isinstance(found, Mapping) else {}


def _level(kind: Mapping[str, Any]) -> int | None:
    """Cloud says hierarchyLevel; Data Center only whether a type is a sub-task."""
    if "hierarchyLevel" in kind:
        return int(kind["hierarchyLevel"])
    return -1 if kind.get("subtask") else None
