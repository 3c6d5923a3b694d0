"""What rules may ask Jira to find: a small vocabulary of queries, and the one JQL each becomes.

A rule says what it wants (`Children`, `Items`); the gateway turns it into JQL here, and the test
fakes answer the same vocabulary. `tests/atlassian/test_queries.py` runs every query against the
fake, against the sandbox's JQL through the gateway, and pins the JQL built here, so a query
means the same thing everywhere. A new need is a new field or query here, not a new port method.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

Placement = Literal["linked_epic", "epic_child", "subtask"]

BOARD_LIMIT = 20_000  # items one board reads at the most (200 pages)
SWEEP_LIMIT = 100_000  # items one delay sweep reads at the most
CHILDREN_LIMIT = 500  # children of one search (a tree's stages or one stage's deliverables)


@dataclass(frozen=True)
class Children:
    """The issues placed under these parents; for linked epics, those linked to them."""

    parents: tuple[str, ...]
    placement: Placement
    epic_link_field: str | None = None  # Data Center: the configured Epic Link field, if any


@dataclass(frozen=True)
class Items:
    """Issues of these types in these projects: every one (due on or after `due_from`, changed in
    the last `updated_within` minutes), or with `open_due_by` those not done and due by that day,
    plus those still marked delayed (by the label `or_label`, or by being in the status
    `or_status`)."""

    projects: tuple[str, ...]
    issue_types: tuple[str, ...]
    due_from: date | None = None
    open_due_by: date | None = None
    or_label: str | None = None
    or_status: str | None = None
    updated_within: int | None = None  # minutes: only those changed lately (Jira's own clock)


Query = Children | Items


def quoted(values: Sequence[str]) -> str:
    """JQL string literals: double-quoted, with quotes and backslashes escaped. Every value
    crossdept puts in JQL (keys too, which a forged mark or a webhook could carry) goes
    through here, so none can end its literal and add a clause."""
    return ", ".join(
        '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values
    )


def jql(query: Query, *, cloud: bool, epic_link: str | None = None) -> str:
    """The JQL of a query. On Data Center an epic's children are found by its Epic Link field
    (`epic_link`, e.g. customfield_10101), which Cloud replaced by `parent`."""
    if isinstance(query, Children):
        parents = quoted(query.parents)
        if query.placement == "linked_epic":
            return " OR ".join(f"issue in linkedIssues({quoted([p])})" for p in query.parents)
        if query.placement == "epic_child" and not cloud:
            link = epic_link or "Epic Link"
            number = link.removeprefix("customfield_")
            return (
                f"cf[{number}] in ({parents})"
                if number.isdigit()
                else f"{quoted([link])} in ({parents})"
            )
        return f"parent in ({parents})"
    text = f"project in ({quoted(query.projects)}) AND issuetype in ({quoted(query.issue_types)})"
    if query.open_due_by is not None:
        marked = ""
        if query.or_label is not None:
            marked = f" OR labels = {quoted([query.or_label])}"
        elif query.or_status is not None:
            marked = f" OR status = {quoted([query.or_status])}"
        due = query.open_due_by.isoformat()
        return f'{text} AND ((statusCategory != Done AND duedate <= "{due}"){marked})'
    if query.due_from is not None:
        text += f' AND duedate >= "{query.due_from.isoformat()}"'
    if query.updated_within is not None:
        # A relative time is counted by Jira from its own now: an absolute one would be read in
        # the searching account's time zone, which crossdept does not know.
        # https://support.atlassian.com/jira-software-cloud/docs/jql-fields/#Updated
        text += f' AND updated >= "-{int(query.updated_within)}m"'
    return text + " ORDER BY key"


def limit(query: Query) -> int:
    """How many issues one search of this query reads at the most (paged by 100)."""
    if isinstance(query, Children):
        return CHILDREN_LIMIT
    return SWEEP_LIMIT if query.open_due_by is not None else BOARD_LIMIT
