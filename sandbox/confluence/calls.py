"""How the fake reads one request: which API (v1 or v2), the resource path under it, its body
and its paging and `expand` arguments, refusing what Confluence refuses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.confluence.model import ConfluenceError, check_storage
from sandbox.http import SandboxRequest

V1_PREFIXES = ("/wiki/rest/api", "/rest/api")
V2_PREFIX = "/wiki/api/v2"
V1_DEFAULT_LIMIT = 25
V2_DEFAULT_LIMIT = 25


@dataclass(frozen=True)
class Call:
    """One request as the fake reads it: which API, the resource path under it, who asked."""

    api: str  # "v1" or "v2"
    method: str
    path: str  # under the API root, e.g. "/content/65537"
    request: SandboxRequest
    base: str  # site base URL for `_links.base`, e.g. "https://example.atlassian.net/wiki"
    context: str


def read_call(request: SandboxRequest) -> Call | None:
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


def shape(parts: list[str]) -> tuple[str, ...]:
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


def object_body(request: SandboxRequest) -> dict[str, Any]:
    data = request.json()
    if not isinstance(data, dict):
        raise ConfluenceError(400, "The request body must be a JSON object")
    return data


def v1_storage_body(body: Any, *, required: bool) -> str | None:
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
    check_storage(value)
    return value


def v2_storage_body(body: Any) -> str:
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
    check_storage(value)
    return value


def v1_parent(ancestors: Any) -> str | None:
    if not ancestors:
        return None
    if not isinstance(ancestors, list) or not isinstance(ancestors[-1], dict):
        raise ConfluenceError(400, "ancestors must be a list of objects with an id")
    parent_id = ancestors[-1].get("id")
    if parent_id is None:
        raise ConfluenceError(400, "ancestors[].id is required")
    return str(parent_id)


def v2_id(value: str) -> str:
    if not value.isdigit():
        raise ConfluenceError(400, f"Invalid page id: {value}")
    return value


def expand_set(expand: str | None) -> set[str]:
    if not expand:
        return set()
    return {part.strip() for part in expand.split(",") if part.strip()}


def expand(call: Call, default: str) -> set[str]:
    return expand_set(call.request.arg("expand") or default)


def csv_values(values: list[str] | None) -> list[str]:
    return [item for value in values or [] for item in value.split(",") if item]


def v2_window(call: Call) -> tuple[int, int]:
    cursor = call.request.arg("cursor") or "0"
    limit = call.request.arg("limit") or str(V2_DEFAULT_LIMIT)
    if not cursor.isdigit() or not limit.isdigit():
        raise ConfluenceError(400, "cursor and limit must be the values the API returned")
    return int(cursor), max(1, min(int(limit), 250))
