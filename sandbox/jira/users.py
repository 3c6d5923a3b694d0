"""Users: look one up, many at once (Cloud), or search."""

from __future__ import annotations

from sandbox.http import ApiError, SandboxResponse
from sandbox.jira.common import (
    Call,
)
from sandbox.jira.state import JiraState


class UserEndpoints(JiraState):
    """Endpoints answering who people are."""

    # ------------------------------------------------------------------ users

    def serve_get_user(self, call: Call) -> SandboxResponse:
        request = call.request
        if self.seed.is_cloud:
            if request.arg("username") is not None or request.arg("key") is not None:
                raise ApiError(
                    400,
                    [
                        "The query parameters 'username' and 'key' are not supported in GDPR strict mode."
                    ],
                )
            account_id = request.arg("accountId")
            login = self.find_user(account_id=account_id) if account_id else None
        else:
            name = request.arg("username") or request.arg("key")
            login = self.find_user(name=name) if name else None
        if login is None:
            raise ApiError(
                404, ["Specified user does not exist or you do not have required permissions"]
            )
        return SandboxResponse(200, self.user_json(login))

    def serve_bulk_users(self, call: Call) -> SandboxResponse:
        """Cloud's GET /user/bulk: up to 200 accountIds in one call; unknown ones are left out.

        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-users/#api-rest-api-2-user-bulk-get
        Data Center has no such resource.
        """
        request = call.request
        if not self.seed.is_cloud:
            raise ApiError(404, [f"The sandbox has no Jira resource at {request.path}."])
        wanted = request.query.get("accountId") or []
        if not wanted:
            raise ApiError(400, ["At least one accountId is required."])
        found = [login for a in wanted if (login := self.find_user(account_id=a)) is not None]
        start = int(request.arg("startAt", "0") or 0)
        limit = int(request.arg("maxResults", "10") or 10)
        page = found[start : start + limit]
        return SandboxResponse(
            200,
            {
                "maxResults": limit,
                "startAt": start,
                "total": len(found),
                "isLast": start + len(page) >= len(found),
                "values": [self.user_json(login) for login in page],
            },
        )

    def serve_search_users(self, call: Call) -> SandboxResponse:
        request = call.request
        if self.seed.is_cloud:
            if request.arg("username") is not None:
                raise ApiError(
                    400, ["The query parameter 'username' is not supported in GDPR strict mode."]
                )
            needle = (request.arg("query") or "").lower()
            account_id = request.arg("accountId")
        else:
            needle = (request.arg("username") or "").lower()
            account_id = None
        if not needle and not account_id:
            raise ApiError(400, ["The username query parameter was not provided"])
        found = [
            u.login
            for u in self.users.values()
            if (account_id and u.account_id == account_id)
            or (self.seed.is_cloud and needle and u.account_id.lower() == needle)
            or (
                needle
                and (
                    u.display_name.lower().startswith(needle)
                    or u.email.lower().startswith(needle)
                    or (not self.seed.is_cloud and u.login.lower().startswith(needle))
                    or any(w.startswith(needle) for w in u.display_name.lower().split())
                )
            )
        ]
        start = int(request.arg("startAt", "0") or 0)
        limit = int(request.arg("maxResults", "50") or 50)
        return SandboxResponse(
            200, [self.user_json(login) for login in found[start : start + limit]]
        )
