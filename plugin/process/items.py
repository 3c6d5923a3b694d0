"""How crossdept marks what it made, so every rule can tell requests and items apart from Jira alone.

Two issue properties carry crossdept's identity in Jira itself, so they survive anything that
happens to crossdept's own store:
- `crossdept.item` = {request, ref} on every issue crossdept created for a request's tree;
- `crossdept.tree` on the request: ref -> key of its items, the items people deleted (left
  deleted), and the id of the request's summary comment.
https://developer.atlassian.com/cloud/jira/platform/jira-entity-properties/
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from plugin.atlassian.ports import JiraPort
from plugin.process.config import Rules
from plugin.spine.context import Context
from plugin.spine.events import JiraEvent

TREE_PROPERTY = "crossdept.tree"
ITEM_PROPERTY = "crossdept.item"
# A meeting crossdept files itself (a weekly meeting, a goal-alignment meeting): {"ref": ...}.
# Written in the create call like `crossdept.item`, but not an item: no owner's due date.
MEETING_PROPERTY = "crossdept.meeting"
EPIC_REF = "epic"  # the ref of the epic crossdept creates for a request (epic: create)
STAGE_OF_REF = re.compile(r"s(\d+)(?:\.|$)")


@dataclass(frozen=True)
class ItemMark:
    """What `crossdept.item` says of an issue: the request it belongs to and its ref there."""

    request: str
    ref: str


def item_mark(issue: Mapping[str, Any]) -> ItemMark | None:
    """The `crossdept.item` mark of an issue read with that property, or None if it has none."""
    mark = (issue.get("properties") or {}).get(ITEM_PROPERTY)
    if isinstance(mark, Mapping) and mark.get("request") and mark.get("ref"):
        return ItemMark(str(mark["request"]), str(mark["ref"]))
    return None


@dataclass(frozen=True)
class MeetingMark:
    """What `crossdept.meeting` says of a meeting crossdept filed: its ref, and the departments
    of a meeting that belongs to no request (a goal-alignment meeting)."""

    ref: str
    departments: tuple[str, ...] = ()


def meeting_mark(issue: Mapping[str, Any]) -> MeetingMark | None:
    """The `crossdept.meeting` mark of an issue read with that property, or None."""
    mark = (issue.get("properties") or {}).get(MEETING_PROPERTY)
    if not isinstance(mark, Mapping) or not isinstance(mark.get("ref"), str) or not mark["ref"]:
        return None
    departments = mark.get("departments")
    named = tuple(str(d) for d in departments) if isinstance(departments, list) else ()
    return MeetingMark(str(mark["ref"]), named)


@dataclass(frozen=True)
class RecordedTree:
    """The `crossdept.tree` property as Jira holds it on the request: Jira's own record."""

    items: dict[str, str] = field(default_factory=dict)
    deleted: dict[str, str] = field(default_factory=dict)
    comment_id: str | None = None
    comment_digest: str | None = None


def read_tree_record(issue: Mapping[str, Any]) -> RecordedTree:
    """The `crossdept.tree` property as read with the request; anything malformed reads as empty."""
    record = (issue.get("properties") or {}).get(TREE_PROPERTY)
    if not isinstance(record, Mapping):
        return RecordedTree()

    def refs(name: str) -> dict[str, str]:
        found = record.get(name)
        if not isinstance(found, Mapping):
            return {}
        return {str(ref): str(key) for ref, key in found.items()}

    comment = record.get("comment")
    comment = comment if isinstance(comment, Mapping) else {}
    return RecordedTree(
        refs("items"),
        refs("deleted"),
        str(comment["id"]) if comment.get("id") else None,
        str(comment["digest"]) if comment.get("digest") else None,
    )


def in_projects(event: JiraEvent, rules: Rules) -> bool:
    """Say whether the event's issue is in a project under enforcement (cheap: the payload only)."""
    key = event.issue_key
    if not key:
        return False
    fields = event.issue.fields if event.issue else {}
    project = (fields.get("project") or {}).get("key") or key.rsplit("-", 1)[0]
    return project in rules.jira.projects


def may_be_enforced(event: JiraEvent, context: Context) -> bool:
    """What the composed router admits: every event but those whose payload shows an issue in a
    project not under enforcement. A Data Center comment event names its issue only by id, so
    its handler reads the issue to learn the project."""
    return event.issue_key is None or in_projects(event, context.rules)


def may_be_request(event: JiraEvent, rules: Rules) -> bool:
    """Cheap filter on the payload; the issue is re-read from Jira before anything is created."""
    if not in_projects(event, rules):
        return False
    fields = event.issue.fields if event.issue else {}
    issue_type = (fields.get("issuetype") or {}).get("name")
    return issue_type is None or issue_type == rules.jira.request.issue_type


def person_of(user: Any) -> str | None:
    """The account id (Cloud) or username (Data Center) of a user object, if any."""
    if not isinstance(user, Mapping):
        return None
    found = user.get("accountId") or user.get("name") or user.get("key")
    return str(found) if found else None


def is_done(fields: Mapping[str, Any], rules: Rules) -> bool:
    """Done by status category, or by a status the rules file lists as done."""
    status = fields.get("status") or {}
    category = (status.get("statusCategory") or {}).get("key")
    return category == "done" or status.get("name") in rules.jira.done_statuses


def link_once(jira: JiraPort, item_keys: Sequence[str], other: str) -> None:
    """Link each of these issues to `other`, unless Jira already shows that link (safe to repeat)."""
    if not item_keys:
        return
    for item in jira.read_issues(list(item_keys), ["issuelinks"]):
        linked = {
            str(end.get("key"))
            for link in (item.get("fields") or {}).get("issuelinks") or []
            for side in ("inwardIssue", "outwardIssue")
            if isinstance(end := link.get(side), Mapping)
        }
        if other not in linked:
            jira.link_issues(str(item["key"]), other)


def jira_time(value: Any) -> datetime | None:
    """A Jira date-time ("2026-03-05T14:00:00.000+0800", milliseconds optional) as an aware
    datetime; None for anything else."""
    if not isinstance(value, str) or not value:
        return None
    for pattern in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(value, pattern)
        except ValueError:
            continue
    return None


def epoch_of(value: Any) -> float | None:
    """A Jira date-time as epoch seconds (what the store keeps); None for anything else."""
    found = jira_time(value)
    return found.timestamp() if found is not None else None


def event_day(event: JiraEvent, context: Context) -> date:
    """The day an event happened in the rules' timezone: Jira's timestamp, else now."""
    moment = (
        datetime.fromtimestamp(event.timestamp / 1000, UTC) if event.timestamp else context.clock()
    )
    return moment.astimezone(context.rules.tz).date()


def stage_of(ref: str) -> int | None:
    """The stage number of a tree ref: s3 and s3.d1.技术部 are in stage 3; the epic in none."""
    found = STAGE_OF_REF.match(ref)
    return int(found.group(1)) if found else None
