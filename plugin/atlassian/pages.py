"""Pages crossdept keeps in Confluence: found again by a content property, never by title alone.

A page crossdept makes carries a content property (e.g. `crossdept.minutes` = {meeting, site})
written in the create call. Publishing again finds it by its recorded id, then by title, and
uses it only if the property says it is the same page; a page of that title that someone else
made is never overwritten. A new version is added only when the page would change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from plugin.atlassian.ports import ConfluencePort, Page, PageRestriction
from plugin.spine.errors import RefusedError


@dataclass(frozen=True)
class Published:
    """The outcome of one publish: the page (None when its title belongs to another page)."""

    page: Page | None
    digest: str
    restriction_refused: str | None = None  # why Confluence refused the page's restrictions


def _restrict(
    confluence: ConfluencePort, page: Page, restriction: PageRestriction | None
) -> str | None:
    """Set the page's restrictions; Confluence's reason when it refuses them. The page is
    published anyway: its minutes or progress matter more than who may read them, and the
    refusal is the caller's to tell (a Data Center before 9.0 has no such resource)."""
    if restriction is None:
        return None
    try:
        confluence.restrict_page(page.id, restriction)
    except RefusedError as error:
        return error.reason()
    return None


def content_digest(title: str, body: str) -> str:
    """What is compared to decide whether a page needs a new version."""
    return hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()[:32]


def is_ours(confluence: ConfluencePort, page: Page, name: str, mark: Mapping[str, str]) -> bool:
    """The page carries our property, naming the same thing (every key of `mark` but the site)."""
    found = confluence.page_property(page.id, name)
    return isinstance(found, Mapping) and all(
        found.get(key) == value for key, value in mark.items() if key != "site"
    )


def parent_page(confluence: ConfluencePort, space: str, title: str | None) -> Page | None:
    """The page to publish under, made at the space's top when missing; None for the top."""
    if not title:
        return None
    found = confluence.find_page(space, title)
    if found is not None:
        return found
    try:
        return confluence.create_page(space, title, "")
    except RefusedError:
        # Another worker made it a moment ago (Confluence refuses a second page of that title).
        found = confluence.find_page(space, title)
        if found is None:
            raise
        return found


def publish_page(
    confluence: ConfluencePort,
    *,
    space: str,
    title: str,
    body: str,
    parent: Callable[[], Page | None],
    name: str,
    mark: Mapping[str, str],
    known_id: str | None,
    known_digest: str | None,
    restriction: PageRestriction | None = None,
) -> Published:
    """Create the page, or update ours as a new version when it changed; with `restriction`,
    set who may view and edit it each time it is created or changes (a page left without them
    by an interrupted run gets them with its next version)."""
    fingerprint = f"\n{restriction.fingerprint}" if restriction is not None else ""
    digest = content_digest(title, body + fingerprint)
    page = confluence.get_page(known_id) if known_id else None
    if page is not None and not is_ours(confluence, page, name, mark):
        page = None
    if page is None:
        same_title = confluence.find_page(space, title)
        if same_title is not None:
            if not is_ours(confluence, same_title, name, mark):
                return Published(None, digest)
            page = same_title
    if page is None:
        above = parent()
        page = confluence.create_page(
            space, title, body, parent_id=above.id if above else None, properties={name: mark}
        )
        if confluence.page_property(page.id, name) is None:  # an API that dropped metadata
            confluence.set_page_property(page.id, name, dict(mark))
        return Published(page, digest, _restrict(confluence, page, restriction))
    if known_digest != digest or known_id != page.id:
        updated = confluence.update_page(page, title, body)
        return Published(updated, digest, _restrict(confluence, updated, restriction))
    return Published(page, digest)
