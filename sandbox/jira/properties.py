"""Issue properties: list, read, write, delete (keys up to 255, values up to 32 KB of JSON)."""

from __future__ import annotations

import copy
import json

from sandbox.http import ApiError, SandboxResponse
from sandbox.jira.common import (
    Call,
    property_problem,
)
from sandbox.jira.state import JiraState


class PropertyEndpoints(JiraState):
    """Endpoints for issue properties, as apps store data on issues."""

    # ------------------------------------------------------------------ properties

    def serve_list_properties(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
        keys = [
            {"self": f"{self.api_url()}/issue/{issue.id}/properties/{k}", "key": k}
            for k in issue.properties
        ]
        return SandboxResponse(200, {"keys": keys})

    def serve_get_property(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
        key = call.params[1]
        if key not in issue.properties:
            raise ApiError(404, [f"The property with key '{key}' does not exist."])
        return SandboxResponse(200, {"key": key, "value": copy.deepcopy(issue.properties[key])})

    def serve_put_property(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
        key = call.params[1]
        raw = call.request.body
        try:
            value = json.loads(raw) if raw else None
        except ValueError as exc:
            raise ApiError(400, ["The property value must be a valid JSON."]) from exc
        if not raw:
            raise ApiError(400, ["The property value must be a valid JSON."])
        problem = property_problem(key, value, raw_length=len(raw.decode("utf-8", "replace")))
        if problem:
            raise ApiError(400, [problem])
        existed = key in issue.properties
        issue.properties[key] = value
        return SandboxResponse(200 if existed else 201)

    def serve_delete_property(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
        key = call.params[1]
        if key not in issue.properties:
            raise ApiError(404, [f"The property with key '{key}' does not exist."])
        del issue.properties[key]
        return SandboxResponse(204)
