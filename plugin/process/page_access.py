"""Who may view and edit the pages crossdept publishes for a request (seed 004, step 7: the
collaborating departments read, the lead department edits).

`confluence.groups` gives each department its Confluence group. A request's page may then be
edited by its requesting department's group and viewed by that group and the collaborating
departments' groups; crossdept's own account and the people named (the project manager) may do
both, so crossdept can still update the page and the PM still sees it. Restricting to some of
the departments would shut the others out of their own request's pages: when a department
taking part has no group in the rules or on the site, the page keeps the space's permissions
and the missing groups are logged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from plugin.atlassian.ports import ConfluencePort, PageRestriction
from plugin.process.config import Rules

log = logging.getLogger(__name__)


def request_page_restriction(
    rules: Rules,
    confluence: ConfluencePort,
    *,
    lead: str | None,
    collaborating: Sequence[str],
    people: Sequence[str | None] = (),
) -> PageRestriction | None:
    """The restriction of a request's page, or None when a department taking part has no group
    (in the rules or on the site)."""
    groups = rules.confluence.groups if rules.confluence is not None else {}
    if not groups:
        return None
    taking_part = [key for key in dict.fromkeys([lead, *collaborating]) if key]
    if not taking_part:
        return None
    on_site = confluence.group_names()
    missing = [groups.get(key, key) for key in taking_part if groups.get(key) not in on_site]
    if missing:
        log.warning(
            "page not restricted: departments taking part have no Confluence group",
            extra={"groups": missing},
        )
        return None
    view = tuple(dict.fromkeys(groups[key] for key in taking_part))
    edit = (groups[lead],) if lead else ()
    me = confluence.current_account()
    return PageRestriction(view, edit, tuple(dict.fromkeys(p for p in (me, *people) if p)))
