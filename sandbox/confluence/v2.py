"""Confluence REST API v2 (`/wiki/api/v2`, Cloud only), in its shapes:
https://developer.atlassian.com/cloud/confluence/rest/v2/."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from sandbox.confluence.calls import (
    Call,
    csv_values,
    object_body,
    v2_id,
    v2_storage_body,
    v2_window,
)
from sandbox.confluence.model import (
    REASONS,
    ConfluenceError,
    Page,
    Space,
    Version,
    checked_title,
    duplicate_title,
    timestamp,
    tiny_id,
)
from sandbox.confluence.site import Site
from sandbox.http import SandboxResponse


class V2Api:
    """The v2 resources crossdept uses, over one site."""

    def __init__(self, site: Site) -> None:
        self.site = site

    def get_spaces(self, call: Call, parts: list[str]) -> SandboxResponse:
        keys = csv_values(call.request.query.get("keys"))
        ids = set(csv_values(call.request.query.get("ids")))
        spaces = [
            s
            for s in self.site.spaces.values()
            if (not keys or s.key.upper() in {k.upper() for k in keys}) and (not ids or s.id in ids)
        ]
        return self.listing(call, [self.render_space(call, s) for s in spaces], "/spaces")

    def get_space(self, call: Call, parts: list[str]) -> SandboxResponse:
        space = next((s for s in self.site.spaces.values() if s.id == parts[1]), None)
        if space is None:
            raise ConfluenceError(404, f"No space with id {parts[1]}")
        return SandboxResponse(200, self.render_space(call, space))

    def create(self, call: Call, parts: list[str]) -> SandboxResponse:
        data = object_body(call.request)
        space_id = str(data.get("spaceId") or "")
        space = next((s for s in self.site.spaces.values() if s.id == space_id), None)
        if space is None:
            raise ConfluenceError(
                404, f"No space with id {space_id!r} (spaceId takes the numeric id, not the key)"
            )
        if data.get("status", "current") != "current":
            raise ConfluenceError(400, "The sandbox creates published pages only (status current)")
        title = checked_title(data.get("title"))
        body = v2_storage_body(data.get("body"))
        root_level = call.request.arg("root-level", "false") == "true"
        parent_id = data.get("parentId")
        if parent_id is not None:
            if root_level:
                raise ConfluenceError(400, "parentId may not be given with root-level=true")
            parent = self.site.page(str(parent_id), status=404)
            if parent.space_key != space.key:
                raise ConfluenceError(400, "The parent page must be in the same space as the page")
            parent_id = parent.id
        elif not root_level:
            parent_id = space.homepage_id
        if self.site.titled(space, title) is not None:
            raise ConfluenceError(400, duplicate_title(title, space))
        page = self.site.add(space, title, body, parent_id, author=call.request.user, message="")
        return SandboxResponse(200, self.render_page(call, page, "storage"))

    def get_page(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self.site.visible(v2_id(parts[1]), call.request.user)
        return SandboxResponse(200, self.render_page(call, page, call.request.arg("body-format")))

    def find(self, call: Call, parts: list[str]) -> SandboxResponse:
        query = call.request.query
        pages = list(self.site.live())
        space_ids = set(csv_values(query.get("space-id")))
        if space_ids:
            keys = {s.key for s in self.site.spaces.values() if s.id in space_ids}
            pages = [p for p in pages if p.space_key in keys]
        ids = set(csv_values(query.get("id")))
        if ids:
            pages = [p for p in pages if p.id in ids]
        title = call.request.arg("title")
        if title is not None:
            pages = [p for p in pages if p.title.casefold() == title.casefold()]
        pages = [p for p in pages if self.site.may_view(p, call.request.user)]
        body_format = call.request.arg("body-format")
        return self.page_list(
            call, pages, "/pages", lambda p: self.render_page(call, p, body_format)
        )

    def update(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self.site.editable(v2_id(parts[1]), call.request.user)
        data = object_body(call.request)
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
        space = self.site.space(page.space_key)
        title = checked_title(data.get("title"))
        other = self.site.titled(space, title)
        if other is not None and other.id != page.id:
            raise ConfluenceError(400, duplicate_title(title, space))
        body = v2_storage_body(data.get("body"))
        if data.get("parentId") is not None:
            self.site.check_move(page, str(data["parentId"]))
            page.parent_id = str(data["parentId"])
        page.title, page.body = title, body
        page.version = Version(
            number=number,
            when=self.site.now(),
            by=call.request.user or "",
            message=str((data.get("version") or {}).get("message") or ""),
        )
        return SandboxResponse(200, self.render_page(call, page, "storage"))

    def children(self, call: Call, parts: list[str]) -> SandboxResponse:
        parent = self.site.page(v2_id(parts[1]))
        children = [p for p in self.site.live() if p.parent_id == parent.id]
        return self.page_list(
            call,
            children,
            f"/pages/{parent.id}/children",
            lambda p: {
                "id": p.id,
                "status": p.status,
                "title": p.title,
                "spaceId": self.site.space(p.space_key).id,
                "childPosition": None,
            },
        )

    def render_space(self, call: Call, space: Space) -> dict[str, Any]:
        return {
            "id": space.id,
            "key": space.key,
            "name": space.name,
            "type": "global",
            "status": "current",
            "homepageId": space.homepage_id,
            "_links": {"webui": f"/spaces/{space.key}"},
        }

    def render_page(self, call: Call, page: Page, body_format: str | None) -> dict[str, Any]:
        space = self.site.space(page.space_key)
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
            "authorId": self.site.user(page.created.by)["accountId"],
            "ownerId": self.site.user(page.created.by)["accountId"],
            "lastOwnerId": None,
            "createdAt": timestamp(page.created.when),
            "version": {
                "createdAt": timestamp(page.version.when),
                "message": page.version.message,
                "number": page.version.number,
                "minorEdit": page.version.minor_edit,
                "authorId": self.site.user(page.version.by)["accountId"],
            },
            "body": body,
            "_links": {
                "webui": f"/spaces/{space.key}/pages/{page.id}/{quote(page.title.replace(' ', '+'), safe='+')}",
                "editui": f"/pages/resumedraft.action?draftId={page.id}",
                "tinyui": f"/x/{tiny_id(page.id)}",
                "base": call.base,
            },
        }

    def listing(self, call: Call, results: list[dict[str, Any]], resource: str) -> SandboxResponse:
        start, limit = v2_window(call)
        window = results[start : start + limit]
        links: dict[str, Any] = {"base": call.base}
        if start + limit < len(results):
            query = {
                **{k: v[0] for k, v in call.request.query.items()},
                "cursor": str(start + limit),
            }
            links["next"] = f"{call.context}/api/v2{resource}?{urlencode(query)}"
        return SandboxResponse(200, {"results": window, "_links": links})

    def page_list(
        self,
        call: Call,
        pages: list[Page],
        resource: str,
        render: Callable[[Page], dict[str, Any]],
    ) -> SandboxResponse:
        pages = sorted(pages, key=lambda p: int(p.id))
        return self.listing(call, [render(p) for p in pages], resource)


def v2_error(error: ConfluenceError) -> SandboxResponse:
    entry = {
        "status": error.status,
        "code": REASONS.get(error.status, "ERROR"),
        "title": error.message,
        "detail": None,
    }
    return SandboxResponse(error.status, {"errors": [entry]})
