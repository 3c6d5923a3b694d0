"""The one door to Confluence: pages found, created and updated; failures become our errors.

Uses atlassian-python-api's Server implementation, which speaks the v1 content API: on Cloud at
`https://<site>.atlassian.net/wiki` (5.x's Cloud wrapper lacks create_page and update_page), on
Data Center at its own base URL with a personal access token.
https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-content/
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests
from atlassian import Confluence
from atlassian.errors import (
    ApiConflictError,
    ApiError,
    ApiNotAcceptable,
    ApiNotFoundError,
    ApiPermissionError,
    ApiValueError,
)

from plugin.atlassian.ports import Page, PageRestriction
from plugin.atlassian.seals import MarkSeal
from plugin.spine.errors import GatewayError, RefusedError, TransientGatewayError

log = logging.getLogger(__name__)

T = TypeVar("T")
# Answers worth trying again: a stale version (someone saved meanwhile), rate limits, server faults.
RETRYABLE = frozenset({408, 409, 425, 429})
TIMEOUT_SECONDS = 30
# Some client methods turn an HTTP error into their own exception first: the status it stands for.
CLIENT_ERRORS: tuple[tuple[type[ApiError], int], ...] = (
    (ApiPermissionError, 403),
    (ApiNotFoundError, 404),
    (ApiConflictError, 409),
    (ApiNotAcceptable, 406),
    (ApiValueError, 400),
)


def _failure(
    what: str, status: int, reason: str, retry: str | None, where: str = "", login: str = ""
) -> Exception:
    """The error for a failed call: transient when worth trying again, else refused (logged).
    `where` names the address (and its setting); `login` the settings of the login."""
    if status in RETRYABLE or status >= 500 or status == 0:
        return TransientGatewayError(
            f"Confluence {what}: HTTP {status}{where}: {reason}",
            retry_after=float(retry) if retry and retry.isdigit() else None,
            status=status or None,
        )
    log.warning(
        "confluence refused %s: HTTP %s: %s",
        what,
        status,
        reason,
        extra={"status": status, "reason": reason},
    )
    reasons = [reason]
    if status == 401:  # nothing will work until the login does: say which settings hold it
        reasons.append(
            "Confluence refused crossdept's login" + (f" (check {login})" if login else "")
        )
    return RefusedError(f"Confluence {what}: HTTP {status}{where}", status, reasons)


class ConfluenceGateway:
    """Pages in a space, in crossdept's words (plugin.atlassian.ports.ConfluencePort)."""

    def __init__(self, client: Confluence) -> None:
        self._client = client
        self.calls = 0  # HTTP requests sent, counted as they are answered
        # crossdept's own content properties (plugin.atlassian.seals), sealed on write and believed on
        # read only when the seal checks: any editor of a page may write its properties.
        self.seal: MarkSeal | None = None
        self.sealed: frozenset[str] = frozenset()
        # The settings behind the address and the login, named in errors (see connect).
        self.address_setting = ""
        self.login_setting = ""
        client._session.hooks["response"].append(self._count)

    def _count(self, response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        self.calls += 1

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        email: str | None = None,
        api_token: str | None = None,
        pat: str | None = None,
        username: str | None = None,
        password: str | None = None,
        address_setting: str = "",
        login_setting: str = "",
    ) -> ConfluenceGateway:
        """Build the client (no call is made): Cloud email + API token, a Data Center PAT, or an
        older Server's username + password. The settings named are quoted in errors."""
        login = (email, api_token) if email and api_token else (username, password)
        if login[0] and login[1]:
            client = Confluence(  # type: ignore[no-untyped-call]
                url=url, cloud=False, username=login[0], password=login[1], timeout=TIMEOUT_SECONDS
            )
        elif pat:
            client = Confluence(url=url, token=pat, timeout=TIMEOUT_SECONDS)  # type: ignore[no-untyped-call]
        else:
            raise GatewayError(
                "Confluence needs an email and API token (Cloud), a personal access token (Data "
                "Center), or a username and password (older Server)"
            )
        gateway = cls(client)
        gateway.address_setting, gateway.login_setting = address_setting, login_setting
        return gateway

    def _where(self) -> str:
        base = str(getattr(self._client, "url", "")).rstrip("/")
        named = f" ({self.address_setting})" if self.address_setting else ""
        return f" from Confluence at {base}{named}" if base else ""

    def verify(self, space: str) -> None:
        """Read the space pages go to (a call that needs a working login): a wrong login is a
        RefusedError (401) naming the settings to fix; a missing space, a 404."""
        self._call("read space", lambda: self._client.get_space(space))

    def _call(self, what: str, call: Callable[[], T]) -> T:
        """Run one client call; map its failures to TransientGatewayError / RefusedError."""
        try:
            return call()
        except requests.HTTPError as error:
            response = error.response
            status = response.status_code if response is not None else 0
            retry = response.headers.get("Retry-After") if response is not None else None
            reason = str(error).splitlines()[0] if str(error) else f"HTTP {status}"
            raise _failure(what, status, reason, retry, self._where(), self.login_setting) from None
        except requests.RequestException as error:
            raise TransientGatewayError(
                f"Confluence {what}: {type(error).__name__}{self._where()}: it did not answer"
            ) from None
        except ApiError as error:
            status = next((code for kind, code in CLIENT_ERRORS if isinstance(error, kind)), 400)
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise _failure(what, status, reason, None, self._where(), self.login_setting) from None

    def space_exists(self, space: str) -> bool:
        """Whether the space exists and this login may see it (Confluence answers 404 either way,
        which the client library turns into its ApiValueError: a 400 here)."""
        try:
            self._call("read space", lambda: self._client.get_space(space))
        except RefusedError as error:
            if error.status in (400, 404):
                return False
            raise
        return True

    def current_account(self) -> str:
        """Who this login is: the account id on Cloud, the username on Data Center."""
        me = self._call("read current user", lambda: self._client.get("rest/api/user/current"))
        if not isinstance(me, Mapping):
            return ""
        return str(me.get("accountId") or me.get("username") or me.get("userKey") or "")

    def may_edit(self, page_id: str, account: str) -> bool | None:
        """Whether `account` may edit the page (site, space and page restrictions all count);
        None where Confluence cannot say (Data Center has no permission check resource). The
        check has no "create"; editing a page needs the space's Add page permission, which is
        also the one to create pages ("Add: user may create and edit pages in this space",
        Atlassian's Space Permissions Overview), so an edit right stands for both.
        https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-content-permissions/"""
        body = {"subject": {"type": "user", "identifier": account}, "operation": "update"}
        try:
            found = self._call(
                "check permission",
                lambda: self._client.post(
                    f"rest/api/content/{page_id}/permission/check", data=body
                ),
            )
        except RefusedError as error:
            if error.status in (404, 405):
                return None
            raise
        return bool(found.get("hasPermission")) if isinstance(found, Mapping) else None

    def group_names(self) -> frozenset[str]:
        """The site's groups (`GET /rest/api/group`, on Cloud under /wiki), page by page."""
        names: set[str] = set()
        start = 0
        while True:
            found = self._call(
                "list groups",
                lambda at=start: self._client.get(  # type: ignore[misc]
                    "rest/api/group", params={"start": at, "limit": 200}
                ),
            )
            results = found.get("results") if isinstance(found, Mapping) else None
            if not isinstance(results, list):
                return frozenset(names)
            names |= {str(g["name"]) for g in results if isinstance(g, Mapping) and g.get("name")}
            if len(results) < 200:
                return frozenset(names)
            start += len(results)

    def restrict_page(self, page_id: str, restriction: PageRestriction) -> None:
        """Replace the page's restrictions (`PUT /rest/api/content/{id}/restriction`: Cloud v1;
        Data Center 9.0 and later, ContentRestrictionResource.updateRestrictions, "replacing any
        existing permissions"). A person is an accountId on Cloud and a username on Data Center
        (which has no account ids), told apart by how Confluence names crossdept's own login.
        https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-content-restrictions/
        https://docs.atlassian.com/ConfluenceServer/javadoc/9.0.0-m07/com/atlassian/confluence/plugins/restapi/resources/ContentRestrictionResource.html"""
        me = self._call("read current user", lambda: self._client.get("rest/api/user/current"))
        by = "accountId" if isinstance(me, Mapping) and me.get("accountId") else "username"
        people = [{"type": "known", by: person} for person in restriction.people]
        body = []
        for operation, groups in (
            ("read", restriction.view_groups),
            ("update", restriction.edit_groups),
        ):
            if groups:
                body.append(
                    {
                        "operation": operation,
                        "restrictions": {
                            "group": [{"type": "group", "name": name} for name in groups],
                            **({"user": people} if people else {}),
                        },
                    }
                )
        self._call(
            "restrict page",
            # A list body: the client's type hints say dict, but it sends any JSON value.
            lambda: self._client.put(f"rest/api/content/{page_id}/restriction", data=body),  # type: ignore[call-overload]
        )

    def find_page(self, space: str, title: str) -> Page | None:
        """The current page with this title in the space, if any (titles are unique per space)."""
        found = self._call(
            "find page",
            lambda: self._client.get_page_by_title(space, title, expand="version"),
        )
        if isinstance(found, Mapping) and "results" in found:
            results = found.get("results") or []
            found = results[0] if results else None
        return self._page(found) if isinstance(found, Mapping) and found.get("id") else None

    def create_page(
        self,
        space: str,
        title: str,
        body: str,
        *,
        parent_id: str | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> Page:
        """Create a page in storage format under `parent_id` (or at the space's top).

        `properties` are content properties written in the create call itself
        (`metadata.properties`), so the page never exists without them.
        """
        if not properties:
            created = self._call(
                "create page",
                lambda: self._client.create_page(
                    space, title, body, parent_id=parent_id, representation="storage"
                ),
            )
            return self._page(created)
        data: dict[str, Any] = {
            "type": "page",
            "title": title,
            "space": {"key": space},
            "body": {"storage": {"value": body, "representation": "storage"}},
            "metadata": {
                "properties": {
                    key: {"key": key, "value": self._sealed(key, value)}
                    for key, value in properties.items()
                }
            },
        }
        if parent_id:
            data["ancestors"] = [{"type": "page", "id": parent_id}]
        created = self._call(
            "create page", lambda: self._client.post("rest/api/content", data=data)
        )
        return self._page(created)

    def get_page(self, page_id: str) -> Page | None:
        """A page by id, or None when it is gone (deleted or trashed)."""
        try:
            found = self._call(
                "read page",
                lambda: self._client.get(
                    f"rest/api/content/{page_id}", params={"expand": "version"}
                ),
            )
        except RefusedError as error:
            if error.status == 404:
                return None
            raise
        if isinstance(found, Mapping) and found.get("status", "current") != "current":
            return None
        return self._page(found)

    def page_property(self, page_id: str, key: str) -> Any:
        """A content property's value, or None when the page has no such property."""
        try:
            found = self._call(
                "read page property",
                lambda: self._client.get(f"rest/api/content/{page_id}/property/{key}"),
            )
        except RefusedError as error:
            if error.status == 404:
                return None
            raise
        value = found.get("value") if isinstance(found, Mapping) else None
        if self.seal is None or key not in self.sealed or value is None:
            return value
        opened = self.seal.open(key, value)
        if opened is None:
            log.warning("ignored %s on page %s: not sealed by crossdept", key, page_id)
        return opened

    def set_page_property(self, page_id: str, key: str, value: Any) -> None:
        """Create a content property (used when a create call dropped `metadata.properties`)."""
        sealed = self._sealed(key, value)
        self._call(
            "write page property",
            lambda: self._client.post(
                f"rest/api/content/{page_id}/property", data={"key": key, "value": sealed}
            ),
        )

    def _sealed(self, key: str, value: Any) -> Any:
        if self.seal is None or key not in self.sealed or not isinstance(value, Mapping):
            return value
        return self.seal.seal(key, value)

    def user_key(self, username: str) -> str | None:
        """Confluence Data Center's user key for a username (what `ri:userkey` mentions need)."""
        try:
            found = self._call(
                "read user",
                lambda: self._client.get("rest/api/user", params={"username": username}),
            )
        except RefusedError as error:
            if error.status == 404:
                return None
            raise
        key = found.get("userKey") if isinstance(found, Mapping) else None
        return str(key) if key else None

    def update_page(self, page: Page, title: str, body: str) -> Page:
        """Replace a page's title and body as its next version (watchers are told)."""
        updated = self._call(
            "update page",
            lambda: self._client.update_page(
                page.id, title, body, representation="storage", always_update=True
            ),
        )
        return self._page(updated)

    @staticmethod
    def _page(found: Any) -> Page:
        if not isinstance(found, Mapping):
            raise TransientGatewayError("Confluence answered without a page")
        links = found.get("_links") or {}
        return Page(
            id=str(found["id"]),
            title=str(found.get("title", "")),
            version=int((found.get("version") or {}).get("number") or 1),
            url=str(links.get("base", "")) + str(links.get("webui", "")),
        )
