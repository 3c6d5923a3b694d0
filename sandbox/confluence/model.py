"""What a Confluence site holds (spaces, pages, versions, content properties), the refusal
Confluence answers with, and the rules every stored page body and title obeys."""

from __future__ import annotations

import base64
import hashlib
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.entities import name2codepoint
from typing import Any

TITLE_MAX_LENGTH = 255
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
    read_only: frozenset[str] = frozenset()  # logins that may read the space but not edit it


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
    # Page restrictions by operation ("read", "update"): the groups and the logins admitted.
    restrictions: dict[str, Restriction] = field(default_factory=dict)


@dataclass(frozen=True)
class Restriction:
    """Who one operation on a page is restricted to: its groups and people (logins)."""

    groups: frozenset[str] = frozenset()
    logins: frozenset[str] = frozenset()


def user_key(login: str) -> str:
    """Confluence Data Center user keys are 32 hex digits, distinct from usernames and Jira's keys."""
    return "8a7f8080" + hashlib.sha1(login.encode()).hexdigest()[:24]


def checked_title(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfluenceError(400, "Title is required and cannot be blank")
    if len(value) > TITLE_MAX_LENGTH:
        raise ConfluenceError(400, f"Title cannot be longer than {TITLE_MAX_LENGTH} characters")
    return value


def duplicate_title(title: str, space: Space) -> str:
    return (
        "A page with this title already exists: A page already exists with the title "
        f"{title} in the space with key {space.key}"
    )


def check_storage(value: str) -> None:
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


def timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def tiny_id(page_id: str) -> str:
    # Confluence's tiny links are the id's little-endian bytes in URL-safe base64.
    raw = int(page_id).to_bytes(8, "little").rstrip(b"\0") or b"\0"
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
