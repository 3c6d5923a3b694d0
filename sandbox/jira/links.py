"""Issue links, remote links and the notify call."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sandbox.http import ApiError, SandboxResponse
from sandbox.jira.common import (
    Call,
    Notification,
    StoredIssue,
)
from sandbox.jira.state import JiraState


class LinkEndpoints(JiraState):
    """Endpoints linking issues to each other and to the web, and sending e-mail."""

    # ------------------------------------------------------------------ links and notify

    def _remote_link_json(self, issue: StoredIssue, link: dict[str, Any]) -> dict[str, Any]:
        return dict(
            copy.deepcopy(link), self=f"{self.api_url()}/issue/{issue.id}/remotelink/{link['id']}"
        )

    def serve_list_remote_links(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
        global_id = call.request.arg("globalId")
        links = [
            link
            for link in issue.remote_links
            if global_id is None or link.get("globalId") == global_id
        ]
        return SandboxResponse(200, [self._remote_link_json(issue, link) for link in links])

    def serve_add_remote_link(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
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
        link = dict(copy.deepcopy(dict(body)), id=self.next_remote_link_id)
        self.next_remote_link_id += 1
        issue.remote_links.append(link)
        return SandboxResponse(
            201, {"id": link["id"], "self": self._remote_link_json(issue, link)["self"]}
        )

    def _find_remote_link(self, issue: StoredIssue, link_id: str) -> dict[str, Any]:
        for link in issue.remote_links:
            if str(link["id"]) == link_id:
                return link
        raise ApiError(404, [f"No remote link with id {link_id}."])

    def serve_get_remote_link(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
        return SandboxResponse(
            200, self._remote_link_json(issue, self._find_remote_link(issue, call.params[1]))
        )

    def serve_put_remote_link(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
        link = self._find_remote_link(issue, call.params[1])
        body = call.request.json()
        if not isinstance(body, Mapping) or not isinstance(body.get("object"), Mapping):
            raise ApiError(
                400, [], {"object": "The remote link needs object.url and object.title."}
            )
        link.update(copy.deepcopy(dict(body)))
        return SandboxResponse(204)

    def serve_delete_remote_link(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
        issue.remote_links.remove(self._find_remote_link(issue, call.params[1]))
        return SandboxResponse(204)

    def serve_create_link(self, call: Call) -> SandboxResponse:
        body = call.request.json()
        if not isinstance(body, Mapping):
            raise ApiError(400, ["A link type and two issues are required."])
        type_ref = body.get("type") or {}
        link_type = self.link_type(type_ref)
        if link_type is None:
            raise ApiError(404, [f"No issue link type with name '{type_ref.get('name')}' found."])
        ends = []
        for end in ("inwardIssue", "outwardIssue"):
            ref = body.get(end) or {}
            issue = self.find_issue(str(ref.get("key", ref.get("id", ""))))
            if issue is None:
                raise ApiError(404, [f"Issue Does Not Exist ({end})."])
            ends.append(issue)
        self.add_link(link_type, ends[0].id, ends[1].id)
        comment = body.get("comment")
        if isinstance(comment, Mapping) and comment.get("body"):
            self.create_comment(ends[0], str(comment["body"]), call.actor)
        return SandboxResponse(201)

    def serve_get_link(self, call: Call) -> SandboxResponse:
        link = self.links.get(int(call.params[0])) if call.params[0].isdigit() else None
        if link is None:
            raise ApiError(404, [f"No issue link with id '{call.params[0]}' exists."])
        return SandboxResponse(
            200,
            {
                "id": call.params[0],
                "type": dict(link["type"]),
                "inwardIssue": self.issue_ref(self.issues[link["inward"]]),
                "outwardIssue": self.issue_ref(self.issues[link["outward"]]),
            },
        )

    def serve_delete_link(self, call: Call) -> SandboxResponse:
        if not call.params[0].isdigit() or int(call.params[0]) not in self.links:
            raise ApiError(404, [f"No issue link with id '{call.params[0]}' exists."])
        del self.links[int(call.params[0])]
        return SandboxResponse(204)

    def serve_notify(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
        body = call.request.json()
        if not isinstance(body, Mapping):
            raise ApiError(400, ["A notification body is required."])
        recipients = body.get("to") or {}
        errors: dict[str, str] = {}
        for ref in recipients.get("users", []) if isinstance(recipients, Mapping) else []:
            self.user_from_ref(ref, "to", errors)
        if errors:
            raise ApiError(400, [], errors)
        self.notifications.append(Notification(issue.key, call.actor, copy.deepcopy(dict(body))))
        return SandboxResponse(204)
