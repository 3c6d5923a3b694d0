"""The fake Confluence: one site served through its v1 and v2 REST APIs, one request at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sandbox.confluence.calls import Call, read_call, shape
from sandbox.confluence.model import ConfluenceError, check_storage, duplicate_title, user_key
from sandbox.confluence.site import Site
from sandbox.confluence.v1 import V1Api, v1_error
from sandbox.confluence.v2 import V2Api, v2_error
from sandbox.http import SandboxRequest, SandboxResponse


class ConfluenceFake:
    """Pages in seeded spaces, served through Confluence's v1 and v2 REST shapes."""

    def __init__(
        self,
        spaces: Sequence[Mapping[str, Any]],
        now: Callable[[], datetime],
        users: Mapping[str, Mapping[str, Any]],
        groups: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self.site = Site(spaces, now, users, groups)
        self.apis: dict[str, V1Api | V2Api] = {"v1": V1Api(self.site), "v2": V2Api(self.site)}

    # ---- public helpers for tests and seeding ----------------------------------------------

    def add_page(
        self, space_key: str, title: str, body: str = "", parent_id: str | None = None
    ) -> str:
        """Seed a page without going through HTTP (e.g. the minutes parent page); return its id."""
        with self._lock:
            space = self.site.space(space_key)
            if self.site.titled(space, title) is not None:
                raise ConfluenceError(400, duplicate_title(title, space))
            if parent_id is not None:
                self.site.page(parent_id)
            check_storage(body)
            return self.site.add(space, title, body, parent_id, author=None, message="").id

    def titles(self, space_key: str) -> list[str]:
        """The titles of a space's current pages, oldest first (for test assertions)."""
        with self._lock:
            space = self.site.space(space_key)
            return [p.title for p in self.site.live() if p.space_key == space.key]

    def find_page(self, space_key: str, title: str) -> dict[str, Any] | None:
        """Return a page's id, title, parent, body and version number, for test assertions."""
        with self._lock:
            page = self.site.titled(self.site.space(space_key), title)
            if page is None:
                return None
            return {
                "id": page.id,
                "title": page.title,
                "parentId": page.parent_id,
                "body": page.body,
                "version": page.version.number,
                "properties": {key: prop.value for key, prop in page.properties.items()},
            }

    def restrictions(self, space_key: str, title: str) -> dict[str, dict[str, list[str]]]:
        """A page's restrictions by operation: its groups and people (logins), for assertions."""
        with self._lock:
            page = self.site.titled(self.site.space(space_key), title)
            if page is None:
                return {}
            return {
                operation: {"groups": sorted(kept.groups), "people": sorted(kept.logins)}
                for operation, kept in page.restrictions.items()
            }

    def may_view(self, space_key: str, title: str, login: str) -> bool:
        """Whether one of the seed's people may see a page (for assertions)."""
        with self._lock:
            page = self.site.titled(self.site.space(space_key), title)
            return page is not None and self.site.may_view(page, login)

    def user_key(self, login: str) -> str:
        """The Confluence Data Center user key of a seeded user (for test assertions)."""
        return user_key(login)

    # ---- dispatch ---------------------------------------------------------------------------

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        """Answer one request the way Confluence would, errors included."""
        call = read_call(request)
        if call is None:
            return v1_error(ConfluenceError(404, f"No REST resource at {request.path}"))
        try:
            if request.user is None:
                raise ConfluenceError(401, "Client must be authenticated to access this resource.")
            with self._lock:
                return self._route(call)
        except ConfluenceError as error:
            return v1_error(error) if call.api == "v1" else v2_error(error)
        except ValueError as error:  # a body that is not JSON
            bad = ConfluenceError(400, f"Could not parse the request body as JSON: {error}")
            return v1_error(bad) if call.api == "v1" else v2_error(bad)

    def _route(self, call: Call) -> SandboxResponse:
        parts = [part for part in call.path.split("/") if part]
        key = (call.api, call.method, *shape(parts))
        route = ROUTES.get(key)
        if route is None:
            raise ConfluenceError(
                404 if call.method == "GET" else 405,
                f"The sandbox does not implement {call.method} {call.path} of the "
                f"Confluence REST API {call.api}",
            )
        api, method = route
        handler: Callable[[Call, list[str]], SandboxResponse] = getattr(self.apis[api], method)
        return handler(call, parts)


ROUTES: dict[tuple[str, ...], tuple[str, str]] = {  # request shape -> (API, its method)
    ("v1", "GET", "space"): ("v1", "get_spaces"),
    ("v1", "GET", "user"): ("v1", "get_user"),
    ("v1", "GET", "group"): ("v1", "get_groups"),
    ("v1", "GET", "content", "{}", "restriction", "byOperation"): ("v1", "get_restrictions"),
    ("v1", "PUT", "content", "{}", "restriction"): ("v1", "set_restrictions"),
    ("v1", "GET", "user", "current"): ("v1", "get_current_user"),
    ("v1", "GET", "space", "{}"): ("v1", "get_space"),
    ("v1", "POST", "content"): ("v1", "create"),
    ("v1", "GET", "content"): ("v1", "find"),
    ("v1", "GET", "content", "search"): ("v1", "search"),
    ("v1", "GET", "content", "{}"): ("v1", "get_page"),
    ("v1", "PUT", "content", "{}"): ("v1", "update"),
    ("v1", "DELETE", "content", "{}"): ("v1", "delete"),
    ("v1", "GET", "content", "{}", "history"): ("v1", "history"),
    ("v1", "POST", "content", "{}", "permission", "check"): ("v1", "check_permission"),
    ("v1", "GET", "content", "{}", "child", "{}"): ("v1", "children"),
    ("v1", "GET", "content", "{}", "property"): ("v1", "properties"),
    ("v1", "POST", "content", "{}", "property"): ("v1", "create_property"),
    ("v1", "GET", "content", "{}", "property", "{}"): ("v1", "get_property"),
    ("v1", "POST", "content", "{}", "property", "{}"): ("v1", "create_property"),
    ("v1", "PUT", "content", "{}", "property", "{}"): ("v1", "update_property"),
    ("v2", "GET", "spaces"): ("v2", "get_spaces"),
    ("v2", "GET", "spaces", "{}"): ("v2", "get_space"),
    ("v2", "POST", "pages"): ("v2", "create"),
    ("v2", "GET", "pages"): ("v2", "find"),
    ("v2", "GET", "pages", "{}"): ("v2", "get_page"),
    ("v2", "PUT", "pages", "{}"): ("v2", "update"),
    ("v2", "GET", "pages", "{}", "children"): ("v2", "children"),
}
