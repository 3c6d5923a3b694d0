"""Issues: field validation, create and bulk create, read, edit, delete, assign, transitions."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from sandbox.http import ApiError, SandboxResponse
from sandbox.jira.common import (
    DEFAULT_PRIORITY,
    MAX_BULK_CREATE,
    MULTI_VALUED,
    NOT_ON_SCREEN,
    PRIORITIES,
    RESOLUTION_DONE,
    Call,
    StoredIssue,
    adf_to_plain,
    parse_datetime,
    property_problem,
    resolution_item,
    split_values,
)
from sandbox.jira.state import JiraState
from sandbox.seed import SeedField, SeedIssueType, SeedProject


class IssueEndpoints(JiraState):
    """Endpoints that create and change issues, validating fields as Jira does."""

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

    # ------------------------------------------------------------------ create

    def serve_create_issue(self, call: Call) -> SandboxResponse:
        body = call.request.json()
        issue = self._create_one(body, call)
        return SandboxResponse(
            201,
            {
                "id": str(issue.id),
                "key": issue.key,
                "self": f"{self.api_url(call.version)}/issue/{issue.id}",
            },
        )

    def _create_one(self, body: Any, call: Call) -> StoredIssue:
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
        issue_id = self.next_issue_id
        self.next_issue_id += 1
        number = self.next_key[project.key]
        self.next_key[project.key] = number + 1
        workflow = self.seed.workflows[issue_type.workflow]
        issue = StoredIssue(
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
        history_id = self.next_history_id
        self.next_history_id += 1
        payload: dict[str, Any] = {
            "issue_event_type_name": "issue_created",
            "user": self.user_json(call.actor),
            "issue": self.issue_json(issue),
        }
        if self.seed.is_cloud:
            # Cloud sends the creation's field values as a changelog; Data Center payloads do not.
            payload["changelog"] = {"id": str(history_id), "items": items}
        self.emit_webhook("jira:issue_created", payload)
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
            problem = property_problem(entry["key"], entry["value"])
            if problem:
                errors["properties"] = problem
                continue
            properties[entry["key"]] = copy.deepcopy(entry["value"])
        return properties

    def serve_bulk_create(self, call: Call) -> SandboxResponse:
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
                    "self": f"{self.api_url(call.version)}/issue/{issue.id}",
                }
            )
        status = 201 if created or not updates else 400
        return SandboxResponse(status, {"issues": created, "errors": failures})

    # ------------------------------------------------------------------ read, edit, delete

    def serve_get_issue(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
        query = call.request.query
        fields = split_values(query["fields"]) if "fields" in query else None
        return SandboxResponse(
            200,
            self.issue_json(
                issue,
                version=call.version,
                fields=fields,
                expand=split_values(query.get("expand", [])),
                properties=split_values(query.get("properties", [])),
            ),
        )

    def serve_edit_issue(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
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
            self.create_comment(issue, text, call.actor)
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
        self, issue: StoredIssue, values: dict[str, Any], call: Call, event_type: str
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
        self, issue: StoredIssue, items: list[dict[str, Any]], actor: str, event_type: str
    ) -> None:
        now = self.now()
        issue.updated = now
        history = {
            "id": str(self.next_history_id),
            "author": actor,
            "created": now,
            "items": items,
        }
        self.next_history_id += 1
        issue.histories.append(history)
        self.emit_webhook(
            "jira:issue_updated",
            {
                "issue_event_type_name": event_type,
                "user": self.user_json(actor),
                "issue": self.issue_json(issue),
                "changelog": {"id": history["id"], "items": copy.deepcopy(items)},
            },
        )

    def _diff_items(
        self, issue: StoredIssue, old: Mapping[str, Any], new: Mapping[str, Any]
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
            return self.user_id(value), self.users[value].display_name
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
            return value, self.option_json(fld, value)["value"]
        if fld.type == "multiselect":
            return "[" + ", ".join(value) + "]", ",".join(
                self.option_json(fld, v)["value"] for v in value
            )
        if fld.type == "datetime":
            return self.timestamp(value), self.timestamp(value)
        if fld.type == "userpicker":
            return self.user_id(value), self.users[value].display_name
        if fld.type == "multiuserpicker":
            return "[" + ", ".join(self.user_id(v) for v in value) + "]", ", ".join(
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

    def serve_delete_issue(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
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
            self.emit_webhook(
                "jira:issue_deleted", dict(payload, issue_event_type_name="issue_deleted")
            )
        return SandboxResponse(204)

    def serve_assign(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
        body = call.request.json()
        if not isinstance(body, Mapping):
            raise ApiError(400, ["A user reference is required."])
        errors: dict[str, str] = {}
        empty = body.get("accountId" if self.seed.is_cloud else "name", "missing") is None
        login = None if empty else self.user_from_ref(body, "assignee", errors)
        if errors:
            raise ApiError(400, [], errors)
        values = dict(issue.values, assignee=login)
        self._apply_values(issue, values, call, "issue_assigned")
        return SandboxResponse(204)

    # ------------------------------------------------------------------ transitions

    def _available_transitions(self, issue: StoredIssue) -> list[Any]:
        workflow = self.seed.workflows[issue.issue_type.workflow]
        return [
            t
            for t in workflow.transitions
            if t.to != issue.status and (not t.sources or issue.status in t.sources)
        ]

    def serve_list_transitions(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
        with_fields = "transitions.fields" in split_values(call.request.query.get("expand", []))
        wanted = call.request.arg("transitionId")
        listing = []
        for transition in self._available_transitions(issue):
            if wanted and transition.id != wanted:
                continue
            entry: dict[str, Any] = {
                "id": transition.id,
                "name": transition.name,
                "to": self.status_json(transition.to),
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

    def serve_do_transition(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
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
            items.append(resolution_item(None, RESOLUTION_DONE))
        elif done_before and not done_after:
            items.append(resolution_item(issue.resolution, None))
            issue.resolution = None
            issue.resolution_date = None
        items.append(self._status_item(issue.status, transition.to))
        if self.seed.statuses[issue.status].category != self.seed.statuses[transition.to].category:
            issue.status_changed = now
        issue.status = transition.to
        # Cloud's simplified workflows fire the Generic Event on transitions.
        self._record(issue, items, call.actor, "issue_generic")
        for text in comments:
            self.create_comment(issue, text, call.actor)
        return SandboxResponse(204)
