"""The spaces and pages of one Confluence site, shared by its v1 and v2 APIs: lookups, the
tree of pages, titles unique per space, content properties, the CQL the client sends."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sandbox.confluence.model import (
    FIRST_PAGE_ID,
    FIRST_PROPERTY_ID,
    ConfluenceError,
    Page,
    Property,
    Restriction,
    Space,
    Version,
)

# CQL clauses the 5.x client sends (`parent=ID AND space="KEY"`), plus title/type/ancestor/id.
CQL_CLAUSE = re.compile(
    r"\s*(?P<field>parent|ancestor|space|title|type|id)\s*=\s*"
    r'(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>[^\s"]+))\s*',
    re.IGNORECASE,
)
CQL_AND = re.compile(r"\s+AND\s+", re.IGNORECASE)


class Site:
    """The state behind both APIs; callers hold the fake's lock."""

    def __init__(
        self,
        spaces: Sequence[Mapping[str, Any]],
        now: Callable[[], datetime],
        users: Mapping[str, Mapping[str, Any]],
        groups: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self.now = now
        self.users = dict(users)
        self.groups = dict(groups or {})  # name -> member logins
        self.ids = itertools.count(FIRST_PAGE_ID)
        self.property_ids = itertools.count(FIRST_PROPERTY_ID)
        self.spaces: dict[str, Space] = {}
        self.pages: dict[str, Page] = {}
        for seed in spaces:
            space = Space(
                key=str(seed["key"]),
                name=str(seed["name"]),
                id=str(seed["id"]),
                read_only=frozenset(str(login) for login in seed.get("read_only", ())),
            )
            self.spaces[space.key.upper()] = space
            home = self.add(space, f"{space.name} Home", "", None, author=None, message="")
            space.homepage_id = home.id

    def add(
        self,
        space: Space,
        title: str,
        body: str,
        parent_id: str | None,
        *,
        author: str | None,
        message: str,
    ) -> Page:
        version = Version(number=1, when=self.now(), by=author or "", message=message)
        page = Page(
            id=str(next(self.ids)),
            space_key=space.key,
            title=title,
            body=body,
            parent_id=parent_id,
            version=version,
            created=version,
        )
        self.pages[page.id] = page
        return page

    def write_properties(self, page: Page, data: Mapping[str, Any]) -> None:
        """Store `metadata.properties` (the 5.x client's content-appearance values) as properties."""
        properties = ((data.get("metadata") or {}).get("properties")) or {}
        if not isinstance(properties, dict):
            raise ConfluenceError(400, "metadata.properties must be an object")
        for key, entry in properties.items():
            value = entry.get("value") if isinstance(entry, dict) else entry
            existing = page.properties.get(key)
            if existing is None:
                page.properties[key] = Property(
                    id=str(next(self.property_ids)), key=key, value=value
                )
            elif existing.value != value:
                existing.value, existing.version = value, existing.version + 1

    def space(self, key: str) -> Space:
        space = self.spaces.get(key.upper())
        if space is None:
            raise ConfluenceError(404, f"No space with key : {key}")
        return space

    def page(self, page_id: str, status: int = 404) -> Page:
        page = self.pages.get(page_id)
        if page is None or page.status != "current":
            raise ConfluenceError(
                status,
                f"No content found with id: ContentId{{id={page_id}}}",
            )
        return page

    def live(self) -> Iterator[Page]:
        return (p for p in self.pages.values() if p.status == "current")

    def titled(self, space: Space, title: str) -> Page | None:
        # Titles are unique per space, compared without regard to case.
        folded = title.casefold()
        return next(
            (p for p in self.live() if p.space_key == space.key and p.title.casefold() == folded),
            None,
        )

    def check_move(self, page: Page, parent_id: str) -> None:
        parent = self.page(parent_id, status=400)
        if parent.space_key != page.space_key:
            raise ConfluenceError(400, "A page cannot be moved to another space by an update")
        cursor: Page | None = parent
        while cursor is not None:
            if cursor.id == page.id:
                raise ConfluenceError(400, "A page cannot become its own ancestor")
            cursor = self.pages.get(cursor.parent_id) if cursor.parent_id else None

    def ancestors(self, page: Page) -> list[Page]:
        chain = []
        cursor = self.pages.get(page.parent_id) if page.parent_id else None
        while cursor is not None:
            chain.append(cursor)
            cursor = self.pages.get(cursor.parent_id) if cursor.parent_id else None
        return list(reversed(chain))

    def run_cql(self, cql: str) -> list[Page]:
        pages = list(self.live())
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
            return any(a.id == value for a in self.ancestors(page))
        if name == "space":
            return page.space_key.upper() == value.upper()
        if name == "title":
            return page.title.casefold() == value.casefold()
        if name == "type":
            return value.lower() == "page"
        return page.id == value

    # -- page restrictions ------------------------------------------------------------------
    # A view restriction on a page holds for the pages below it too (Confluence's inherited
    # view restrictions); an edit restriction holds for its own page only, and editing needs
    # viewing. https://confluence.atlassian.com/doc/page-restrictions-139414.html

    def login_of(self, caller: str | None) -> str | None:
        """The seed login of a caller named by account id (Cloud) or username (Data Center)."""
        for login, seed in self.users.items():
            if caller in (login, seed.get("accountId"), seed.get("username")):
                return login
        return None

    def _admits(self, restriction: Restriction | None, login: str | None) -> bool:
        if restriction is None:
            return True
        if login is None:
            return False
        return login in restriction.logins or any(
            login in self.groups.get(group, frozenset()) for group in restriction.groups
        )

    def may_view(self, page: Page, caller: str | None) -> bool:
        """Whether the caller may see the page: its view restriction and its ancestors' admit them."""
        login = self.login_of(caller)
        return all(
            self._admits(each.restrictions.get("read"), login)
            for each in (page, *self.ancestors(page))
        )

    def may_edit(self, page: Page, caller: str | None) -> bool:
        """Whether the caller may edit the page: they may view it, and its edit restriction admits them."""
        login = self.login_of(caller)
        return self.may_view(page, caller) and self._admits(page.restrictions.get("update"), login)

    def visible(self, page_id: str, caller: str | None) -> Page:
        """The page, or the 404 Confluence answers for a page the caller may not see."""
        page = self.page(page_id)
        if not self.may_view(page, caller):
            raise ConfluenceError(404, f"No content found with id : ContentId{{id={page_id}}}")
        return page

    def editable(self, page_id: str, caller: str | None) -> Page:
        """The page, or 404 (not seen) / 403 (seen, not to be edited)."""
        page = self.visible(page_id, caller)
        if not self.may_edit(page, caller):
            raise ConfluenceError(403, "You do not have permission to edit this content")
        return page

    def user(self, login: str | None) -> dict[str, Any]:
        seed = self.users.get(login or "")
        if seed is None:
            seed = next(
                (
                    u
                    for u in self.users.values()
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
