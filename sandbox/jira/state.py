"""The Jira fake's state and what every area uses: lookups, rendering, and queued webhooks."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from sandbox.http import ApiError, SandboxRequest
from sandbox.jira.common import (
    DEFAULT_PRIORITY,
    ISSUE_EXPAND,
    LINK_TYPES,
    NOT_FOUND_ISSUE,
    PRIORITIES,
    SYSTEM_FIELDS,
    Emit,
    Notification,
    StoredComment,
    StoredIssue,
    format_timestamp,
    plain_to_adf,
    select_fields,
)
from sandbox.seed import STATUS_CATEGORIES, Seed, SeedField, SeedIssueType, SeedProject, SeedUser


class JiraState:
    """Jira's in-memory data for one seed, and the helpers every endpoint area shares."""

    def __init__(
        self, seed: Seed, *, now: Callable[[], datetime], base_url: str, emit: Emit
    ) -> None:
        self.seed = seed
        self.now = now
        self.base_url = base_url.rstrip("/")
        self.emit = emit
        self.tz = seed.timezone
        self.users: dict[str, SeedUser] = {u.login: u for u in seed.users}
        self.fields: dict[str, SeedField] = {f.id: f for f in seed.fields}
        self.projects: dict[str, SeedProject] = {p.key: p for p in seed.projects}
        self.issues: dict[int, StoredIssue] = {}
        self.writes = 0  # calls that may have changed something (searches keep their pages)
        self.last_search: tuple[tuple[Any, ...], list[StoredIssue]] | None = None
        self.links: dict[int, dict[str, Any]] = {}
        self.notifications: list[Notification] = []
        self.next_issue_id = 10000
        self.next_key: dict[str, int] = {p.key: 1 for p in seed.projects}
        self._next_comment_id = 10000
        self.next_history_id = 10000
        self.next_link_id = 10000
        self.next_remote_link_id = 10000
        # Set while a /search runs with validateQuery=warn: unknown issue keys are collected here.
        self.jql_warnings: list[str] | None = None

    def link_type(self, ref: Any) -> dict[str, Any] | None:
        """The link type a `{"name": ...}` or `{"id": ...}` names, if it exists."""
        ref = ref if isinstance(ref, Mapping) else {}
        return next(
            (
                dict(t)
                for t in LINK_TYPES
                if ref.get("name") == t["name"] or str(ref.get("id")) == t["id"]
            ),
            None,
        )

    def add_link(self, link_type: dict[str, Any], inward: int, outward: int) -> int:
        """Record a link between two issues; its id."""
        link_id = self.next_link_id
        self.next_link_id += 1
        self.links[link_id] = {"type": link_type, "inward": inward, "outward": outward}
        return link_id

    def emit_webhook(self, event: str, payload: dict[str, Any]) -> None:
        """Queue the webhook Jira sends for a change (timestamp in epoch milliseconds)."""
        body = {"timestamp": int(self.now().timestamp() * 1000), "webhookEvent": event, **payload}
        self.emit(event, body)

    def serve_actor_of(self, request: SandboxRequest) -> str | None:
        """The login behind `request.user` (an accountId on Cloud, a username on Data Center)."""
        if request.user is None:
            # Anonymous callers may read serverInfo only, as on a real site.
            return "" if request.path.endswith("/serverInfo") else None
        if self.seed.is_cloud:
            return self.find_user(account_id=request.user)
        return request.user if request.user in self.users else None

    def issue_id_of(self, key_or_id: str) -> int | None:
        """The numeric id of an issue named by key or id, if it exists."""
        issue = self.find_issue(key_or_id)
        return issue.id if issue else None

    # ------------------------------------------------------------------ rendering helpers

    def timestamp(self, moment: datetime) -> str:
        return format_timestamp(moment, self.tz)

    def api_url(self, version: str = "2") -> str:
        return f"{self.base_url}/rest/api/{version}"

    def user_json(self, login: str | None) -> dict[str, Any] | None:
        """A user as Jira renders it: accountId on Cloud, name/key on Data Center."""
        if login is None:
            return None
        user = self.users[login]
        avatars = {
            size: f"{self.base_url}/secure/useravatar?size={size}"
            for size in ("48x48", "24x24", "16x16", "32x32")
        }
        if self.seed.is_cloud:
            return {
                "self": f"{self.api_url()}/user?accountId={user.account_id}",
                "accountId": user.account_id,
                "emailAddress": user.email,
                "avatarUrls": avatars,
                "displayName": user.display_name,
                "active": user.active,
                "timeZone": str(self.tz),
                "accountType": "atlassian",
            }
        return {
            "self": f"{self.api_url()}/user?username={user.login}",
            "name": user.login,
            "key": user.user_key,
            "emailAddress": user.email,
            "avatarUrls": avatars,
            "displayName": user.display_name,
            "active": user.active,
            "timeZone": str(self.tz),
        }

    def user_id(self, login: str) -> str:
        """The identifier Jira uses for a user in changelogs and JQL."""
        user = self.users[login]
        return user.account_id if self.seed.is_cloud else user.login

    def status_json(self, name: str) -> dict[str, Any]:
        status = self.seed.statuses[name]
        category = dict(STATUS_CATEGORIES[status.category])
        category["self"] = f"{self.api_url()}/statuscategory/{category['id']}"
        return {
            "self": f"{self.api_url()}/status/{status.id}",
            "description": "",
            "iconUrl": f"{self.base_url}/images/icons/statuses/generic.png",
            "name": status.name,
            "id": status.id,
            "statusCategory": category,
        }

    def issue_type_json(self, issue_type: SeedIssueType) -> dict[str, Any]:
        rendered: dict[str, Any] = {
            "self": f"{self.api_url()}/issuetype/{issue_type.id}",
            "id": issue_type.id,
            "description": issue_type.description,
            "iconUrl": f"{self.base_url}/images/icons/issuetypes/generic.png",
            "name": issue_type.name,
            "subtask": issue_type.subtask,
        }
        if self.seed.is_cloud:
            rendered["avatarId"] = 10318
            rendered["hierarchyLevel"] = issue_type.hierarchy_level
        return rendered

    def project_json(self, project: SeedProject, *, with_types: bool = False) -> dict[str, Any]:
        rendered: dict[str, Any] = {
            "self": f"{self.api_url()}/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "software",
            "avatarUrls": {"48x48": f"{self.base_url}/secure/projectavatar?pid={project.id}"},
        }
        if self.seed.is_cloud:
            rendered["simplified"] = False
        if with_types:
            rendered["issueTypes"] = [self.issue_type_json(t) for t in project.issue_types]
            rendered["lead"] = self.user_json(project.lead)
            rendered["description"] = ""
        return rendered

    def priority_json(self, priority_id: str) -> dict[str, Any]:
        name = dict(PRIORITIES)[priority_id]
        return {
            "self": f"{self.api_url()}/priority/{priority_id}",
            "iconUrl": f"{self.base_url}/images/icons/priorities/{name.lower()}.svg",
            "name": name,
            "id": priority_id,
        }

    def option_json(self, fld: SeedField, option_id: str) -> dict[str, Any]:
        value = next(o.value for o in fld.options if o.id == option_id)
        return {
            "self": f"{self.api_url()}/customFieldOption/{option_id}",
            "value": value,
            "id": option_id,
        }

    def issue_ref(self, issue: StoredIssue) -> dict[str, Any]:
        return {
            "id": str(issue.id),
            "key": issue.key,
            "self": f"{self.api_url()}/issue/{issue.id}",
            "fields": {
                "summary": issue.values.get("summary"),
                "status": self.status_json(issue.status),
                "priority": self.priority_json(issue.values.get("priority", DEFAULT_PRIORITY)),
                "issuetype": self.issue_type_json(issue.issue_type),
            },
        }

    def comment_json(
        self, issue: StoredIssue, comment: StoredComment, version: str = "2"
    ) -> dict[str, Any]:
        rendered: dict[str, Any] = {
            "self": f"{self.api_url(version)}/issue/{issue.id}/comment/{comment.id}",
            "id": str(comment.id),
            "author": self.user_json(comment.author),
            "body": plain_to_adf(comment.body) if version == "3" else comment.body,
            "updateAuthor": self.user_json(comment.update_author),
            "created": self.timestamp(comment.created),
            "updated": self.timestamp(comment.updated),
        }
        if self.seed.is_cloud:
            rendered["jsdPublic"] = True
        return rendered

    def _custom_value_json(self, fld: SeedField, value: Any) -> Any:
        if value is None:
            return None
        kind = fld.type
        if kind == "select":
            return self.option_json(fld, value)
        if kind == "multiselect":
            return [self.option_json(fld, v) for v in value] or None
        if kind == "datetime":
            return self.timestamp(value)
        if kind == "userpicker":
            return self.user_json(value)
        if kind == "multiuserpicker":
            return [self.user_json(v) for v in value] or None
        if kind == "epiclink":
            return self.issues[value].key if value in self.issues else None
        return value

    def _all_fields(
        self, issue: StoredIssue, version: str, skip: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        values = issue.values
        parent_id = values.get("parent")
        parent = self.issues.get(parent_id) if parent_id is not None else None
        fields: dict[str, Any] = {
            "summary": values.get("summary"),
            "description": plain_to_adf(values.get("description"))
            if version == "3"
            else values.get("description"),
            "issuetype": self.issue_type_json(issue.issue_type),
            "project": self.project_json(issue.project),
            "status": self.status_json(issue.status),
            "priority": self.priority_json(values.get("priority", DEFAULT_PRIORITY)),
            "assignee": self.user_json(values.get("assignee")),
            "reporter": self.user_json(values.get("reporter")),
            "creator": self.user_json(issue.creator),
            "labels": list(values.get("labels", [])),
            "duedate": values.get("duedate"),
            "created": self.timestamp(issue.created),
            "updated": self.timestamp(issue.updated),
            "resolution": dict(
                issue.resolution, self=f"{self.api_url()}/resolution/{issue.resolution['id']}"
            )
            if issue.resolution
            else None,
            "resolutiondate": self.timestamp(issue.resolution_date)
            if issue.resolution_date
            else None,
            # Both scan every issue or link: left out when the caller named fields without them
            # (a search of 20,000 items asks for five fields, not for each one's sub-tasks).
            "subtasks": []
            if "subtasks" in skip
            else [
                self.issue_ref(child)
                for child in self.issues.values()
                if child.values.get("parent") == issue.id and child.issue_type.subtask
            ],
            "issuelinks": [] if "issuelinks" in skip else self._links_of(issue),
            "comment": {
                "comments": [self.comment_json(issue, c, version) for c in issue.comments],
                "self": f"{self.api_url(version)}/issue/{issue.id}/comment",
                "maxResults": len(issue.comments),
                "total": len(issue.comments),
                "startAt": 0,
            },
            "components": [],
            "fixVersions": [],
            "versions": [],
            "lastViewed": None,
        }
        if self.seed.is_cloud:
            fields["statuscategorychangedate"] = self.timestamp(
                issue.status_changed or issue.created
            )
        if parent is not None:
            fields["parent"] = self.issue_ref(parent)
        for fld in self.fields.values():
            fields[fld.id] = self._custom_value_json(fld, values.get(fld.id))
        return fields

    def _links_of(self, issue: StoredIssue) -> list[dict[str, Any]]:
        rendered = []
        for link_id, link in self.links.items():
            link_type = dict(
                link["type"], self=f"{self.api_url()}/issueLinkType/{link['type']['id']}"
            )
            entry: dict[str, Any] = {
                "id": str(link_id),
                "self": f"{self.api_url()}/issueLink/{link_id}",
                "type": link_type,
            }
            if link["outward"] == issue.id and link["inward"] in self.issues:
                entry["inwardIssue"] = self.issue_ref(self.issues[link["inward"]])
            elif link["inward"] == issue.id and link["outward"] in self.issues:
                entry["outwardIssue"] = self.issue_ref(self.issues[link["outward"]])
            else:
                continue
            rendered.append(entry)
        return rendered

    def issue_json(
        self,
        issue: StoredIssue,
        *,
        version: str = "2",
        fields: Iterable[str] | None = None,
        expand: Iterable[str] = (),
        properties: Iterable[str] = (),
    ) -> dict[str, Any]:
        """An issue as GET /issue/{key} returns it, honouring fields, expand and properties."""
        requested = list(fields) if fields is not None else ["*all"]
        positive = [name for name in requested if not name.startswith("-")]
        skip: frozenset[str] = frozenset()
        if positive and not any(name.startswith("*") for name in positive):
            by_name = {name.lower(): fid for fid, name in self._field_names().items()}
            asked = {by_name.get(name.lower(), name) for name in positive}
            skip = frozenset({"subtasks", "issuelinks"}) - asked
        every = self._all_fields(issue, version, skip)
        wanted = select_fields(every, requested, self._field_names())
        rendered: dict[str, Any] = {
            "expand": ISSUE_EXPAND,
            "id": str(issue.id),
            "self": f"{self.api_url(version)}/issue/{issue.id}",
            "key": issue.key,
            "fields": wanted,
        }
        expand = set(expand)
        if "changelog" in expand:
            rendered["changelog"] = {
                "startAt": 0,
                "maxResults": len(issue.histories),
                "total": len(issue.histories),
                "histories": [self._history_json(h) for h in issue.histories],
            }
        if "names" in expand:
            names = self._field_names()
            rendered["names"] = {fid: names.get(fid, fid) for fid in wanted}
        props = list(properties)
        if props:
            keys = (
                issue.properties.keys()
                if "*all" in props
                else [p for p in props if p in issue.properties]
            )
            rendered["properties"] = {k: issue.properties[k] for k in keys}
        return rendered

    def _history_json(self, history: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": history["id"],
            "author": self.user_json(history["author"]),
            "created": self.timestamp(history["created"]),
            "items": copy.deepcopy(history["items"]),
        }

    def _field_names(self) -> dict[str, str]:
        names = {fid: name for fid, (name, _) in SYSTEM_FIELDS.items()}
        names.update({f.id: f.name for f in self.fields.values()})
        return names

    # ------------------------------------------------------------------ lookups

    def find_issue(self, key_or_id: str) -> StoredIssue | None:
        if key_or_id.isdigit():
            return self.issues.get(int(key_or_id))
        wanted = key_or_id.upper()
        for issue in self.issues.values():
            if issue.key == wanted:
                return issue
        return None

    def existing_issue(self, key_or_id: str) -> StoredIssue:
        issue = self.find_issue(key_or_id)
        if issue is None:
            raise ApiError(404, [NOT_FOUND_ISSUE])
        return issue

    def find_project(self, key_or_id: str) -> SeedProject | None:
        for project in self.seed.projects:
            if key_or_id in (project.id, project.key) or key_or_id.upper() == project.key:
                return project
        return None

    def find_user(self, *, account_id: str | None = None, name: str | None = None) -> str | None:
        """The login of the user with this accountId (Cloud) or username/key (Data Center)."""
        for user in self.users.values():
            if account_id is not None and user.account_id == account_id:
                return user.login
            if name is not None and name in (user.login, user.user_key):
                return user.login
        return None

    def user_from_ref(self, ref: Any, field_name: str, errors: dict[str, str]) -> str | None:
        """Read a user reference ({"accountId"} on Cloud, {"name"} on Data Center)."""
        if not isinstance(ref, Mapping):
            errors[field_name] = (
                f"Could not read a user from {json.dumps(ref, ensure_ascii=False)}."
            )
            return None
        if self.seed.is_cloud:
            if "accountId" not in ref:
                errors[field_name] = (
                    "Specify the user by accountId; Jira Cloud no longer accepts name or key."
                )
                return None
            login = self.find_user(account_id=str(ref["accountId"]))
            shown = ref["accountId"]
        else:
            name = ref.get("name", ref.get("key"))
            if name is None:
                errors[field_name] = "Specify the user by name (username) on Jira Data Center."
                return None
            login = self.find_user(name=str(name))
            shown = name
        if login is None:
            errors[field_name] = f"User '{shown}' does not exist."
        return login

    def create_comment(self, issue: StoredIssue, text: str, actor: str) -> StoredComment:
        now = self.now()
        comment = StoredComment(self._next_comment_id, actor, text, now, now, actor)
        self._next_comment_id += 1
        issue.comments.append(comment)
        issue.updated = now
        self.emit_webhook(
            "comment_created",
            self.comment_event(issue, self.comment_json(issue, comment)),
        )
        self.emit_webhook(
            "jira:issue_updated",
            {
                "issue_event_type_name": "issue_commented",
                "user": self.user_json(actor),
                "issue": self.issue_json(issue),
                "comment": self.comment_json(issue, comment),
            },
        )
        return comment

    def comment_event(self, issue: StoredIssue, comment: dict[str, Any]) -> dict[str, Any]:
        """The body of a comment_* webhook. Cloud adds the issue with a handful of fields; Data
        Center sends the comment alone, its issue only in `comment.self` (.../issue/10013/comment/
        12000), and the issue's data in the companion jira:issue_updated. Public DC captures:
        zulip's Jira fixture comment_created_no_issue_details.json, mattermost-plugin-jira PR #118
        (tests/samples/comment_created__mattermost_mattermost-plugin-jira__2.json)."""
        if not self.seed.is_cloud:
            return {"comment": comment}
        return {"comment": comment, "issue": self._reduced_issue(issue)}

    def _reduced_issue(self, issue: StoredIssue) -> dict[str, Any]:
        """The issue as comment_* webhooks carry it: only a handful of fields."""
        every = self._all_fields(issue, "2")
        keep = ("summary", "issuetype", "project", "assignee", "priority", "status")
        return {
            "id": str(issue.id),
            "self": f"{self.api_url()}/issue/{issue.id}",
            "key": issue.key,
            "fields": {k: every[k] for k in keep},
        }
