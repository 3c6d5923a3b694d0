"""Field values as Jira checks them on create and edit: types, options, dates, parents, the
project and issue type, the properties given with a new issue."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from sandbox.jira.common import (
    NOT_ON_SCREEN,
    PRIORITIES,
    adf_to_plain,
    parse_datetime,
    property_problem,
)
from sandbox.jira.state import JiraState
from sandbox.seed import SeedField, SeedIssueType, SeedProject


class FieldValues(JiraState):
    """Check and convert the values of a create or edit, collecting Jira's per-field errors."""

    def validate_value(
        self,
        fid: str,
        raw: Any,
        issue_type: SeedIssueType,
        project: SeedProject,
        errors: dict[str, str],
        version: str,
    ) -> Any:
        """Turn one field's REST value into the stored value, recording Jira's refusal in `errors`."""
        if fid in issue_type.hidden_fields:
            errors[fid] = NOT_ON_SCREEN.format(fid)
            return None
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
            return self.user_from_ref(raw, fid, errors)
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
            return self.date_value(fid, raw, errors)
        if fid == "parent":
            return self.parent_value(raw, issue_type, project, errors)
        fld = self.fields.get(fid)
        if fld is None:
            errors[fid] = NOT_ON_SCREEN.format(fid)
            return None
        return self.custom_value(fld, raw, errors, version)

    def date_value(self, fid: str, raw: Any, errors: dict[str, str]) -> str | None:
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

    def parent_value(
        self, raw: Any, issue_type: SeedIssueType, project: SeedProject, errors: dict[str, str]
    ) -> int | None:
        if raw is None:
            return None
        ref = raw.get("key", raw.get("id")) if isinstance(raw, Mapping) else None
        parent = self.find_issue(str(ref)) if ref is not None else None
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

    def custom_value(self, fld: SeedField, raw: Any, errors: dict[str, str], version: str) -> Any:
        if raw is None:
            return None
        kind = fld.type
        if kind == "select":
            return self.option_value(fld, raw, errors)
        if kind == "multiselect":
            if not isinstance(raw, list):
                errors[fld.id] = f"Field '{fld.name}' expects a list of options."
                return None
            chosen = [self.option_value(fld, item, errors) for item in raw]
            return [c for c in chosen if c is not None] or None
        if kind == "datepicker":
            return self.date_value(fld.id, raw, errors)
        if kind == "datetime":
            moment = parse_datetime(raw) if isinstance(raw, str) else None
            if moment is None:
                errors[fld.id] = f"Error parsing time: {raw}"
            return moment
        if kind == "userpicker":
            return self.user_from_ref(raw, fld.id, errors)
        if kind == "multiuserpicker":
            if not isinstance(raw, list):
                errors[fld.id] = f"Field '{fld.name}' expects a list of users."
                return None
            people = [self.user_from_ref(item, fld.id, errors) for item in raw]
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
            epic = self.find_issue(str(raw)) if isinstance(raw, str) else None
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

    def option_value(self, fld: SeedField, raw: Any, errors: dict[str, str]) -> str | None:
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

    def resolve_project_and_type(
        self, fields: Mapping[str, Any], errors: dict[str, str]
    ) -> tuple[SeedProject | None, SeedIssueType | None]:
        raw_project = fields.get("project")
        project = None
        if isinstance(raw_project, Mapping):
            ref = raw_project.get("id", raw_project.get("key"))
            project = self.find_project(str(ref)) if ref is not None else None
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

    def initial_properties(self, raw: Any, errors: dict[str, str]) -> dict[str, Any]:
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
            problem = property_problem(entry["key"], entry["value"])
            if problem:
                errors["properties"] = problem
                continue
            properties[entry["key"]] = copy.deepcopy(entry["value"])
        return properties
