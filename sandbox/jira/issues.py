"""Issues: create and bulk create, read, edit, delete, assign, transitions (field values are
checked in `field_values`, changes recorded in `changelog`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.http import ApiError, SandboxResponse
from sandbox.jira.changelog import Changelog
from sandbox.jira.common import (
    DEFAULT_PRIORITY,
    MAX_BULK_CREATE,
    MULTI_VALUED,
    NOT_ON_SCREEN,
    PENDING_LINKS,
    RESOLUTION_DONE,
    Call,
    StoredIssue,
    adf_to_plain,
    resolution_item,
    split_values,
)
from sandbox.jira.field_values import FieldValues
from sandbox.seed import SeedIssueType, SeedProject


class IssueEndpoints(FieldValues, Changelog):
    """Endpoints that create and change issues, validating fields as Jira does."""

    # ------------------------------------------------------------------ field validation

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
        project, issue_type = self.resolve_project_and_type(fields, errors)
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
            values[fid] = self.validate_value(fid, raw, issue_type, project, errors, call.version)
        if isinstance(update, Mapping):
            self._apply_update_ops(
                values, update, issue_type, project, errors, call.version, allow_comment=False
            )
        if issue_type.subtask and values.get("parent") is None and "parent" not in errors:
            errors["parent"] = "Issue type is a sub-task but parent issue key or id not specified."
        for required in issue_type.required_fields:
            if values.get(required) in (None, "", []) and required not in errors:
                errors[required] = f"{self.fields[required].name} is required."
        properties = self.initial_properties(body.get("properties"), errors)
        if errors:
            raise ApiError(400, [], errors)
        pending = values.pop(PENDING_LINKS, [])
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
        self._make_pending_links(issue, pending)
        items = self.diff_items(issue, {}, issue.values)
        items.insert(0, self.status_item(None, issue.status))
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
            values[fid] = self.validate_value(
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
        self._make_pending_links(issue, values.pop(PENDING_LINKS, []))
        self._apply_values(issue, values, call, "issue_updated")
        for text in comments:
            self.create_comment(issue, text, call.actor)
        if call.request.arg("returnIssue") == "true":
            return SandboxResponse(200, self.issue_json(issue, version=call.version))
        return SandboxResponse(204)

    def _link_to_add(
        self, verb: str, argument: Any, errors: dict[str, str]
    ) -> tuple[dict[str, Any], str, int] | None:
        """(type, which end the other issue is, its id) of an `issuelinks` add, or None with
        Jira's refusal recorded."""
        if verb != "add" or not isinstance(argument, Mapping):
            errors["issuelinks"] = f"Operation '{verb}' is not supported for field 'issuelinks'."
            return None
        link_type = self.link_type(argument.get("type"))
        if link_type is None:
            errors["issuelinks"] = "No issue link type with that name or id."
            return None
        for end in ("outwardIssue", "inwardIssue"):
            ref = argument.get(end)
            if isinstance(ref, Mapping):
                other = self.find_issue(str(ref.get("key", ref.get("id", ""))))
                if other is None:
                    errors["issuelinks"] = f"Issue Does Not Exist ({end})."
                    return None
                return link_type, end, other.id
        errors["issuelinks"] = "An issue link needs an outwardIssue or an inwardIssue."
        return None

    def _make_pending_links(self, issue: StoredIssue, pending: list[Any]) -> None:
        """Links asked for in the same create or edit, once the issue exists."""
        for link_type, end, other in pending:
            if end == "outwardIssue":
                self.add_link(link_type, issue.id, other)
            else:
                self.add_link(link_type, other, issue.id)

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
                if fid in issue_type.hidden_fields:
                    errors[fid] = NOT_ON_SCREEN.format(fid)
                    continue
                if fid == "issuelinks":
                    # Links made with the issue: `add` only, one other issue each.
                    link = self._link_to_add(verb, argument, errors)
                    if link is not None:
                        values.setdefault(PENDING_LINKS, []).append(link)
                    continue
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
                    values[fid] = self.validate_value(
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
                converted = self.validate_value(
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
        items = self.diff_items(issue, old_values, new_values)
        if not items:
            return
        issue.values = new_values
        changed = {item["fieldId"] for item in items if "fieldId" in item}
        if event_type == "issue_updated" and changed == {"assignee"}:
            event_type = "issue_assigned"
        self.record_change(issue, items, call.actor, event_type)

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
            values[fid] = self.validate_value(
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
        self._make_pending_links(issue, values.pop(PENDING_LINKS, []))
        new_values = {k: v for k, v in values.items() if v not in (None, [])}
        items = self.diff_items(
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
        items.append(self.status_item(issue.status, transition.to))
        if self.seed.statuses[issue.status].category != self.seed.statuses[transition.to].category:
            issue.status_changed = now
        issue.status = transition.to
        # Cloud's simplified workflows fire the Generic Event on transitions.
        self.record_change(issue, items, call.actor, "issue_generic")
        for text in comments:
            self.create_comment(issue, text, call.actor)
        return SandboxResponse(204)
