"""What rules may ask of Jira and Confluence, in crossdept's own words (Protocols).

Rules speak in intents (create these items, find the items under these parents, comment this);
the adapters (plugin.atlassian.jira_gateway around `jira`, plugin.atlassian.confluence_gateway around
`atlassian-python-api`) turn them into REST payloads and JQL, and are the only modules that
import those clients. Test fakes implement these Protocols instead of subclassing an adapter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Protocol

from plugin.atlassian.queries import Placement, Query

# POST /rest/api/2/issue/bulk creates at most 50 issues per call.
# https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-bulk-post
BULK_LIMIT = 50

# Where a new issue goes: a sub-task of `parent`, a child of the epic `parent`, or an epic that
# links to `parent` (a request whose rules say `epic: create`); or an issue of its own, linked to
# `parent` (a meeting crossdept files for a request), or standalone (`parent` is then empty).
NewPlacement = Placement | Literal["linked", "standalone"]


@dataclass(frozen=True)
class OnePerson:
    """A user-picker field's value: an accountId (Cloud) or a username (Data Center)."""

    id: str


@dataclass(frozen=True)
class ManyPeople:
    """A multi-user-picker field's value."""

    ids: tuple[str, ...]


# A custom field's value on create, which the adapter writes as the flavour wants it.
FieldValue = datetime | OnePerson | ManyPeople


@dataclass(frozen=True)
class IssueType:
    """An issue type a project offers."""

    id: str
    name: str
    subtask: bool


@dataclass(frozen=True)
class NewIssue:
    """An issue to create; the Jira adapter writes its REST payload (parent, Epic Link, assignee)."""

    project: str
    issue_type_id: str
    summary: str
    description: str
    due: date
    assignee: str  # Cloud accountId or Data Center username
    parent: str
    placement: NewPlacement
    properties: Mapping[str, Any] = field(default_factory=dict)
    fields: Mapping[str, FieldValue] = field(default_factory=dict)  # custom fields, by id


@dataclass(frozen=True)
class CreatedIssue:
    """An issue a bulk call created."""

    id: str
    key: str


@dataclass(frozen=True)
class ItemRefusal:
    """Why Jira refused one element of a bulk create."""

    status: int
    messages: tuple[str, ...] = ()
    errors: Mapping[str, str] = field(default_factory=dict)

    def reason(self) -> str:
        """Say what Jira said, for a log line and a comment."""
        parts = list(self.messages) + [f"{name}: {text}" for name, text in self.errors.items()]
        return "; ".join(parts) or f"HTTP {self.status}"


@dataclass(frozen=True)
class BulkResult:
    """Per-input outcome of one bulk create: created by index, refused by index."""

    created: Mapping[int, CreatedIssue]
    refused: Mapping[int, ItemRefusal]


class JiraPort(Protocol):
    """Jira as rules see it. Failures raise plugin.spine.errors' TransientGatewayError or RefusedError."""

    is_cloud: bool
    calls: Counter[tuple[str, int]]

    @property
    def total_calls(self) -> int:
        """How many HTTP calls were made."""
        ...

    def myself(self) -> str:
        """crossdept's own account id (Cloud) or username (Data Center)."""
        ...

    def field_names(self) -> dict[str, str]:
        """Field name -> id (changelogs name custom fields by name)."""
        ...

    def epic_link_field(self, configured: str | None = None) -> str | None:
        """Data Center's Epic Link field id: the configured one, else the one Jira declares."""
        ...

    def issue_types(self, project: str) -> dict[str, IssueType]:
        """The issue types a project offers, by name."""
        ...

    def missing_users(self, accounts: Iterable[str]) -> list[str]:
        """The accounts Jira does not know, or knows as inactive (people who left)."""
        ...

    def display_names(self, accounts: Iterable[str]) -> dict[str, str]:
        """The display names of the accounts Jira knows as active people."""
        ...

    def get_issue(
        self, key: str, fields: Sequence[str], properties: Sequence[str] = ()
    ) -> dict[str, Any]:
        """One issue's named fields and issue properties."""
        ...

    def read_issues(
        self,
        keys: Sequence[str],
        fields: Sequence[str] = ("summary",),
        properties: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """Many issues by key, in as few calls as Jira allows; keys Jira lacks are left out."""
        ...

    def create_issues(
        self, issues: Sequence[NewIssue], *, epic_link_field: str | None = None
    ) -> BulkResult:
        """Create up to 50 issues in one call; some may be refused."""
        ...

    def search(
        self,
        query: Query,
        *,
        fields: Sequence[str] = ("summary",),
        properties: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """The issues a query finds (plugin.atlassian.queries), with these fields and issue
        properties, in one search paged by 100."""
        ...

    def notify(self, key: str, people: Sequence[str], subject: str, text: str) -> None:
        """Have Jira e-mail these people about an issue (its notify call)."""
        ...

    def transition_to(self, key: str, status: str) -> bool:
        """Move an issue to the named status; False when its workflow has no way there."""
        ...

    def edit_labels(self, key: str, *, add: Sequence[str] = (), remove: Sequence[str] = ()) -> None:
        """Add and remove labels in one edit, leaving the others as they are."""
        ...

    def set_due_date(self, key: str, day: date) -> None:
        """Set an issue's due date (a deadline that starts from an event)."""
        ...

    def assign(self, key: str, person: str) -> None:
        """Make a person the issue's assignee."""
        ...

    def tree_url(self, stage_keys: Sequence[str]) -> str:
        """A link people can open that lists these stages and everything under them."""
        ...

    def set_issue_property(self, key: str, name: str, value: Any) -> None:
        """Write an issue property."""
        ...

    def add_comment(self, key: str, body: str) -> str:
        """Comment in wiki markup; returns the comment id."""
        ...

    def link_issues(self, from_key: str, to_key: str, link_type: str = "Relates") -> None:
        """Link two issues."""
        ...

    def add_remote_link(self, key: str, *, url: str, title: str, global_id: str) -> None:
        """Link an issue to a web page, once per `global_id`."""
        ...

    def issue_url(self, key: str) -> str:
        """The address people open to see an issue."""
        ...

    def edit_comment(self, key: str, comment_id: str, body: str) -> None:
        """Replace a comment's text; RefusedError 404 when someone deleted it."""
        ...

    def list_comments(self, key: str) -> list[dict[str, Any]]:
        """Every comment of an issue, oldest first."""
        ...


@dataclass(frozen=True)
class Page:
    """A Confluence page as rules need it."""

    id: str
    title: str
    version: int
    url: str


@dataclass(frozen=True)
class PageRestriction:
    """Who may view and edit a page: groups, and people who may do both (crossdept's own account
    among them, so it can still update the page). No groups for an operation: not restricted."""

    view_groups: tuple[str, ...]
    edit_groups: tuple[str, ...]
    people: tuple[str, ...]  # account ids (Cloud) or usernames (Data Center)

    @property
    def fingerprint(self) -> str:
        """What changes when the restriction does (part of a page's digest)."""
        return "|".join(
            (",".join(self.view_groups), ",".join(self.edit_groups), ",".join(self.people))
        )


class ConfluencePort(Protocol):
    """Confluence as rules see it: pages in a space, found by title or id, created and updated."""

    def find_page(self, space: str, title: str) -> Page | None:
        """The current page with this title in the space, if any."""
        ...

    def create_page(
        self,
        space: str,
        title: str,
        body: str,
        *,
        parent_id: str | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> Page:
        """Create a page in storage format under `parent_id`, with these content properties."""
        ...

    def get_page(self, page_id: str) -> Page | None:
        """A page by id, or None when it is gone."""
        ...

    def page_property(self, page_id: str, key: str) -> Any:
        """A content property's value, or None."""
        ...

    def set_page_property(self, page_id: str, key: str, value: Any) -> None:
        """Create a content property."""
        ...

    def user_key(self, username: str) -> str | None:
        """Confluence Data Center's user key for a username."""
        ...

    def verify(self, space: str) -> None:
        """Read the space with crossdept's login: RefusedError when refused (401: the login)."""
        ...

    def update_page(self, page: Page, title: str, body: str) -> Page:
        """Replace a page's title and body as its next version."""
        ...

    def current_account(self) -> str:
        """Who crossdept's login is: the account id on Cloud, the username on Data Center."""
        ...

    def group_names(self) -> frozenset[str]:
        """The names of the site's groups."""
        ...

    def restrict_page(self, page_id: str, restriction: PageRestriction) -> None:
        """Replace the page's view and edit restrictions with these."""
        ...
