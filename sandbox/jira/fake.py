"""The Jira fake: every endpoint area composed, and the routes that reach them."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from sandbox.http import ApiError, SandboxRequest, SandboxResponse
from sandbox.jira.admin import AdminEndpoints
from sandbox.jira.comments import CommentEndpoints
from sandbox.jira.common import (
    Call,
    Emit,
    Handler,
)
from sandbox.jira.issues import IssueEndpoints
from sandbox.jira.links import LinkEndpoints
from sandbox.jira.meta import MetaEndpoints
from sandbox.jira.properties import PropertyEndpoints
from sandbox.jira.search import SearchEndpoints
from sandbox.jira.users import UserEndpoints
from sandbox.seed import Seed

# POSTs that only read: a search's next page may reuse its first page's result after them.
READ_ONLY_POSTS = re.compile(r"(^|/)(search(/jql)?|issue/bulkfetch|mypermissions|workflows)$")


class JiraFake(
    MetaEndpoints,
    IssueEndpoints,
    CommentEndpoints,
    PropertyEndpoints,
    LinkEndpoints,
    UserEndpoints,
    SearchEndpoints,
    AdminEndpoints,
):
    """Jira's REST API over an in-memory store; `handle` answers one authenticated request."""

    def __init__(
        self, seed: Seed, *, now: Callable[[], datetime], base_url: str, emit: Emit
    ) -> None:
        super().__init__(seed, now=now, base_url=base_url, emit=emit)
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._register_routes()

    # ------------------------------------------------------------------ routing

    def _register_routes(self) -> None:
        r = self._route
        r("GET", r"serverInfo", self.serve_server_info)
        r("GET", r"myself", self.serve_myself)
        r("GET", r"field", self.serve_list_fields)
        r("GET", r"priority", self.serve_list_priorities)
        r("GET", r"issuetype", self.serve_list_issue_types)
        r("GET", r"issueLinkType", self.serve_list_link_types)
        r("GET", r"project", self.serve_list_projects)
        r("GET", r"project/([^/]+)", self.serve_get_project)
        r("GET", r"project/([^/]+)/statuses", self.serve_project_statuses)
        r("GET", r"issue/createmeta", self.serve_createmeta)
        r("GET", r"issue/createmeta/([^/]+)/issuetypes", self.serve_createmeta_issue_types)
        r("GET", r"issue/createmeta/([^/]+)/issuetypes/([^/]+)", self.serve_createmeta_fields)
        r("POST", r"issue", self.serve_create_issue)
        r("POST", r"issue/bulk", self.serve_bulk_create)
        r("POST", r"issue/bulkfetch", self.serve_bulk_fetch)
        r("GET", r"issue/([^/]+)", self.serve_get_issue)
        r("PUT", r"issue/([^/]+)", self.serve_edit_issue)
        r("DELETE", r"issue/([^/]+)", self.serve_delete_issue)
        r("PUT", r"issue/([^/]+)/assignee", self.serve_assign)
        r("GET", r"issue/([^/]+)/editmeta", self.serve_editmeta)
        r("GET", r"issue/([^/]+)/transitions", self.serve_list_transitions)
        r("POST", r"issue/([^/]+)/transitions", self.serve_do_transition)
        r("GET", r"issue/([^/]+)/comment", self.serve_list_comments)
        r("POST", r"issue/([^/]+)/comment", self.serve_add_comment)
        r("GET", r"issue/([^/]+)/comment/([^/]+)", self.serve_get_comment)
        r("PUT", r"issue/([^/]+)/comment/([^/]+)", self.serve_edit_comment)
        r("DELETE", r"issue/([^/]+)/comment/([^/]+)", self.serve_delete_comment)
        r("GET", r"issue/([^/]+)/properties", self.serve_list_properties)
        r("GET", r"issue/([^/]+)/properties/([^/]+)", self.serve_get_property)
        r("PUT", r"issue/([^/]+)/properties/([^/]+)", self.serve_put_property)
        r("DELETE", r"issue/([^/]+)/properties/([^/]+)", self.serve_delete_property)
        r("GET", r"issue/([^/]+)/remotelink", self.serve_list_remote_links)
        r("POST", r"issue/([^/]+)/remotelink", self.serve_add_remote_link)
        r("GET", r"issue/([^/]+)/remotelink/([^/]+)", self.serve_get_remote_link)
        r("PUT", r"issue/([^/]+)/remotelink/([^/]+)", self.serve_put_remote_link)
        r("DELETE", r"issue/([^/]+)/remotelink/([^/]+)", self.serve_delete_remote_link)
        r("POST", r"issue/([^/]+)/notify", self.serve_notify)
        r("POST", r"issueLink", self.serve_create_link)
        r("GET", r"issueLink/([^/]+)", self.serve_get_link)
        r("DELETE", r"issueLink/([^/]+)", self.serve_delete_link)
        r("GET", r"user", self.serve_get_user)
        r("GET", r"user/search", self.serve_search_users)
        r("GET", r"user/bulk", self.serve_bulk_users)
        r("GET", r"search", self.serve_search)
        r("POST", r"search", self.serve_search)
        r("GET", r"search/jql", self.serve_search_jql)
        r("POST", r"search/jql", self.serve_search_jql)
        r("GET", r"mypermissions", self.serve_my_permissions)
        r("POST", r"workflows", self.serve_bulk_get_workflows)
        r("GET", r"field/([^/]+)/context", self.serve_field_contexts)
        r("GET", r"field/([^/]+)/context/([^/]+)/option", self.serve_context_options)
        r("POST", r"field/([^/]+)/context/([^/]+)/option", self.serve_add_context_options)
        # Admin webhooks live outside /rest/api (see handle).
        r("GET", r"webhooks:webhook", self.serve_list_webhooks)
        r("POST", r"webhooks:webhook", self.serve_register_webhook)

    def _route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(pattern + r"/?"), handler))

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        """Answer one request whose caller is already authenticated (`request.user`)."""
        match = re.fullmatch(r"/rest/api/(2|3|latest)/(.*)", request.path)
        webhooks = re.fullmatch(r"/rest/webhooks/1\.0/(webhook)/?", request.path)
        if webhooks is not None:
            version, rest = "2", f"webhooks:{webhooks.group(1)}"
        elif match is None:
            return ApiError(
                404, [f"The sandbox has no Jira resource at {request.path}."]
            ).response()
        else:
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
            actor = self.serve_actor_of(request)
            if actor is None:
                return ApiError(
                    401,
                    [
                        "You are not authenticated. Authentication required to perform this operation."
                    ],
                ).response()
            if request.method != "GET" and not READ_ONLY_POSTS.search(rest):
                self.writes += 1
            try:
                return handler(Call(request, version, found.groups(), actor))
            except ApiError as error:
                return error.response()
        if allowed:
            return ApiError(405, [f"Method {request.method} is not allowed here."]).response()
        return ApiError(404, [f"The sandbox has no Jira resource at {request.path}."]).response()
