"""Read what doctor compares with the rules, from the site itself: one pass over Jira and
Confluence through the admin reader and the Confluence port, nothing written."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from plugin.atlassian.ports import Page
from plugin.atlassian.site_admin import JiraAdmin, SiteProject, Webhooks
from plugin.doctor.needs import PERMISSIONS, SiteNeeds
from plugin.spine.errors import GatewayError


@dataclass(frozen=True)
class SiteFacts:
    """The site as crossdept's accounts see it."""

    address: str
    cloud: bool
    version: str
    account: str
    account_name: str
    fields: Mapping[str, Mapping[str, Any]]
    projects: Mapping[str, SiteProject | None]
    missing_people: frozenset[str]
    webhooks: Webhooks
    space: bool | None = None  # None: no Confluence configured
    pages: Mapping[str, Page | None] = field(default_factory=dict)  # by title
    may_edit: Mapping[str, bool | None] = field(default_factory=dict)  # by title
    confluence_error: str = ""
    groups: frozenset[str] | None = None  # the Confluence site's groups, when the rules name some


class SiteUnreadable(Exception):
    """crossdept logged in, but a later read of the site failed: which, and why."""

    def __init__(self, what: str, error: GatewayError) -> None:
        super().__init__(f"{what}: {error.reason() if hasattr(error, 'reason') else error}")
        self.what = what
        self.error = error


class People(Protocol):
    def missing_users(self, accounts: Iterable[str]) -> list[str]: ...


class ConfluenceAdmin(Protocol):
    """What doctor reads of Confluence (plugin.atlassian.confluence_gateway)."""

    def space_exists(self, space: str) -> bool: ...

    def find_page(self, space: str, title: str) -> Page | None: ...

    def current_account(self) -> str: ...

    def may_edit(self, page_id: str, account: str) -> bool | None: ...

    def group_names(self) -> frozenset[str]: ...


def survey(
    needs: SiteNeeds,
    admin: JiraAdmin,
    people: People,
    confluence: ConfluenceAdmin | None,
    address: str,
) -> SiteFacts:
    """Read the site. A Jira that cannot be reached or refuses the login raises GatewayError
    (the connection check reports it); a read that fails after the login raises SiteUnreadable
    naming it; Confluence's failures are the Confluence check's finding."""
    me = admin.myself()
    try:
        facts = _read_jira(needs, admin, people, address, me)
    except GatewayError as error:
        raise SiteUnreadable("reading the site's configuration", error) from error
    if confluence is None or needs.space is None:
        return facts
    return _with_confluence(facts, needs, confluence)


def _read_jira(
    needs: SiteNeeds, admin: JiraAdmin, people: People, address: str, me: Mapping[str, Any]
) -> SiteFacts:
    info = admin.jira.server_info
    projects: dict[str, SiteProject | None] = {}
    create_types = {need.screen_type for need in needs.fields if need.screen == "create"}
    # On Data Center an epic-level type is known by Epic Name on its create screen.
    create_types |= {need.name for need in needs.types if need.level == "epic"}
    edit_types = {need.screen_type for need in needs.fields if need.screen == "edit"}
    way_back_types = set(needs.way_back.types) if needs.way_back else set()
    for key in needs.projects:
        project = admin.project(key, list(PERMISSIONS))
        if project is not None:
            project = replace(
                project,
                create_screens={
                    name: admin.create_screen(key, kind.id)
                    for name, kind in project.types.items()
                    if name in create_types
                },
                edit_screens={
                    name: admin.edit_screen(key, name)
                    for name in project.types
                    if name in edit_types
                },
                workflows={
                    name: graph
                    for name, kind in project.types.items()
                    if name in way_back_types
                    and (graph := admin.workflow(project.id, kind.id)) is not None
                },
            )
        projects[key] = project
    return SiteFacts(
        address=address,
        cloud=admin.is_cloud,
        version=str(info.get("version", "")),
        account=str(me.get("accountId") or me.get("name") or ""),
        account_name=str(me.get("displayName") or ""),
        fields=admin.fields(),
        projects=projects,
        missing_people=frozenset(people.missing_users(p.account for p in needs.people)),
        webhooks=admin.webhooks(),
    )


def _with_confluence(facts: SiteFacts, needs: SiteNeeds, confluence: ConfluenceAdmin) -> SiteFacts:
    assert needs.space is not None
    try:
        if not confluence.space_exists(needs.space):
            return replace(facts, space=False)
        pages = {need.title: confluence.find_page(needs.space, need.title) for need in needs.pages}
        account = confluence.current_account() if any(pages.values()) else ""
        may_edit = {
            title: confluence.may_edit(page.id, account)
            for title, page in pages.items()
            if page is not None
        }
        groups = confluence.group_names() if needs.groups else None
    except GatewayError as error:
        return replace(facts, space=None, confluence_error=str(error))
    return replace(facts, space=True, pages=pages, may_edit=may_edit, groups=groups)
