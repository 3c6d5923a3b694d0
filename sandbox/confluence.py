"""A stateful stand-in for the parts of Confluence's REST API (v1 and v2) crossdept relies on."""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import threading
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.entities import name2codepoint
from typing import Any
from urllib.parse import quote, urlencode

from sandbox.http import SandboxRequest, SandboxResponse

V1_PREFIXES = ("/wiki/rest/api", "/rest/api")
V2_PREFIX = "/wiki/api/v2"
TITLE_MAX_LENGTH = 255
V1_DEFAULT_LIMIT = 25
V2_DEFAULT_LIMIT = 25
FIRST_PAGE_ID = 65537
FIRST_PROPERTY_ID = 1310721

# Storage format is XHTML with Confluence's own namespaces; an unknown prefix or a broken tag is
# refused with 400. https://confluence.atlassian.com/doc/confluence-storage-format-790796544.html
STORAGE_NAMESPACES = {
    "ac": "http://atlassian.com/content",
    "ri": "http://atlassian.com/resource/identifier",
    "at": "http://atlassian.com/template",
}
# HTML named entities (`&nbsp;`, `&mdash;` ...) are valid in storage format, not in plain XML.
HTML_ENTITIES = "".join(f'<!ENTITY {name} "&#{code};">' for name, code in name2codepoint.items())
STORAGE_WRAPPER_START = (
    f"<!DOCTYPE storage [{HTML_ENTITIES}]>\n<storage "
    + " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in STORAGE_NAMESPACES.items())
    + ">\n"
)

# CQL clauses the 5.x client sends (`parent=ID AND space="KEY"`), plus title/type/ancestor/id.
CQL_CLAUSE = re.compile(
    r"\s*(?P<field>parent|ancestor|space|title|type|id)\s*=\s*"
    r'(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>[^\s"]+))\s*',
    re.IGNORECASE,
)
CQL_AND = re.compile(r"\s+AND\s+", re.IGNORECASE)


class ConfluenceError(Exception):
    """A refusal, rendered in the v1 or v2 error shape depending on the API that was called."""

    def __init__(self, status: int, message: str, data: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.data = dict(data or {})


REASONS = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "REQUEST_ENTITY_TOO_LARGE",
}


@dataclass
class Space:
    """A seeded space; the sandbox does not create spaces."""

    key: str
    name: str
    id: str
    homepage_id: str = ""


@dataclass
class Property:
    """A content property, e.g. the `content-appearance-published` the client writes on create."""

    id: str
    key: str
    value: Any
    version: int = 1


@dataclass
class Version:
    """One saved version of a page."""

    number: int
    when: datetime
    by: str
    message: str = ""
    minor_edit: bool = False


@dataclass
class Page:
    """A page as Confluence stores it: the current version plus who made the first one."""

    id: str
    space_key: str
    title: str
    body: str
    parent_id: str | None
    version: Version
    created: Version
    status: str = "current"
    properties: dict[str, Property] = field(default_factory=dict)


@dataclass(frozen=True)
class Call:
    """One request as the fake reads it: which API, the resource path under it, who asked."""

    api: str  # "v1" or "v2"
    method: str
    path: str  # under the API root, e.g. "/content/65537"
    request: SandboxRequest
    base: str  # site base URL for `_links.base`, e.g. "https://example.atlassian.net/wiki"
    context: str  # "/wiki" on Cloud, "" on Data Center


class ConfluenceFake:
    """Pages in seeded spaces, served through Confluence's v1 and v2 REST shapes."""

    def __init__(
        self,
        spaces: Sequence[Mapping[str, Any]],
        now: Callable[[], datetime],
        users: Mapping[str, Mapping[str, Any]],
    ) -> None:
        self._now = now
        self._users = dict(users)
        self._lock = threading.RLock()
        self._ids = itertools.count(FIRST_PAGE_ID)
        self._property_ids = itertools.count(FIRST_PROPERTY_ID)
        self._spaces: dict[str, Space] = {}
        self._pages: dict[str, Page] = {}
        for seed in spaces:
            space = Space(key=str(seed["key"]), name=str(seed["name"]), id=str(seed["id"]))
            self._spaces[space.key.upper()] = space
            home = self._add_page(space, f"{space.name} Home", "", None, author=None, message="")
            space.homepage_id = home.id

    # ---- public helpers for tests and seeding ----------------------------------------------

    def add_page(
        self, space_key: str, title: str, body: str = "", parent_id: str | None = None
    ) -> str:
        """Seed a page without going through HTTP (e.g. the minutes parent page); return its id."""
        with self._lock:
            space = self._space(space_key)
            if self._page_titled(space, title) is not None:
                raise ConfluenceError(400, _duplicate_title(title, space))
            if parent_id is not None:
                self._page(parent_id)
            _check_storage(body)
            return self._add_page(space, title, body, parent_id, author=None, message="").id

    def titles(self, space_key: str) -> list[str]:
        """The titles of a space's current pages, oldest first (for test assertions)."""
        with self._lock:
            space = self._space(space_key)
            return [p.title for p in self._live_pages() if p.space_key == space.key]

    def find_page(self, space_key: str, title: str) -> dict[str, Any] | None:
        """Return a page's id, title, parent, body and version number, for test assertions."""
        with self._lock:
            page = self._page_titled(self._space(space_key), title)
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

    # ---- dispatch ---------------------------------------------------------------------------

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        """Answer one request the way Confluence would, errors included."""
        call = _read_call(request)
        if call is None:
            return _v1_error(ConfluenceError(404, f"No REST resource at {request.path}"))
        try:
            if request.user is None:
                raise ConfluenceError(401, "Client must be authenticated to access this resource.")
            with self._lock:
                return self._route(call)
        except ConfluenceError as error:
            return _v1_error(error) if call.api == "v1" else _v2_error(error)
        except ValueError as error:  # a body that is not JSON
            bad = ConfluenceError(400, f"Could not parse the request body as JSON: {error}")
            return _v1_error(bad) if call.api == "v1" else _v2_error(bad)

    def _route(self, call: Call) -> SandboxResponse:
        parts = [part for part in call.path.split("/") if part]
        key = (call.api, call.method, *_shape(parts))
        handler = ROUTES.get(key)
        if handler is None:
            raise ConfluenceError(
                404 if call.method == "GET" else 405,
                f"The sandbox does not implement {call.method} {call.path} of the "
                f"Confluence REST API {call.api}",
            )
        return handler(self, call, parts)

    # ---- v1 ---------------------------------------------------------------------------------

    def _v1_get_spaces(self, call: Call, parts: list[str]) -> SandboxResponse:
        keys = {
            key.upper()
            for value in call.request.query.get("spaceKey", [])
            for key in value.split(",")
        }
        spaces = [s for s in self._spaces.values() if not keys or s.key.upper() in keys]
        return _v1_list(call, [self._v1_space(call, s) for s in spaces], "/space")

    def _v1_get_space(self, call: Call, parts: list[str]) -> SandboxResponse:
        space = self._spaces.get(parts[1].upper())
        if space is None:
            raise ConfluenceError(404, f"No space with key : {parts[1]}")
        return SandboxResponse(200, self._v1_space(call, space))

    def _v1_get_user(self, call: Call, parts: list[str]) -> SandboxResponse:
        """One user, by accountId on Cloud, by username or key on Data Center."""
        query = call.request
        wanted = query.arg("accountId") or query.arg("username") or query.arg("key")
        if not wanted:
            raise ConfluenceError(400, "accountId, username or key is required")
        for login, seed in self._users.items():
            key = _user_key(login)
            if wanted in (seed.get("accountId"), seed.get("username"), key):
                user = self._user(login)
                if call.context == "":  # Data Center: username and user key, no account id
                    user = {
                        "type": "known",
                        "username": seed.get("username") or login,
                        "userKey": key,
                        "displayName": user["displayName"],
                    }
                return SandboxResponse(200, user)
        raise ConfluenceError(404, f"No user found with {wanted}")

    def user_key(self, login: str) -> str:
        """The Confluence Data Center user key of a seeded user (for test assertions)."""
        return _user_key(login)

    def _v1_create(self, call: Call, parts: list[str]) -> SandboxResponse:
        data = _object_body(call.request)
        kind = data.get("type")
        if kind != "page":
            raise ConfluenceError(
                400, f"The sandbox creates pages only, not content of type {kind!r}"
            )
        space_key = (data.get("space") or {}).get("key")
        if not isinstance(space_key, str) or not space_key:
            raise ConfluenceError(400, "Space key is required to create content")
        space = self._spaces.get(space_key.upper())
        if space is None:
            # The 5.x client turns a 403 here into "use the space key, not its display name".
            raise ConfluenceError(
                403, f"Could not create content in space {space_key!r}: no such space"
            )
        title = _title(data.get("title"))
        body = _v1_storage_body(data.get("body"), required=True) or ""
        parent_id = _v1_parent(data.get("ancestors"))
        if parent_id is not None:
            parent = self._page(parent_id, status=400)
            if parent.space_key != space.key:
                raise ConfluenceError(400, "The parent page must be in the same space as the page")
        if self._page_titled(space, title) is not None:
            raise ConfluenceError(400, _duplicate_title(title, space))
        message = str((data.get("version") or {}).get("message") or "")
        page = self._add_page(
            space, title, body, parent_id, author=call.request.user, message=message
        )
        self._write_properties(page, data)
        return SandboxResponse(
            200, self._v1_page(call, page, _expand(call, "space,history,version,body.storage"))
        )

    def _v1_get_page(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self._page(parts[1])
        expand = call.request.arg("expand")
        # Without `expand`, Cloud returns space, history and version expanded.
        fields = _expand_set(expand) if expand is not None else {"space", "history", "version"}
        return SandboxResponse(200, self._v1_page(call, page, fields))

    def _v1_find(self, call: Call, parts: list[str]) -> SandboxResponse:
        query = call.request
        kind = query.arg("type", "page")
        pages = list(self._live_pages())
        if kind != "page":
            pages = []
        space_key = query.arg("spaceKey")
        if space_key is not None:
            pages = [p for p in pages if p.space_key.upper() == space_key.upper()]
        title = query.arg("title")
        if title is not None:
            pages = [p for p in pages if p.title.casefold() == title.casefold()]
        return self._v1_page_list(call, pages, "/content")

    def _v1_history(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self._page(parts[1])
        return SandboxResponse(200, self._v1_history_body(call, page))

    def _v1_children(self, call: Call, parts: list[str]) -> SandboxResponse:
        parent = self._page(parts[1])
        kind = parts[3]
        if kind not in ("page", "comment", "attachment"):
            raise ConfluenceError(400, f"Unsupported child type: {kind}")
        children = (
            [p for p in self._live_pages() if p.parent_id == parent.id] if kind == "page" else []
        )
        return self._v1_page_list(call, children, f"/content/{parent.id}/child/{kind}")

    def _v1_update(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self._page(parts[1])
        data = _object_body(call.request)
        number = (data.get("version") or {}).get("number")
        if not isinstance(number, int) or isinstance(number, bool):
            raise ConfluenceError(400, "Must supply an incremented version when updating Content.")
        if number != page.version.number + 1:
            raise ConfluenceError(
                409,
                f"Version must be incremented on update. Current version is: {page.version.number}",
            )
        if data.get("type", "page") != "page":
            raise ConfluenceError(400, "Cannot change the type of content on update")
        space = self._space(page.space_key)
        title = _title(data.get("title"))
        other = self._page_titled(space, title)
        if other is not None and other.id != page.id:
            raise ConfluenceError(400, _duplicate_title(title, space))
        body = _v1_storage_body(data.get("body"), required=False)
        parent_id = _v1_parent(data.get("ancestors"))
        if parent_id is not None:
            self._check_move(page, parent_id)
            page.parent_id = parent_id
        page.title = title
        if body is not None:
            page.body = body
        version = data.get("version") or {}
        page.version = Version(
            number=number,
            when=self._now(),
            by=call.request.user or "",
            message=str(version.get("message") or ""),
            minor_edit=bool(version.get("minorEdit", False)),
        )
        self._write_properties(page, data)
        return SandboxResponse(
            200, self._v1_page(call, page, {"space", "history", "version", "body.storage"})
        )

    def _v1_delete(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self._page(parts[1])
        page.status = "trashed"
        return SandboxResponse(204)

    def _v1_search(self, call: Call, parts: list[str]) -> SandboxResponse:
        cql = call.request.arg("cql")
        if not cql:
            raise ConfluenceError(400, "CQL query parameter is required but was blank")
        pages = self._run_cql(cql)
        return self._v1_page_list(call, pages, "/content/search")

    def _v1_properties(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self._page(parts[1])
        results = [self._v1_property(call, page, prop) for prop in page.properties.values()]
        return _v1_list(call, results, f"/content/{page.id}/property")

    def _v1_get_property(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self._page(parts[1])
        prop = page.properties.get(parts[3])
        if prop is None:
            raise ConfluenceError(404, f"Cannot find property {parts[3]} on content {page.id}")
        return SandboxResponse(200, self._v1_property(call, page, prop))

    def _v1_create_property(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self._page(parts[1])
        data = _object_body(call.request)
        key = parts[3] if len(parts) > 3 else data.get("key")
        if not isinstance(key, str) or not key or "value" not in data:
            raise ConfluenceError(400, "A content property needs a key and a value")
        if key in page.properties:
            raise ConfluenceError(
                400, f"Content property {key} already exists on content {page.id}"
            )
        page.properties[key] = Property(
            id=str(next(self._property_ids)), key=key, value=data["value"]
        )
        return SandboxResponse(200, self._v1_property(call, page, page.properties[key]))

    def _v1_update_property(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self._page(parts[1])
        data = _object_body(call.request)
        prop = page.properties.get(parts[3])
        if prop is None:
            return self._v1_create_property(call, parts)
        number = (data.get("version") or {}).get("number")
        if number != prop.version + 1:
            raise ConfluenceError(
                409, f"Version must be incremented on update. Current version is: {prop.version}"
            )
        prop.value, prop.version = data.get("value"), number
        return SandboxResponse(200, self._v1_property(call, page, prop))

    # ---- v2 ---------------------------------------------------------------------------------

    def _v2_get_spaces(self, call: Call, parts: list[str]) -> SandboxResponse:
        keys = _csv(call.request.query.get("keys"))
        ids = set(_csv(call.request.query.get("ids")))
        spaces = [
            s
            for s in self._spaces.values()
            if (not keys or s.key.upper() in {k.upper() for k in keys}) and (not ids or s.id in ids)
        ]
        return self._v2_list(call, [self._v2_space(call, s) for s in spaces], "/spaces")

    def _v2_get_space(self, call: Call, parts: list[str]) -> SandboxResponse:
        space = next((s for s in self._spaces.values() if s.id == parts[1]), None)
        if space is None:
            raise ConfluenceError(404, f"No space with id {parts[1]}")
        return SandboxResponse(200, self._v2_space(call, space))

    def _v2_create(self, call: Call, parts: list[str]) -> SandboxResponse:
        data = _object_body(call.request)
        space_id = str(data.get("spaceId") or "")
        space = next((s for s in self._spaces.values() if s.id == space_id), None)
        if space is None:
            raise ConfluenceError(
                404, f"No space with id {space_id!r} (spaceId takes the numeric id, not the key)"
            )
        if data.get("status", "current") != "current":
            raise ConfluenceError(400, "The sandbox creates published pages only (status current)")
        title = _title(data.get("title"))
        body = _v2_storage_body(data.get("body"))
        root_level = call.request.arg("root-level", "false") == "true"
        parent_id = data.get("parentId")
        if parent_id is not None:
            if root_level:
                raise ConfluenceError(400, "parentId may not be given with root-level=true")
            parent = self._page(str(parent_id), status=404)
            if parent.space_key != space.key:
                raise ConfluenceError(400, "The parent page must be in the same space as the page")
            parent_id = parent.id
        elif not root_level:
            parent_id = space.homepage_id
        if self._page_titled(space, title) is not None:
            raise ConfluenceError(400, _duplicate_title(title, space))
        page = self._add_page(space, title, body, parent_id, author=call.request.user, message="")
        return SandboxResponse(200, self._v2_page(call, page, "storage"))

    def _v2_get_page(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self._page(_v2_id(parts[1]))
        return SandboxResponse(200, self._v2_page(call, page, call.request.arg("body-format")))

    def _v2_find(self, call: Call, parts: list[str]) -> SandboxResponse:
        query = call.request.query
        pages = list(self._live_pages())
        space_ids = set(_csv(query.get("space-id")))
        if space_ids:
            keys = {s.key for s in self._spaces.values() if s.id in space_ids}
            pages = [p for p in pages if p.space_key in keys]
        ids = set(_csv(query.get("id")))
        if ids:
            pages = [p for p in pages if p.id in ids]
        title = call.request.arg("title")
        if title is not None:
            pages = [p for p in pages if p.title.casefold() == title.casefold()]
        body_format = call.request.arg("body-format")
        return self._v2_page_list(
            call, pages, "/pages", lambda p: self._v2_page(call, p, body_format)
        )

    def _v2_update(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self._page(_v2_id(parts[1]))
        data = _object_body(call.request)
        missing = [
            name for name in ("id", "status", "title", "body", "version") if name not in data
        ]
        if missing:
            raise ConfluenceError(400, f"Missing required fields: {', '.join(missing)}")
        if str(data["id"]) != page.id:
            raise ConfluenceError(400, "The id in the body does not match the id in the path")
        number = (data.get("version") or {}).get("number")
        if not isinstance(number, int) or isinstance(number, bool):
            raise ConfluenceError(400, "version.number is required")
        if number != page.version.number + 1:
            raise ConfluenceError(
                409,
                f"Version must be incremented on update. Current version is: {page.version.number}",
            )
        space = self._space(page.space_key)
        title = _title(data.get("title"))
        other = self._page_titled(space, title)
        if other is not None and other.id != page.id:
            raise ConfluenceError(400, _duplicate_title(title, space))
        body = _v2_storage_body(data.get("body"))
        if data.get("parentId") is not None:
            self._check_move(page, str(data["parentId"]))
            page.parent_id = str(data["parentId"])
        page.title, page.body = title, body
        page.version = Version(
            number=number,
            when=self._now(),
            by=call.request.user or "",
            message=str((data.get("version") or {}).get("message") or ""),
        )
        return SandboxResponse(200, self._v2_page(call, page, "storage"))

    def _v2_children(self, call: Call, parts: list[str]) -> SandboxResponse:
        parent = self._page(_v2_id(parts[1]))
        children = [p for p in self._live_pages() if p.parent_id == parent.id]
        return self._v2_page_list(
            call,
            children,
            f"/pages/{parent.id}/children",
            lambda p: {
                "id": p.id,
                "status": p.status,
                "title": p.title,
                "spaceId": self._space(p.space_key).id,
                "childPosition": None,
            },
        )

    # ---- state ------------------------------------------------------------------------------

    def _add_page(
        self,
        space: Space,
        title: str,
        body: str,
        parent_id: str | None,
        *,
        author: str | None,
        message: str,
    ) -> Page:
        version = Version(number=1, when=self._now(), by=author or "", message=message)
        page = Page(
            id=str(next(self._ids)),
            space_key=space.key,
            title=title,
            body=body,
            parent_id=parent_id,
            version=version,
            created=version,
        )
        self._pages[page.id] = page
        return page

    def _write_properties(self, page: Page, data: Mapping[str, Any]) -> None:
        """Store `metadata.properties` (the 5.x client's content-appearance values) as properties."""
        properties = ((data.get("metadata") or {}).get("properties")) or {}
        if not isinstance(properties, dict):
            raise ConfluenceError(400, "metadata.properties must be an object")
        for key, entry in properties.items():
            value = entry.get("value") if isinstance(entry, dict) else entry
            existing = page.properties.get(key)
            if existing is None:
                page.properties[key] = Property(
                    id=str(next(self._property_ids)), key=key, value=value
                )
            elif existing.value != value:
                existing.value, existing.version = value, existing.version + 1

    def _space(self, key: str) -> Space:
        space = self._spaces.get(key.upper())
        if space is None:
            raise ConfluenceError(404, f"No space with key : {key}")
        return space

    def _page(self, page_id: str, status: int = 404) -> Page:
        page = self._pages.get(page_id)
        if page is None or page.status != "current":
            raise ConfluenceError(
                status,
                f"No content found with id: ContentId{{id={page_id}}}",
            )
        return page

    def _live_pages(self) -> Iterator[Page]:
        return (p for p in self._pages.values() if p.status == "current")

    def _page_titled(self, space: Space, title: str) -> Page | None:
        # Titles are unique per space, compared without regard to case.
        folded = title.casefold()
        return next(
            (
                p
                for p in self._live_pages()
                if p.space_key == space.key and p.title.casefold() == folded
            ),
            None,
        )

    def _check_move(self, page: Page, parent_id: str) -> None:
        parent = self._page(parent_id, status=400)
        if parent.space_key != page.space_key:
            raise ConfluenceError(400, "A page cannot be moved to another space by an update")
        cursor: Page | None = parent
        while cursor is not None:
            if cursor.id == page.id:
                raise ConfluenceError(400, "A page cannot become its own ancestor")
            cursor = self._pages.get(cursor.parent_id) if cursor.parent_id else None

    def _ancestors(self, page: Page) -> list[Page]:
        chain = []
        cursor = self._pages.get(page.parent_id) if page.parent_id else None
        while cursor is not None:
            chain.append(cursor)
            cursor = self._pages.get(cursor.parent_id) if cursor.parent_id else None
        return list(reversed(chain))

    def _run_cql(self, cql: str) -> list[Page]:
        pages = list(self._live_pages())
        for clause in CQL_AND.split(cql.strip()):
            match = CQL_CLAUSE.fullmatch(clause)
            if match is None:
                raise ConfluenceError(
                    400,
                    f"Could not parse cql : {cql}",
                    {
                        "note": "the sandbox understands parent, ancestor, space, title, type and "
                        "id with = joined by AND"
                    },
                )
            name = match["field"].lower()
            value = (
                re.sub(r"\\(.)", r"\1", match["quoted"])
                if match["quoted"] is not None
                else match["bare"]
            )
            pages = [p for p in pages if self._cql_matches(p, name, value)]
        return pages

    def _cql_matches(self, page: Page, name: str, value: str) -> bool:
        if name == "parent":
            return page.parent_id == value
        if name == "ancestor":
            return any(a.id == value for a in self._ancestors(page))
        if name == "space":
            return page.space_key.upper() == value.upper()
        if name == "title":
            return page.title.casefold() == value.casefold()
        if name == "type":
            return value.lower() == "page"
        return page.id == value

    # ---- rendering --------------------------------------------------------------------------

    def _user(self, login: str | None) -> dict[str, Any]:
        seed = self._users.get(login or "")
        if seed is None:
            seed = next(
                (
                    u
                    for u in self._users.values()
                    if login in (u.get("accountId"), u.get("username"))
                ),
                None,
            )
        account_id = str((seed or {}).get("accountId") or login or "")
        display_name = str((seed or {}).get("displayName") or login or "Anonymous")
        user = {
            "type": "known" if login else "anonymous",
            "accountId": account_id,
            "accountType": "atlassian",
            "publicName": display_name,
            "displayName": display_name,
        }
        if seed is not None and seed.get("username"):
            user["username"] = seed["username"]  # Data Center identifies users by username
        return user

    def _v1_space(self, call: Call, space: Space) -> dict[str, Any]:
        return {
            "id": int(space.id),
            "key": space.key,
            "name": space.name,
            "type": "global",
            "status": "current",
            "_expandable": {"homepage": f"{call.context}/rest/api/content/{space.homepage_id}"},
            "_links": {
                "webui": f"/spaces/{space.key}",
                "self": f"{call.base}/rest/api/space/{space.key}",
            },
        }

    def _v1_version(self, call: Call, page: Page, version: Version) -> dict[str, Any]:
        return {
            "by": self._user(version.by),
            "when": _timestamp(version.when),
            "friendlyWhen": "just a moment ago",
            "message": version.message,
            "number": version.number,
            "minorEdit": version.minor_edit,
            "_links": {
                "self": f"{call.base}/rest/experimental/content/{page.id}/version/{version.number}"
            },
        }

    def _v1_history_body(self, call: Call, page: Page) -> dict[str, Any]:
        return {
            "latest": True,
            "createdBy": self._user(page.created.by),
            "createdDate": _timestamp(page.created.when),
            "lastUpdated": self._v1_version(call, page, page.version),
            "_links": {"self": f"{call.base}/rest/api/content/{page.id}/history"},
        }

    def _v1_page(self, call: Call, page: Page, expand: set[str]) -> dict[str, Any]:
        space = self._space(page.space_key)
        out: dict[str, Any] = {
            "id": page.id,
            "type": "page",
            "status": page.status,
            "title": page.title,
        }
        expandable: dict[str, str] = {}
        self_url = f"{call.context}/rest/api/content/{page.id}"
        if "space" in expand:
            out["space"] = self._v1_space(call, space)
        else:
            expandable["space"] = f"{call.context}/rest/api/space/{space.key}"
        if "history" in expand:
            out["history"] = self._v1_history_body(call, page)
        else:
            expandable["history"] = f"{self_url}/history"
        if "version" in expand:
            out["version"] = self._v1_version(call, page, page.version)
        else:
            expandable["version"] = ""
        if "ancestors" in expand:
            out["ancestors"] = [
                self._v1_page(call, ancestor, set()) for ancestor in self._ancestors(page)
            ]
        else:
            expandable["ancestors"] = ""
        if "body.storage" in expand or "body" in expand:
            storage = {"value": page.body, "representation": "storage"}
            out["body"] = {"storage": storage} if "body.storage" in expand else {}
            if "body.storage" not in expand:
                out["body"]["_expandable"] = {"storage": ""}
        else:
            expandable["body"] = ""
        if "metadata.properties" in expand or "metadata" in expand:
            out["metadata"] = {
                "properties": {
                    key: {"key": key, "value": prop.value, "version": {"number": prop.version}}
                    for key, prop in page.properties.items()
                }
            }
        if "children.page" in expand:
            children = [
                self._v1_page(call, p, set()) for p in self._live_pages() if p.parent_id == page.id
            ]
            out["children"] = {"page": {"results": children, "size": len(children), "start": 0}}
        else:
            expandable["children"] = f"{self_url}/child"
        out["extensions"] = {"position": "none"}
        out["_expandable"] = expandable
        out["_links"] = {
            "webui": f"/spaces/{space.key}/pages/{page.id}/{quote(page.title.replace(' ', '+'), safe='+')}",
            "edit": f"/pages/resumedraft.action?draftId={page.id}",
            "tinyui": f"/x/{_tiny_id(page.id)}",
            "self": f"{call.base}/rest/api/content/{page.id}",
            "base": call.base,
            "context": call.context,
        }
        return out

    def _v1_property(self, call: Call, page: Page, prop: Property) -> dict[str, Any]:
        return {
            "id": prop.id,
            "key": prop.key,
            "value": prop.value,
            "version": {
                "number": prop.version,
                "minorEdit": False,
                "when": _timestamp(self._now()),
            },
            "_links": {"self": f"{call.base}/rest/api/content/{page.id}/property/{prop.key}"},
        }

    def _v1_page_list(self, call: Call, pages: list[Page], resource: str) -> SandboxResponse:
        expand = _expand_set(call.request.arg("expand"))
        pages = sorted(pages, key=lambda p: int(p.id))
        return _v1_list(call, [self._v1_page(call, p, expand) for p in pages], resource)

    def _v2_space(self, call: Call, space: Space) -> dict[str, Any]:
        return {
            "id": space.id,
            "key": space.key,
            "name": space.name,
            "type": "global",
            "status": "current",
            "homepageId": space.homepage_id,
            "_links": {"webui": f"/spaces/{space.key}"},
        }

    def _v2_page(self, call: Call, page: Page, body_format: str | None) -> dict[str, Any]:
        space = self._space(page.space_key)
        body: dict[str, Any] = {}
        if body_format == "storage":
            body = {"storage": {"representation": "storage", "value": page.body}}
        elif body_format is not None:
            raise ConfluenceError(
                400, f"The sandbox returns bodies in storage format only, not {body_format}"
            )
        return {
            "id": page.id,
            "status": page.status,
            "title": page.title,
            "spaceId": space.id,
            "parentId": page.parent_id,
            "parentType": "page" if page.parent_id else None,
            "position": None,
            "authorId": self._user(page.created.by)["accountId"],
            "ownerId": self._user(page.created.by)["accountId"],
            "lastOwnerId": None,
            "createdAt": _timestamp(page.created.when),
            "version": {
                "createdAt": _timestamp(page.version.when),
                "message": page.version.message,
                "number": page.version.number,
                "minorEdit": page.version.minor_edit,
                "authorId": self._user(page.version.by)["accountId"],
            },
            "body": body,
            "_links": {
                "webui": f"/spaces/{space.key}/pages/{page.id}/{quote(page.title.replace(' ', '+'), safe='+')}",
                "editui": f"/pages/resumedraft.action?draftId={page.id}",
                "tinyui": f"/x/{_tiny_id(page.id)}",
                "base": call.base,
            },
        }

    def _v2_list(self, call: Call, results: list[dict[str, Any]], resource: str) -> SandboxResponse:
        start, limit = _v2_window(call)
        window = results[start : start + limit]
        links: dict[str, Any] = {"base": call.base}
        if start + limit < len(results):
            query = {
                **{k: v[0] for k, v in call.request.query.items()},
                "cursor": str(start + limit),
            }
            links["next"] = f"{call.context}/api/v2{resource}?{urlencode(query)}"
        return SandboxResponse(200, {"results": window, "_links": links})

    def _v2_page_list(
        self,
        call: Call,
        pages: list[Page],
        resource: str,
        render: Callable[[Page], dict[str, Any]],
    ) -> SandboxResponse:
        pages = sorted(pages, key=lambda p: int(p.id))
        return self._v2_list(call, [render(p) for p in pages], resource)


# ---- request reading ------------------------------------------------------------------------


def _user_key(login: str) -> str:
    """Confluence Data Center user keys are 32 hex digits, distinct from usernames and Jira's keys."""
    return "8a7f8080" + hashlib.sha1(login.encode()).hexdigest()[:24]


def _read_call(request: SandboxRequest) -> Call | None:
    path = request.path.rstrip("/") or "/"
    host = request.headers.get("Host") or request.headers.get("host") or "confluence.example.com"
    scheme = "http" if host.startswith(("127.0.0.1", "localhost", "[::1]")) else "https"
    if path == V2_PREFIX or path.startswith(V2_PREFIX + "/"):
        return Call(
            "v2",
            request.method.upper(),
            path[len(V2_PREFIX) :],
            request,
            f"{scheme}://{host}/wiki",
            "/wiki",
        )
    for prefix in V1_PREFIXES:
        if path == prefix or path.startswith(prefix + "/"):
            context = prefix[: -len("/rest/api")]
            return Call(
                "v1",
                request.method.upper(),
                path[len(prefix) :],
                request,
                f"{scheme}://{host}{context}",
                context,
            )
    return None


def _shape(parts: list[str]) -> tuple[str, ...]:
    """Replace ids and keys in a path with placeholders so a route table can match it."""
    if not parts:
        return ()
    shape = [parts[0]]
    for index, part in enumerate(parts[1:], start=1):
        previous = parts[index - 1]
        if part == "search" and index == 1:
            shape.append(part)
        elif previous in ("content", "space", "pages", "spaces", "property") or (
            previous == "child" and index == 3
        ):
            shape.append("{}")
        else:
            shape.append(part)
    return tuple(shape)


def _object_body(request: SandboxRequest) -> dict[str, Any]:
    data = request.json()
    if not isinstance(data, dict):
        raise ConfluenceError(400, "The request body must be a JSON object")
    return data


def _title(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfluenceError(400, "Title is required and cannot be blank")
    if len(value) > TITLE_MAX_LENGTH:
        raise ConfluenceError(400, f"Title cannot be longer than {TITLE_MAX_LENGTH} characters")
    return value


def _duplicate_title(title: str, space: Space) -> str:
    return (
        "A page with this title already exists: A page already exists with the title "
        f"{title} in the space with key {space.key}"
    )


def _v1_storage_body(body: Any, *, required: bool) -> str | None:
    if body is None or body == {}:
        if required:
            return ""
        return None
    if not isinstance(body, dict):
        raise ConfluenceError(400, 'body must be an object such as {"storage": {...}}')
    storage = body.get("storage")
    if not isinstance(storage, dict):
        formats = ", ".join(sorted(body))
        raise ConfluenceError(400, f"The sandbox accepts storage-format bodies only, not {formats}")
    if storage.get("representation") != "storage":
        raise ConfluenceError(400, "body.storage.representation must be 'storage'")
    value = storage.get("value")
    if not isinstance(value, str):
        raise ConfluenceError(400, "body.storage.value must be a string")
    _check_storage(value)
    return value


def _v2_storage_body(body: Any) -> str:
    if body is None:
        return ""
    if not isinstance(body, dict):
        raise ConfluenceError(400, "body must be an object with representation and value")
    if "storage" in body and isinstance(body["storage"], dict):
        body = body["storage"]  # the nested form {"storage": {"representation", "value"}}
    if body.get("representation") != "storage":
        raise ConfluenceError(
            400,
            f"The sandbox accepts storage-format bodies only, not {body.get('representation')!r}",
        )
    value = body.get("value")
    if not isinstance(value, str):
        raise ConfluenceError(400, "body.value must be a string")
    _check_storage(value)
    return value


def _check_storage(value: str) -> None:
    """Refuse a body that is not well-formed storage format XHTML, as Confluence does."""
    if re.search(r"<!(DOCTYPE|ENTITY)", value, re.IGNORECASE):
        raise ConfluenceError(400, "Error parsing xhtml: DTDs are not allowed in storage format")
    try:
        ElementTree.fromstring(STORAGE_WRAPPER_START + value + "\n</storage>")
    except ElementTree.ParseError as error:
        line, column = error.position
        reason = str(error).split(":", 1)[0]
        raise ConfluenceError(
            400,
            f"Error parsing xhtml: {reason} at [row,col]: [{line - 2},{column + 1}]",
        ) from error


def _v1_parent(ancestors: Any) -> str | None:
    if not ancestors:
        return None
    if not isinstance(ancestors, list) or not isinstance(ancestors[-1], dict):
        raise ConfluenceError(400, "ancestors must be a list of objects with an id")
    parent_id = ancestors[-1].get("id")
    if parent_id is None:
        raise ConfluenceError(400, "ancestors[].id is required")
    return str(parent_id)


def _v2_id(value: str) -> str:
    if not value.isdigit():
        raise ConfluenceError(400, f"Invalid page id: {value}")
    return value


def _expand_set(expand: str | None) -> set[str]:
    if not expand:
        return set()
    return {part.strip() for part in expand.split(",") if part.strip()}


def _expand(call: Call, default: str) -> set[str]:
    return _expand_set(call.request.arg("expand") or default)


def _csv(values: list[str] | None) -> list[str]:
    return [item for value in values or [] for item in value.split(",") if item]


def _v2_window(call: Call) -> tuple[int, int]:
    cursor = call.request.arg("cursor") or "0"
    limit = call.request.arg("limit") or str(V2_DEFAULT_LIMIT)
    if not cursor.isdigit() or not limit.isdigit():
        raise ConfluenceError(400, "cursor and limit must be the values the API returned")
    return int(cursor), max(1, min(int(limit), 250))


def _v1_list(call: Call, results: list[dict[str, Any]], resource: str) -> SandboxResponse:
    start_text = call.request.arg("start") or "0"
    limit_text = call.request.arg("limit") or str(V1_DEFAULT_LIMIT)
    if not start_text.isdigit() or not limit_text.isdigit():
        raise ConfluenceError(400, "start and limit must be non-negative integers")
    start, limit = int(start_text), max(1, min(int(limit_text), 200))
    window = results[start : start + limit]
    query = {k: v[0] for k, v in call.request.query.items() if k not in ("start", "limit")}
    links: dict[str, Any] = {
        "base": call.base,
        "context": call.context,
        "self": f"{call.base}/rest/api{resource}",
    }
    if start + limit < len(results):
        next_query = urlencode({**query, "start": start + limit, "limit": limit})
        links["next"] = f"/rest/api{resource}?{next_query}"
    body = {"results": window, "start": start, "limit": limit, "size": len(window), "_links": links}
    return SandboxResponse(200, body)


def _timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _tiny_id(page_id: str) -> str:
    # Confluence's tiny links are the id's little-endian bytes in URL-safe base64.
    raw = int(page_id).to_bytes(8, "little").rstrip(b"\0") or b"\0"
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _v1_error(error: ConfluenceError) -> SandboxResponse:
    body = {
        "statusCode": error.status,
        "data": {
            "authorized": error.status not in (401, 403),
            "valid": error.status != 400,
            "errors": [],
            "successful": False,
            **error.data,
        },
        "message": error.message,
        "reason": REASONS.get(error.status, "ERROR").replace("_", " ").title(),
    }
    return SandboxResponse(error.status, body)


def _v2_error(error: ConfluenceError) -> SandboxResponse:
    entry = {
        "status": error.status,
        "code": REASONS.get(error.status, "ERROR"),
        "title": error.message,
        "detail": None,
    }
    return SandboxResponse(error.status, {"errors": [entry]})


Handler = Callable[[ConfluenceFake, Call, list[str]], SandboxResponse]

ROUTES: dict[tuple[str, ...], Handler] = {
    ("v1", "GET", "space"): ConfluenceFake._v1_get_spaces,
    ("v1", "GET", "user"): ConfluenceFake._v1_get_user,
    ("v1", "GET", "space", "{}"): ConfluenceFake._v1_get_space,
    ("v1", "POST", "content"): ConfluenceFake._v1_create,
    ("v1", "GET", "content"): ConfluenceFake._v1_find,
    ("v1", "GET", "content", "search"): ConfluenceFake._v1_search,
    ("v1", "GET", "content", "{}"): ConfluenceFake._v1_get_page,
    ("v1", "PUT", "content", "{}"): ConfluenceFake._v1_update,
    ("v1", "DELETE", "content", "{}"): ConfluenceFake._v1_delete,
    ("v1", "GET", "content", "{}", "history"): ConfluenceFake._v1_history,
    ("v1", "GET", "content", "{}", "child", "{}"): ConfluenceFake._v1_children,
    ("v1", "GET", "content", "{}", "property"): ConfluenceFake._v1_properties,
    ("v1", "POST", "content", "{}", "property"): ConfluenceFake._v1_create_property,
    ("v1", "GET", "content", "{}", "property", "{}"): ConfluenceFake._v1_get_property,
    ("v1", "POST", "content", "{}", "property", "{}"): ConfluenceFake._v1_create_property,
    ("v1", "PUT", "content", "{}", "property", "{}"): ConfluenceFake._v1_update_property,
    ("v2", "GET", "spaces"): ConfluenceFake._v2_get_spaces,
    ("v2", "GET", "spaces", "{}"): ConfluenceFake._v2_get_space,
    ("v2", "POST", "pages"): ConfluenceFake._v2_create,
    ("v2", "GET", "pages"): ConfluenceFake._v2_find,
    ("v2", "GET", "pages", "{}"): ConfluenceFake._v2_get_page,
    ("v2", "PUT", "pages", "{}"): ConfluenceFake._v2_update,
    ("v2", "GET", "pages", "{}", "children"): ConfluenceFake._v2_children,
}
