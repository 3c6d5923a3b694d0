"""What an administrator (and `crossdept doctor`) reads and sets up: permissions, field contexts
and options, and the admin webhooks."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sandbox.http import ApiError, SandboxResponse
from sandbox.jira.common import Call, Emit
from sandbox.jira.state import JiraState
from sandbox.seed import PROJECT_PERMISSIONS, Seed, SeedField, SeedOption

# The one context a sandbox field has: global, for every project and issue type.
CONTEXT_ID = "10200"
NOT_ADMIN = "You are not authorised to perform this action. Administrator privileges are required."


class AdminEndpoints(JiraState):
    """Permissions, custom field options and webhooks, as a Jira administrator sees them."""

    _option_numbers = itertools.count(20100)  # option ids, unique across sandboxes

    def __init__(
        self, seed: Seed, *, now: Callable[[], datetime], base_url: str, emit: Emit
    ) -> None:
        super().__init__(seed, now=now, base_url=base_url, emit=emit)
        self._webhooks: list[dict[str, Any]] = []
        self._webhook_numbers = itertools.count(1)
        for entry in seed.webhooks:  # registered before the sandbox starts
            self._register_webhook(
                {
                    "name": entry.get("name", "webhook"),
                    "url": entry["url"],
                    "events": list(entry.get("events", [])),
                    "filters": {"issue-related-events-section": entry.get("jql", "")},
                }
            )

    def registered_webhooks(self) -> list[dict[str, Any]]:
        """The admin webhooks, in the order they were registered."""
        return self._webhooks

    # ------------------------------------------------------------------ permissions

    def serve_my_permissions(self, call: Call) -> SandboxResponse:
        """GET /mypermissions: Cloud answers only the permissions asked for (and needs them);
        Data Center answers every permission."""
        key = call.request.arg("projectKey") or call.request.arg("projectId")
        if key is not None and self.find_project(key) is None:
            raise ApiError(404, [f"No project could be found with key '{key}'."])
        # Data Center has no `permissions` parameter (jira.js permissions.ts#getPermissions): like
        # any unknown query parameter, it is ignored and every permission answered.
        asked = call.request.arg("permissions") if self.seed.is_cloud else None
        wanted = [p for p in (asked or "").split(",") if p]
        if self.seed.is_cloud and not wanted:
            raise ApiError(400, ["The permissions query parameter is required."])
        unknown = [p for p in wanted if p not in PROJECT_PERMISSIONS]
        if unknown:
            raise ApiError(404, [f"No permission with key '{unknown[0]}' found."])
        listing = {
            permission: {
                "id": str(index + 10),
                "key": permission,
                "name": permission.replace("_", " ").title(),
                "type": "PROJECT",
                "description": "",
                "havePermission": self.seed.may(call.actor, permission),
            }
            for index, permission in enumerate(PROJECT_PERMISSIONS)
            if not wanted or permission in wanted
        }
        return SandboxResponse(200, {"permissions": listing})

    # ------------------------------------------------------------------ field contexts (Cloud)

    def _select_field(self, field_id: str) -> SeedField:
        found = self.fields.get(field_id)
        if found is None:
            raise ApiError(404, [f"The custom field was not found: {field_id}"])
        if not found.options and found.type not in ("select", "multiselect"):
            raise ApiError(400, ["The custom field doesn't support options."])
        return found

    def _context(self, call: Call) -> SeedField:
        found = self._select_field(call.params[0])
        if call.params[1] != CONTEXT_ID:
            raise ApiError(404, [f"The context was not found: {call.params[1]}"])
        return found

    def serve_field_contexts(self, call: Call) -> SandboxResponse:
        found = self._select_field(call.params[0])
        context = {
            "id": CONTEXT_ID,
            "name": f"Default Configuration Scheme for {found.name}",
            "description": "",
            "isGlobalContext": True,
            "isAnyIssueType": True,
        }
        return SandboxResponse(
            200, {"startAt": 0, "maxResults": 50, "total": 1, "isLast": True, "values": [context]}
        )

    def serve_context_options(self, call: Call) -> SandboxResponse:
        found = self._context(call)
        values = [{"id": o.id, "value": o.value, "disabled": False} for o in found.options]
        return SandboxResponse(
            200,
            {
                "startAt": 0,
                "maxResults": 100,
                "total": len(values),
                "isLast": True,
                "values": values,
            },
        )

    def serve_add_context_options(self, call: Call) -> SandboxResponse:
        """POST options: each value new to the context; an existing one refuses the whole call."""
        if call.actor not in self.seed.admins:
            raise ApiError(403, [NOT_ADMIN])
        found = self._context(call)
        body = call.request.json() or {}
        values = [str(o.get("value", "")) for o in body.get("options") or []]
        existing = {o.value for o in found.options}
        for value in values:
            if not value.strip():
                raise ApiError(400, ["The option value can't be empty."])
            if value in existing:
                raise ApiError(400, [f"The option '{value}' already exists."])
        added = tuple(SeedOption(str(next(self._option_numbers)), v) for v in values)
        self.fields[found.id] = dataclasses.replace(found, options=found.options + added)
        return SandboxResponse(
            200, {"options": [{"id": o.id, "value": o.value, "disabled": False} for o in added]}
        )

    # ------------------------------------------------------------------ workflows (Cloud)

    def serve_bulk_get_workflows(self, call: Call) -> SandboxResponse:
        """POST /workflows by project and issue type: each workflow with its statuses and
        transitions (global ones from any status, directed ones linked from theirs)."""
        body = call.request.json() or {}
        categories = {"new": "TODO", "indeterminate": "IN_PROGRESS", "done": "DONE"}
        names: list[str] = []
        for pair in body.get("projectAndIssueTypes") or []:
            project = self.find_project(str(pair.get("projectId")))
            kind = next(
                (
                    t
                    for t in (project.issue_types if project else ())
                    if t.id == pair.get("issueTypeId")
                ),
                None,
            )
            if kind is not None and kind.workflow not in names:
                names.append(kind.workflow)
        names += [
            n
            for n in body.get("workflowNames") or []
            if n in self.seed.workflows and n not in names
        ]
        workflows, statuses = [], {}
        for name in names:
            workflow = self.seed.workflows[name]
            ids = {status: self.seed.statuses[status].id for status in workflow.statuses}
            for status, sid in ids.items():
                statuses[sid] = {
                    "id": sid,
                    "name": status,
                    "statusReference": sid,
                    "statusCategory": categories[self.seed.statuses[status].category],
                    "scope": {"type": "GLOBAL"},
                    "description": "",
                }
            transitions: list[dict[str, Any]] = [
                {
                    "id": "1",
                    "name": "Create",
                    "type": "INITIAL",
                    "links": [],
                    "toStatusReference": ids[workflow.statuses[0]],
                }
            ]
            for transition in workflow.transitions:
                transitions.append(
                    {
                        "id": transition.id,
                        "name": transition.name,
                        "type": "DIRECTED" if transition.sources else "GLOBAL",
                        "links": [
                            {"fromStatusReference": ids[source], "fromPort": 0, "toPort": 0}
                            for source in transition.sources
                        ],
                        "toStatusReference": ids[transition.to],
                    }
                )
            workflows.append(
                {
                    "id": f"wf-{name}",
                    "name": name,
                    "description": "",
                    "isEditable": True,
                    "scope": {"type": "GLOBAL"},
                    "statuses": [
                        {"statusReference": sid, "deprecated": False} for sid in ids.values()
                    ],
                    "transitions": transitions,
                    "version": {"id": f"wf-{name}-1", "versionNumber": 1},
                }
            )
        return SandboxResponse(200, {"statuses": list(statuses.values()), "workflows": workflows})

    # ------------------------------------------------------------------ admin webhooks

    def _register_webhook(self, body: dict[str, Any]) -> dict[str, Any]:
        number = next(self._webhook_numbers)
        webhook = {
            "self": f"{self.base_url}/rest/webhooks/1.0/webhook/{number}",
            "name": body["name"],
            "url": body["url"],
            "events": list(body.get("events") or []),
            "filters": dict(body.get("filters") or {}),
            "excludeBody": bool(body.get("excludeBody", False)),
            "enabled": True,
            "lastUpdatedUser": "",
            "lastUpdatedDisplayName": "",
            "lastUpdated": int(self.now().timestamp() * 1000),
        }
        self._webhooks.append(webhook)
        return webhook

    def serve_list_webhooks(self, call: Call) -> SandboxResponse:
        if call.actor not in self.seed.admins:
            raise ApiError(403, [NOT_ADMIN])
        return SandboxResponse(200, [dict(w) for w in self.registered_webhooks()])

    def serve_register_webhook(self, call: Call) -> SandboxResponse:
        if call.actor not in self.seed.admins:
            raise ApiError(403, [NOT_ADMIN])
        body = call.request.json() or {}
        if not str(body.get("url", "")).startswith(("https://", "http://")):
            raise ApiError(400, ["The webhook URL must be an absolute http(s) URL."])
        return SandboxResponse(201, dict(self._register_webhook(body)))
