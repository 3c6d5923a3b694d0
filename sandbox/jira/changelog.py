"""The changelog Jira keeps of each edit: one history per change, its items rendered as Jira
renders them (ids and display strings, statuses and resolutions)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sandbox.jira.common import (
    PRIORITIES,
    StoredIssue,
)
from sandbox.jira.state import JiraState


class Changelog(JiraState):
    """Record changes as history entries, and the items a webhook carries."""

    def record_change(
        self, issue: StoredIssue, items: list[dict[str, Any]], actor: str, event_type: str
    ) -> None:
        now = self.now()
        issue.updated = now
        history = {
            "id": str(self.next_history_id),
            "author": actor,
            "created": now,
            "items": items,
        }
        self.next_history_id += 1
        issue.histories.append(history)
        self.emit_webhook(
            "jira:issue_updated",
            {
                "issue_event_type_name": event_type,
                "user": self.user_json(actor),
                "issue": self.issue_json(issue),
                "changelog": {"id": history["id"], "items": copy.deepcopy(items)},
            },
        )

    def diff_items(
        self, issue: StoredIssue, old: Mapping[str, Any], new: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        items = []
        for fid in list(dict.fromkeys([*old.keys(), *new.keys()])):
            before, after = old.get(fid), new.get(fid)
            if before == after:
                continue
            items.append(self.change_item(fid, before, after))
        return items

    def change_item(self, fid: str, before: Any, after: Any) -> dict[str, Any]:
        """One changelog item, shaped like the real webhook samples."""
        from_raw, from_text = self.changelog_value(fid, before)
        to_raw, to_text = self.changelog_value(fid, after)
        if fid in self.fields:
            return {
                "field": self.fields[fid].name,
                "fieldtype": "custom",
                "fieldId": fid,
                "from": from_raw,
                "fromString": from_text,
                "to": to_raw,
                "toString": to_text,
            }
        name = "IssueParentAssociation" if fid == "parent" else fid
        return {
            "field": name,
            "fieldtype": "jira",
            "fieldId": fid,
            "from": from_raw,
            "fromString": from_text,
            "to": to_raw,
            "toString": to_text,
        }

    def changelog_value(self, fid: str, value: Any) -> tuple[str | None, str | None]:
        if value is None or value == []:
            return None, None
        if fid in ("assignee", "reporter"):
            return self.user_id(value), self.users[value].display_name
        if fid == "priority":
            return value, dict(PRIORITIES)[value]
        if fid == "labels":
            return None, " ".join(value)
        if fid == "duedate":
            return value, f"{value} 00:00:00.0"
        if fid == "parent":
            parent = self.issues.get(value)
            return str(value), parent.key if parent else None
        fld = self.fields.get(fid)
        if fld is None:
            return None, str(value)
        if fld.type == "select":
            return value, self.option_json(fld, value)["value"]
        if fld.type == "multiselect":
            return "[" + ", ".join(value) + "]", ",".join(
                self.option_json(fld, v)["value"] for v in value
            )
        if fld.type == "datetime":
            return self.timestamp(value), self.timestamp(value)
        if fld.type == "userpicker":
            return self.user_id(value), self.users[value].display_name
        if fld.type == "multiuserpicker":
            return "[" + ", ".join(self.user_id(v) for v in value) + "]", ", ".join(
                self.users[v].display_name for v in value
            )
        if fld.type == "epiclink":
            epic = self.issues.get(value)
            return str(value), epic.key if epic else None
        return None, str(value)

    def status_item(self, before: str | None, after: str) -> dict[str, Any]:
        return {
            "field": "status",
            "fieldtype": "jira",
            "fieldId": "status",
            "from": self.seed.statuses[before].id if before else None,
            "fromString": before,
            "to": self.seed.statuses[after].id,
            "toString": after,
        }
