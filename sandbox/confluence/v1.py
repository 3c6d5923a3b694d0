"""Confluence REST API v1 (`/wiki/rest/api` on Cloud, `/rest/api` on Data Center), in its
shapes: https://developer.atlassian.com/cloud/confluence/rest/v1/ and, for Data Center,
https://docs.atlassian.com/ConfluenceServer/rest/latest/."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from sandbox.confluence.calls import (
    V1_DEFAULT_LIMIT,
    Call,
    expand,
    expand_set,
    object_body,
    v1_parent,
    v1_storage_body,
)
from sandbox.confluence.model import (
    REASONS,
    ConfluenceError,
    Page,
    Property,
    Restriction,
    Space,
    Version,
    checked_title,
    duplicate_title,
    timestamp,
    tiny_id,
    user_key,
)
from sandbox.confluence.site import Site
from sandbox.http import SandboxResponse


class V1Api:
    """The v1 resources crossdept and its client library use, over one site."""

    def __init__(self, site: Site) -> None:
        self.site = site

    def get_spaces(self, call: Call, parts: list[str]) -> SandboxResponse:
        keys = {
            key.upper()
            for value in call.request.query.get("spaceKey", [])
            for key in value.split(",")
        }
        spaces = [s for s in self.site.spaces.values() if not keys or s.key.upper() in keys]
        return v1_list(call, [self.render_space(call, s) for s in spaces], "/space")

    def get_space(self, call: Call, parts: list[str]) -> SandboxResponse:
        space = self.site.spaces.get(parts[1].upper())
        if space is None:
            raise ConfluenceError(404, f"No space with key : {parts[1]}")
        return SandboxResponse(200, self.render_space(call, space))

    def get_current_user(self, call: Call, parts: list[str]) -> SandboxResponse:
        """The caller, by the account id (Cloud) or username (Data Center) it logged in as."""
        for login, seed in self.site.users.items():
            if call.request.user in (seed.get("accountId"), seed.get("username"), login):
                if call.context == "":
                    return SandboxResponse(
                        200,
                        {
                            "type": "known",
                            "username": seed.get("username") or login,
                            "userKey": user_key(login),
                            "displayName": seed.get("displayName"),
                        },
                    )
                return SandboxResponse(200, self.site.user(login))
        raise ConfluenceError(404, "No current user")

    def get_user(self, call: Call, parts: list[str]) -> SandboxResponse:
        """One user, by accountId on Cloud, by username or key on Data Center."""
        query = call.request
        wanted = query.arg("accountId") or query.arg("username") or query.arg("key")
        if not wanted:
            raise ConfluenceError(400, "accountId, username or key is required")
        for login, seed in self.site.users.items():
            key = user_key(login)
            if wanted in (seed.get("accountId"), seed.get("username"), key):
                user = self.site.user(login)
                if call.context == "":  # Data Center: username and user key, no account id
                    user = {
                        "type": "known",
                        "username": seed.get("username") or login,
                        "userKey": key,
                        "displayName": user["displayName"],
                    }
                return SandboxResponse(200, user)
        raise ConfluenceError(404, f"No user found with {wanted}")

    def check_permission(self, call: Call, parts: list[str]) -> SandboxResponse:
        """Whether a user may read or edit a page (Cloud only: Data Center has no such resource).
        https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-content-permissions/"""
        if call.context == "":
            raise ConfluenceError(404, f"No REST resource at {call.path}")
        page = self.site.page(parts[1])
        body = object_body(call.request)
        subject = body.get("subject") or {}
        login = next(
            (
                name
                for name, seed in self.site.users.items()
                if seed.get("accountId") == subject.get("identifier")
            ),
            None,
        )
        if login is None:
            return SandboxResponse(
                200, {"hasPermission": False, "errors": [{"translation": "User not found"}]}
            )
        space = self.site.space(page.space_key)
        allowed = body.get("operation") == "read" or login not in space.read_only
        errors = (
            [] if allowed else [{"translation": "User does not have permission to the content"}]
        )
        return SandboxResponse(200, {"hasPermission": allowed, "errors": errors})

    def create(self, call: Call, parts: list[str]) -> SandboxResponse:
        data = object_body(call.request)
        kind = data.get("type")
        if kind != "page":
            raise ConfluenceError(
                400, f"The sandbox creates pages only, not content of type {kind!r}"
            )
        space_key = (data.get("space") or {}).get("key")
        if not isinstance(space_key, str) or not space_key:
            raise ConfluenceError(400, "Space key is required to create content")
        space = self.site.spaces.get(space_key.upper())
        if space is None:
            # The 5.x client turns a 403 here into "use the space key, not its display name".
            raise ConfluenceError(
                403, f"Could not create content in space {space_key!r}: no such space"
            )
        title = checked_title(data.get("title"))
        body = v1_storage_body(data.get("body"), required=True) or ""
        parent_id = v1_parent(data.get("ancestors"))
        if parent_id is not None:
            parent = self.site.page(parent_id, status=400)
            if parent.space_key != space.key:
                raise ConfluenceError(400, "The parent page must be in the same space as the page")
        if self.site.titled(space, title) is not None:
            raise ConfluenceError(400, duplicate_title(title, space))
        message = str((data.get("version") or {}).get("message") or "")
        page = self.site.add(
            space, title, body, parent_id, author=call.request.user, message=message
        )
        self.site.write_properties(page, data)
        return SandboxResponse(
            200, self.render_page(call, page, expand(call, "space,history,version,body.storage"))
        )

    def get_page(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self.site.visible(parts[1], call.request.user)
        expand = call.request.arg("expand")
        # Without `expand`, Cloud returns space, history and version expanded.
        fields = expand_set(expand) if expand is not None else {"space", "history", "version"}
        return SandboxResponse(200, self.render_page(call, page, fields))

    def find(self, call: Call, parts: list[str]) -> SandboxResponse:
        query = call.request
        kind = query.arg("type", "page")
        pages = list(self.site.live())
        if kind != "page":
            pages = []
        space_key = query.arg("spaceKey")
        if space_key is not None:
            pages = [p for p in pages if p.space_key.upper() == space_key.upper()]
        title = query.arg("title")
        if title is not None:
            pages = [p for p in pages if p.title.casefold() == title.casefold()]
        pages = [p for p in pages if self.site.may_view(p, query.user)]
        return self.page_list(call, pages, "/content")

    def history(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self.site.page(parts[1])
        return SandboxResponse(200, self.render_history(call, page))

    def children(self, call: Call, parts: list[str]) -> SandboxResponse:
        parent = self.site.page(parts[1])
        kind = parts[3]
        if kind not in ("page", "comment", "attachment"):
            raise ConfluenceError(400, f"Unsupported child type: {kind}")
        children = (
            [
                p
                for p in self.site.live()
                if p.parent_id == parent.id and self.site.may_view(p, call.request.user)
            ]
            if kind == "page"
            else []
        )
        return self.page_list(call, children, f"/content/{parent.id}/child/{kind}")

    def update(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self.site.editable(parts[1], call.request.user)
        data = object_body(call.request)
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
        space = self.site.space(page.space_key)
        title = checked_title(data.get("title"))
        other = self.site.titled(space, title)
        if other is not None and other.id != page.id:
            raise ConfluenceError(400, duplicate_title(title, space))
        body = v1_storage_body(data.get("body"), required=False)
        parent_id = v1_parent(data.get("ancestors"))
        if parent_id is not None:
            self.site.check_move(page, parent_id)
            page.parent_id = parent_id
        page.title = title
        if body is not None:
            page.body = body
        version = data.get("version") or {}
        page.version = Version(
            number=number,
            when=self.site.now(),
            by=call.request.user or "",
            message=str(version.get("message") or ""),
            minor_edit=bool(version.get("minorEdit", False)),
        )
        self.site.write_properties(page, data)
        return SandboxResponse(
            200, self.render_page(call, page, {"space", "history", "version", "body.storage"})
        )

    def delete(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self.site.page(parts[1])
        page.status = "trashed"
        return SandboxResponse(204)

    def search(self, call: Call, parts: list[str]) -> SandboxResponse:
        cql = call.request.arg("cql")
        if not cql:
            raise ConfluenceError(400, "CQL query parameter is required but was blank")
        pages = [p for p in self.site.run_cql(cql) if self.site.may_view(p, call.request.user)]
        return self.page_list(call, pages, "/content/search")

    def properties(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self.site.page(parts[1])
        results = [self.render_property(call, page, prop) for prop in page.properties.values()]
        return v1_list(call, results, f"/content/{page.id}/property")

    def get_property(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self.site.page(parts[1])
        prop = page.properties.get(parts[3])
        if prop is None:
            raise ConfluenceError(404, f"Cannot find property {parts[3]} on content {page.id}")
        return SandboxResponse(200, self.render_property(call, page, prop))

    def create_property(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self.site.page(parts[1])
        data = object_body(call.request)
        key = parts[3] if len(parts) > 3 else data.get("key")
        if not isinstance(key, str) or not key or "value" not in data:
            raise ConfluenceError(400, "A content property needs a key and a value")
        if key in page.properties:
            raise ConfluenceError(
                400, f"Content property {key} already exists on content {page.id}"
            )
        page.properties[key] = Property(
            id=str(next(self.site.property_ids)), key=key, value=data["value"]
        )
        return SandboxResponse(200, self.render_property(call, page, page.properties[key]))

    def update_property(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self.site.page(parts[1])
        data = object_body(call.request)
        prop = page.properties.get(parts[3])
        if prop is None:
            return self.create_property(call, parts)
        number = (data.get("version") or {}).get("number")
        if number != prop.version + 1:
            raise ConfluenceError(
                409, f"Version must be incremented on update. Current version is: {prop.version}"
            )
        prop.value, prop.version = data.get("value"), number
        return SandboxResponse(200, self.render_property(call, page, prop))

    def get_groups(self, call: Call, parts: list[str]) -> SandboxResponse:
        """The site's groups (Cloud adds each group's id; Data Center names them only)."""
        results = [
            {"type": "group", "name": name, "id": f"group-{index}"}
            for index, name in enumerate(sorted(self.site.groups), 1)
        ]
        return v1_list(call, results, "/group")

    def get_restrictions(self, call: Call, parts: list[str]) -> SandboxResponse:
        page = self.site.visible(parts[1], call.request.user)
        return SandboxResponse(
            200,
            {
                operation: self.render_restriction(operation, page)
                for operation in ("read", "update")
            },
        )

    def set_restrictions(self, call: Call, parts: list[str]) -> SandboxResponse:
        """Replace a page's restrictions. Groups must exist and people be known (a user by
        accountId on Cloud, by username or userKey on Data Center). The caller must still be
        able to view and edit the page afterwards: a restriction that locked crossdept out of
        its own page would break every later update, so the sandbox refuses it."""
        page = self.site.editable(parts[1], call.request.user)
        raw = call.request.json()
        entries = raw.get("results") if isinstance(raw, dict) else raw
        if not isinstance(entries, list):
            raise ConfluenceError(400, "Expected an array of restrictions")
        found: dict[str, Restriction] = {}
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("operation") not in ("read", "update"):
                raise ConfluenceError(400, "The sandbox restricts the read and update operations")
            given = entry.get("restrictions") or {}
            groups = _results(given.get("group"))
            names = {str(g.get("name")) for g in groups if isinstance(g, dict)}
            unknown = sorted(names - set(self.site.groups))
            if unknown:
                raise ConfluenceError(400, f"Group not found: {unknown[0]}")
            logins = set()
            for user in _results(given.get("user")):
                login = self._restricted_login(call, user)
                if login is None:
                    raise ConfluenceError(400, f"User not found: {user}")
                logins.add(login)
            if not names and not logins:
                raise ConfluenceError(400, "A restriction needs at least one user or group")
            found[str(entry["operation"])] = Restriction(frozenset(names), frozenset(logins))
        before = page.restrictions
        page.restrictions = found
        if not self.site.may_edit(page, call.request.user):
            page.restrictions = before
            raise ConfluenceError(400, "Restrictions would remove your own access to this page")
        return SandboxResponse(
            200,
            {
                "results": [self.render_restriction(op, page) for op in found],
                "start": 0,
                "limit": 100,
                "size": len(found),
            },
        )

    def _restricted_login(self, call: Call, user: Any) -> str | None:
        """The login a restriction's user entry names: by accountId on Cloud; by username or
        userKey on Data Center, which has no account ids."""
        if not isinstance(user, dict):
            return None
        cloud = call.context != ""
        for login, seed in self.site.users.items():
            if cloud and user.get("accountId") and user.get("accountId") == seed.get("accountId"):
                return login
            if not cloud and user.get("username") and user.get("username") == seed.get("username"):
                return login
            if not cloud and user.get("userKey") and user.get("userKey") == user_key(login):
                return login
        return None

    def render_restriction(self, operation: str, page: Page) -> dict[str, Any]:
        kept = page.restrictions.get(operation) or Restriction()
        users = [self.site.user(login) for login in sorted(kept.logins)]
        groups = [{"type": "group", "name": name} for name in sorted(kept.groups)]
        return {
            "operation": operation,
            "restrictions": {
                "user": {"results": users, "start": 0, "limit": 200, "size": len(users)},
                "group": {"results": groups, "start": 0, "limit": 200, "size": len(groups)},
            },
        }

    def render_space(self, call: Call, space: Space) -> dict[str, Any]:
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

    def render_version(self, call: Call, page: Page, version: Version) -> dict[str, Any]:
        return {
            "by": self.site.user(version.by),
            "when": timestamp(version.when),
            "friendlyWhen": "just a moment ago",
            "message": version.message,
            "number": version.number,
            "minorEdit": version.minor_edit,
            "_links": {
                "self": f"{call.base}/rest/experimental/content/{page.id}/version/{version.number}"
            },
        }

    def render_history(self, call: Call, page: Page) -> dict[str, Any]:
        return {
            "latest": True,
            "createdBy": self.site.user(page.created.by),
            "createdDate": timestamp(page.created.when),
            "lastUpdated": self.render_version(call, page, page.version),
            "_links": {"self": f"{call.base}/rest/api/content/{page.id}/history"},
        }

    def render_page(self, call: Call, page: Page, expand: set[str]) -> dict[str, Any]:
        space = self.site.space(page.space_key)
        out: dict[str, Any] = {
            "id": page.id,
            "type": "page",
            "status": page.status,
            "title": page.title,
        }
        expandable: dict[str, str] = {}
        self_url = f"{call.context}/rest/api/content/{page.id}"
        if "space" in expand:
            out["space"] = self.render_space(call, space)
        else:
            expandable["space"] = f"{call.context}/rest/api/space/{space.key}"
        if "history" in expand:
            out["history"] = self.render_history(call, page)
        else:
            expandable["history"] = f"{self_url}/history"
        if "version" in expand:
            out["version"] = self.render_version(call, page, page.version)
        else:
            expandable["version"] = ""
        if "ancestors" in expand:
            out["ancestors"] = [
                self.render_page(call, ancestor, set()) for ancestor in self.site.ancestors(page)
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
                self.render_page(call, p, set()) for p in self.site.live() if p.parent_id == page.id
            ]
            out["children"] = {"page": {"results": children, "size": len(children), "start": 0}}
        else:
            expandable["children"] = f"{self_url}/child"
        out["extensions"] = {"position": "none"}
        out["_expandable"] = expandable
        out["_links"] = {
            "webui": f"/spaces/{space.key}/pages/{page.id}/{quote(page.title.replace(' ', '+'), safe='+')}",
            "edit": f"/pages/resumedraft.action?draftId={page.id}",
            "tinyui": f"/x/{tiny_id(page.id)}",
            "self": f"{call.base}/rest/api/content/{page.id}",
            "base": call.base,
            "context": call.context,
        }
        return out

    def render_property(self, call: Call, page: Page, prop: Property) -> dict[str, Any]:
        return {
            "id": prop.id,
            "key": prop.key,
            "value": prop.value,
            "version": {
                "number": prop.version,
                "minorEdit": False,
                "when": timestamp(self.site.now()),
            },
            "_links": {"self": f"{call.base}/rest/api/content/{page.id}/property/{prop.key}"},
        }

    def page_list(self, call: Call, pages: list[Page], resource: str) -> SandboxResponse:
        expand = expand_set(call.request.arg("expand"))
        pages = sorted(pages, key=lambda p: int(p.id))
        return v1_list(call, [self.render_page(call, p, expand) for p in pages], resource)


def _results(value: Any) -> list[Any]:
    """A list given inline, or inside {"results": [...]} as GET returns it."""
    if isinstance(value, dict):
        value = value.get("results")
    return list(value) if isinstance(value, list) else []


def v1_list(call: Call, results: list[dict[str, Any]], resource: str) -> SandboxResponse:
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


def v1_error(error: ConfluenceError) -> SandboxResponse:
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
