"""Comments: add, read, edit, delete and list, each queueing the webhooks Jira sends."""

from __future__ import annotations

from collections.abc import Mapping

from sandbox.http import ApiError, SandboxResponse
from sandbox.jira.common import (
    Call,
    StoredComment,
    StoredIssue,
    adf_to_plain,
)
from sandbox.jira.state import JiraState


class CommentEndpoints(JiraState):
    """Endpoints for an issue's comments."""

    # ------------------------------------------------------------------ comments

    def _comment_text(self, call: Call) -> str:
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

    def _find_comment(self, issue: StoredIssue, comment_id: str) -> StoredComment:
        for comment in issue.comments:
            if str(comment.id) == comment_id:
                return comment
        raise ApiError(404, [f"Can not find a comment for the id: {comment_id}."])

    def serve_list_comments(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
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
                "comments": [self.comment_json(issue, c, call.version) for c in page],
            },
        )

    def serve_add_comment(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
        comment = self.create_comment(issue, self._comment_text(call), call.actor)
        return SandboxResponse(201, self.comment_json(issue, comment, call.version))

    def serve_get_comment(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
        return SandboxResponse(
            200, self.comment_json(issue, self._find_comment(issue, call.params[1]), call.version)
        )

    def serve_edit_comment(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
        comment = self._find_comment(issue, call.params[1])
        comment.body = self._comment_text(call)
        comment.updated = self.now()
        comment.update_author = call.actor
        issue.updated = comment.updated
        self.emit_webhook(
            "comment_updated",
            self.comment_event(issue, self.comment_json(issue, comment)),
        )
        self.emit_webhook(
            "jira:issue_updated",
            {
                "issue_event_type_name": "issue_comment_edited",
                "user": self.user_json(call.actor),
                "issue": self.issue_json(issue),
                "comment": self.comment_json(issue, comment),
            },
        )
        return SandboxResponse(200, self.comment_json(issue, comment, call.version))

    def serve_delete_comment(self, call: Call) -> SandboxResponse:
        issue = self.existing_issue(call.params[0])
        comment = self._find_comment(issue, call.params[1])
        issue.comments.remove(comment)
        issue.updated = self.now()
        rendered = self.comment_json(issue, comment)
        self.emit_webhook("comment_deleted", self.comment_event(issue, rendered))
        self.emit_webhook(
            "jira:issue_updated",
            {
                "issue_event_type_name": "issue_comment_deleted",
                "user": self.user_json(call.actor),
                "issue": self.issue_json(issue),
                "comment": rendered,
            },
        )
        return SandboxResponse(204)
