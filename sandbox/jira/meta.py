"""Server info, myself, fields, priorities, issue and link types, projects, createmeta."""

from __future__ import annotations

import re
from typing import Any

from sandbox.http import ApiError, SandboxResponse
from sandbox.jira.common import (
    CUSTOM_SCHEMAS,
    LINK_TYPES,
    MULTI_VALUED,
    PRIORITIES,
    SETTABLE_SYSTEM_FIELDS,
    SYSTEM_FIELDS,
    Call,
    single_page,
    split_values,
)
from sandbox.jira.state import JiraState
from sandbox.seed import SeedIssueType, SeedProject


class MetaEndpoints(JiraState):
    """Endpoints describing the instance: what exists and how it may be filled in."""

    # ------------------------------------------------------------------ metadata endpoints

    def serve_server_info(self, call: Call) -> SandboxResponse:
        now = self.now()
        version = self.seed.version
        numbers = [int(p) for p in re.findall(r"\d+", version)[:3]]
        info: dict[str, Any] = {
            "baseUrl": self.base_url,
            "version": version,
            "versionNumbers": numbers,
            "deploymentType": "Cloud" if self.seed.is_cloud else "Server",
            "buildNumber": 100000,
            "buildDate": self.timestamp(now.replace(hour=0, minute=0, second=0, microsecond=0)),
            "serverTime": self.timestamp(now),
            "scmInfo": "sandbox",
            "serverTitle": self.seed.server_title,
        }
        if not self.seed.is_cloud:
            # Data Center reports "Server"; jira-python treats anything but "Cloud" alike.
            info["deploymentType"] = "Server"
        return SandboxResponse(200, info)

    def serve_myself(self, call: Call) -> SandboxResponse:
        rendered = self.user_json(call.actor)
        assert rendered is not None
        rendered["locale"] = "zh_CN"
        if not self.seed.is_cloud:
            rendered["groups"] = {"size": 1, "items": []}
        return SandboxResponse(200, rendered)

    def serve_list_fields(self, call: Call) -> SandboxResponse:
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

    def serve_list_priorities(self, call: Call) -> SandboxResponse:
        return SandboxResponse(200, [self.priority_json(pid) for pid, _ in PRIORITIES])

    def serve_list_issue_types(self, call: Call) -> SandboxResponse:
        seen: dict[str, dict[str, Any]] = {}
        for project in self.seed.projects:
            for issue_type in project.issue_types:
                seen.setdefault(issue_type.id, self.issue_type_json(issue_type))
        return SandboxResponse(200, list(seen.values()))

    def serve_list_link_types(self, call: Call) -> SandboxResponse:
        types = [dict(t, self=f"{self.api_url()}/issueLinkType/{t['id']}") for t in LINK_TYPES]
        return SandboxResponse(200, {"issueLinkTypes": types})

    def serve_list_projects(self, call: Call) -> SandboxResponse:
        return SandboxResponse(200, [self.project_json(p) for p in self.seed.projects])

    def _project(self, key_or_id: str) -> SeedProject:
        project = self.find_project(key_or_id)
        if project is None:
            raise ApiError(404, [f"No project could be found with key '{key_or_id}'."])
        return project

    def serve_get_project(self, call: Call) -> SandboxResponse:
        return SandboxResponse(
            200, self.project_json(self._project(call.params[0]), with_types=True)
        )

    def serve_project_statuses(self, call: Call) -> SandboxResponse:
        project = self._project(call.params[0])
        listing = []
        for issue_type in project.issue_types:
            workflow = self.seed.workflows[issue_type.workflow]
            listing.append(
                dict(
                    self.issue_type_json(issue_type),
                    statuses=[self.status_json(s) for s in workflow.statuses],
                )
            )
        return SandboxResponse(200, listing)

    def _field_meta(self, issue_type: SeedIssueType) -> dict[str, dict[str, Any]]:
        meta: dict[str, dict[str, Any]] = {}
        required_system = {"summary", "issuetype", "project"} | (
            {"parent"} if issue_type.subtask else set()
        )
        for fid in sorted(SETTABLE_SYSTEM_FIELDS):
            if fid in issue_type.hidden_fields:
                continue
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
            if fld.id in issue_type.hidden_fields:
                continue
            if fld.type == "epicname" and fld.id not in issue_type.required_fields:
                # Jira Software's Epic Name is on the Epic type's screens alone.
                continue
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
                entry["allowedValues"] = [self.option_json(fld, o.id) for o in fld.options]
            meta[fld.id] = entry
        return meta

    def serve_editmeta(self, call: Call) -> SandboxResponse:
        """The fields an issue's edit screen offers (its type's screen, less project and type)."""
        issue = self.existing_issue(call.params[0])
        meta = self._field_meta(issue.issue_type)
        for fid in ("project", "issuetype"):
            meta.pop(fid, None)
        return SandboxResponse(200, {"fields": meta})

    def serve_createmeta(self, call: Call) -> SandboxResponse:
        query = call.request.query
        keys = split_values(query.get("projectKeys", [])) + split_values(
            query.get("projectIds", [])
        )
        type_names = set(split_values(query.get("issuetypeNames", [])))
        type_ids = set(split_values(query.get("issuetypeIds", [])))
        with_fields = "projects.issuetypes.fields" in split_values(query.get("expand", []))
        projects = [p for p in self.seed.projects if not keys or p.key in keys or p.id in keys]
        rendered = []
        for project in projects:
            types = []
            for issue_type in project.issue_types:
                if type_names and issue_type.name not in type_names:
                    continue
                if type_ids and issue_type.id not in type_ids:
                    continue
                entry = self.issue_type_json(issue_type)
                if with_fields:
                    entry["fields"] = self._field_meta(issue_type)
                types.append(entry)
            rendered.append(dict(self.project_json(project), issuetypes=types))
        return SandboxResponse(200, {"expand": "projects", "projects": rendered})

    def serve_createmeta_issue_types(self, call: Call) -> SandboxResponse:
        project = self._project(call.params[0])
        return single_page([self.issue_type_json(t) for t in project.issue_types])

    def serve_createmeta_fields(self, call: Call) -> SandboxResponse:
        project = self._project(call.params[0])
        issue_type = next((t for t in project.issue_types if t.id == call.params[1]), None)
        if issue_type is None:
            raise ApiError(
                404, [f"Issue type with id '{call.params[1]}' does not exist in this project."]
            )
        return single_page(list(self._field_meta(issue_type).values()))
