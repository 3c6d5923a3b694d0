"""Shared typed fakes: an in-memory Jira behind the JiraGateway interface, a manual clock, test rules."""

from __future__ import annotations

import copy
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from plugin.atlassian.jira_gateway import field_ids_by_name, field_of_type, issue_payload
from plugin.atlassian.ports import (
    BULK_LIMIT,
    BulkResult,
    CreatedIssue,
    IssueType,
    ItemRefusal,
    NewIssue,
)
from plugin.atlassian.queries import Children, Items, Query
from plugin.composition import compose
from plugin.process.config import Rules
from plugin.spine.errors import RefusedError, TransientGatewayError

REPO = Path(__file__).resolve().parent.parent
ALL_TABLES = compose().tables  # every table of the service, as Service.create_tables creates them
RULES_FILE = REPO / "config" / "rules.yaml"

HEADS = {
    "市场部": "557058:00000000-0000-4000-8000-000000000001",
    "技术部": "557058:00000000-0000-4000-8000-000000000003",
    "产品部": "557058:00000000-0000-4000-8000-000000000005",
    "财务部": "557058:00000000-0000-4000-8000-000000000007",
}
CONTACTS = {
    "市场部": "557058:00000000-0000-4000-8000-000000000002",
    "技术部": "557058:00000000-0000-4000-8000-000000000004",
    "产品部": "557058:00000000-0000-4000-8000-000000000006",
    "财务部": "557058:00000000-0000-4000-8000-000000000008",
}
PM = "557058:00000000-0000-4000-8000-000000000009"
REQUESTER = "557058:00000000-0000-4000-8000-000000000010"
CROSSDEPT = "557058:00000000-0000-4000-8000-0000000000aa"
DC_USERS = {
    value: login
    for value, login in [
        (HEADS["市场部"], "marketing.head"),
        (CONTACTS["市场部"], "marketing.contact"),
        (HEADS["技术部"], "engineering.head"),
        (CONTACTS["技术部"], "engineering.contact"),
        (HEADS["产品部"], "product.head"),
        (CONTACTS["产品部"], "product.contact"),
        (HEADS["财务部"], "finance.head"),
        (CONTACTS["财务部"], "finance.contact"),
        (PM, "pm"),
        (REQUESTER, "requester"),
        (CROSSDEPT, "crossdept"),
    ]
}
XD_TYPES = {
    "跨部门协作需求": IssueType("10001", "跨部门协作需求", False),
    "Epic": IssueType("10002", "Epic", False),
    "Task": IssueType("10003", "Task", False),
    "会议": IssueType("10004", "会议", False),
    "Sub-task": IssueType("10005", "Sub-task", True),
}
EPIC_LINK_FIELD = "customfield_10101"
EPIC_NAME_FIELD = "customfield_10102"


def load_default_rules(**changes: Any) -> Rules:
    """The shipped rules file, optionally changed (e.g. language="en")."""
    from plugin.composition import load_rules

    rules = load_rules(RULES_FILE)
    return rules.model_copy(update=changes) if changes else rules


def data_center_rules(rules: Rules) -> Rules:
    """The same rules with Data Center usernames instead of Cloud account ids."""
    data = rules.model_dump(mode="json")
    text = _swap_ids(data)
    return type(rules).model_validate(text)


def _swap_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _swap_ids(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap_ids(v) for v in value]
    if isinstance(value, str) and value in DC_USERS:
        return DC_USERS[value]
    return value


class EpochClock:
    """A clock in epoch seconds, as the store and queue read it; tests set `now` by hand."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class ManualClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, **delta: float) -> None:
        with self._lock:
            self.now += timedelta(**delta)


def request_issue(
    key: str = "XD-1",
    *,
    topic: str = "新品推广",
    requesting: str | None = "市场部",
    departments: Sequence[str] | None = ("技术部", "产品部", "财务部"),
    start: str | None = "2026-03-02",
    due: str | None = None,
    created: str = "2026-03-01T10:00:00.000+0800",
    reporter: str = REQUESTER,
    issue_type: str = "跨部门协作需求",
    cloud: bool = True,
    deciders: Sequence[str] = (),
) -> dict[str, Any]:
    """A collaboration request as REST (and webhooks) show it."""
    user = {"accountId": reporter} if cloud else {"name": DC_USERS.get(reporter, reporter)}
    fields: dict[str, Any] = {
        "summary": topic,
        "issuetype": {"id": XD_TYPES.get(issue_type, XD_TYPES["Task"]).id, "name": issue_type},
        "project": {"id": "10000", "key": key.split("-")[0]},
        "created": created,
        "reporter": user,
        "customfield_10050": {"value": requesting, "id": "1"} if requesting else None,
        "customfield_10051": [{"value": name, "id": str(i)} for i, name in enumerate(departments)]
        if departments is not None
        else None,
        "customfield_10015": start,
        "duedate": due,
        "customfield_10062": [
            {"accountId": person} if cloud else {"name": person} for person in deciders
        ]
        or None,
    }
    return {"id": str(10000 + int(key.split("-")[1])), "key": key, "fields": fields}


def issue_event(
    issue: Mapping[str, Any], event: str = "jira:issue_created", **extra: Any
) -> dict[str, Any]:
    """A webhook body for an issue."""
    body: dict[str, Any] = {
        "timestamp": 1772413200000,
        "webhookEvent": event,
        "issue_event_type_name": "issue_created" if event.endswith("created") else "issue_updated",
        "user": {"accountId": REQUESTER, "displayName": "Example Requester"},
        "issue": copy.deepcopy(dict(issue)),
    }
    body.update(extra)
    return body


def jira_time(moment: datetime) -> str:
    """A date-time as Jira writes it in REST and webhook bodies."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class CrashError(RuntimeError):
    """The simulated death of a worker in the middle of a call."""


class FakeJira:
    """An in-memory Jira implementing JiraPort; counts calls like the real adapter.

    Hooks: `before_bulk(n)` runs before the n-th bulk call (raise to fail it before anything is
    created); `after_bulk(n)` after it created issues but before answering (raise to lose the
    answer, as when a worker dies mid-call). `unassignable` accounts exist but Jira refuses to
    assign them, as Jira does for users without the Assignable permission.
    """

    def __init__(self, *, cloud: bool = True, users: Iterable[str] | None = None) -> None:
        self.calls: Counter[tuple[str, int]] = Counter()
        self.is_cloud = cloud
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # Jira's own now
        self._observer = None
        self._lock = threading.RLock()
        self.issues: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[str | None]] = {}
        self.links: list[tuple[str, str, str]] = []
        self.issue_links: list[tuple[str, str, str]] = []  # from, to, type (link_issues)
        self.remote_links: dict[tuple[str, str], tuple[str, str]] = {}  # (key, global id) -> page
        self.issue_types_by_project: dict[str, dict[str, IssueType]] = {"XD": dict(XD_TYPES)}
        default_users = set(HEADS.values()) | set(CONTACTS.values()) | {PM, REQUESTER, CROSSDEPT}
        if not cloud:
            default_users = {DC_USERS[u] for u in default_users}
        self.users: set[str] = set(users) if users is not None else default_users
        self.names: dict[str, str] = {}  # display names; "Name of <id>" when not given
        self.unassignable: set[str] = set()
        self.unreachable_statuses: set[str] = set()  # statuses no transition leads back to
        self.notified: list[tuple[str, tuple[str, ...], str]] = []
        self.bulk_calls = 0
        self.before_bulk: Callable[[int], None] | None = None
        self.after_bulk: Callable[[int], None] | None = None
        self.bulk_delay = 0.0
        self._next = 100
        self._fields_cache: list[dict[str, Any]] | None = None
        self._known_users: set[str] = set()
        self._issue_types: dict[str, dict[str, IssueType]] = {}

    # -- bookkeeping ----------------------------------------------------------------------------

    def _hit(self, endpoint: str, status: int = 200) -> None:
        with self._lock:
            self.calls[(endpoint, status)] += 1

    def _touch(self, key: str) -> None:
        """Jira's `updated` moves on every change."""
        self.issues[key]["fields"]["updated"] = jira_time(self.clock())

    def add_issue(self, issue: Mapping[str, Any]) -> None:
        """Seed an existing issue (e.g. the request)."""
        with self._lock:
            stored = copy.deepcopy(dict(issue))
            stored.setdefault("properties", {})
            stored["fields"].setdefault("updated", jira_time(self.clock()))
            self.issues[stored["key"]] = stored
            number = int(stored["key"].split("-")[1])
            self._next = max(self._next, number + 1)

    def edit(self, key: str, **fields: Any) -> dict[str, Any]:
        """Change fields of an issue as a person would; returns the issue."""
        with self._lock:
            self.issues[key]["fields"].update(fields)
            self._touch(key)
            return copy.deepcopy(self.issues[key])

    def children(self, request: str) -> list[dict[str, Any]]:
        """Every issue crossdept created for a request (by its item property)."""
        with self._lock:
            return [
                issue
                for issue in self.issues.values()
                if (issue["properties"].get("crossdept.item") or {}).get("request") == request
            ]

    def refs(self, request: str) -> list[str]:
        """The refs of the created issues, duplicates included."""
        return sorted(
            issue["properties"]["crossdept.item"]["ref"] for issue in self.children(request)
        )

    # -- the gateway interface ------------------------------------------------------------------

    def detect_deployment(self) -> bool:
        self._hit("GET /rest/api/2/serverInfo")
        return self.is_cloud

    def myself(self) -> str:
        self._hit("GET /rest/api/2/myself")
        return CROSSDEPT if self.is_cloud else "crossdept"

    def fields(self) -> list[dict[str, Any]]:
        if self._fields_cache is None:
            self._hit("GET /rest/api/2/field")
            self._fields_cache = [
                {"id": "customfield_10050", "name": "需求部门", "schema": {"custom": "select"}},
                {
                    "id": "customfield_10051",
                    "name": "协作部门",
                    "schema": {"custom": "multiselect"},
                },
                {
                    "id": "customfield_10015",
                    "name": "Start date",
                    "schema": {"custom": "datepicker"},
                },
            ]
            if not self.is_cloud:
                self._fields_cache += [
                    {
                        "id": EPIC_LINK_FIELD,
                        "name": "Epic Link",
                        "schema": {"custom": "com.pyxis.greenhopper.jira:gh-epic-link"},
                    },
                    {
                        "id": EPIC_NAME_FIELD,
                        "name": "Epic Name",
                        "schema": {"custom": "com.pyxis.greenhopper.jira:gh-epic-label"},
                    },
                ]
        return self._fields_cache

    def issue_types(self, project: str) -> dict[str, IssueType]:
        if project not in self._issue_types:
            self._hit("GET /rest/api/2/project/{project}")
            self._issue_types[project] = dict(self.issue_types_by_project.get(project, {}))
        return self._issue_types[project]

    def missing_users(self, accounts: Iterable[str]) -> list[str]:
        wanted = [a for a in dict.fromkeys(accounts) if a not in self._known_users]
        if not wanted:
            return []
        if self.is_cloud:
            self._hit("GET /rest/api/2/user/bulk")
        else:
            for _ in wanted:
                self._hit("GET /rest/api/2/user")
        found = {a for a in wanted if a in self.users}
        self._known_users |= found
        return [a for a in wanted if a not in found]

    def display_names(self, accounts: Iterable[str]) -> dict[str, str]:
        wanted = list(dict.fromkeys(accounts))
        if wanted:
            self._hit("GET /rest/api/2/user/bulk" if self.is_cloud else "GET /rest/api/2/user")
        return {a: self.names.get(a, f"Name of {a}") for a in wanted if a in self.users}

    def get_issue(
        self, key: str, fields: Sequence[str], properties: Sequence[str] = ()
    ) -> dict[str, Any]:
        with self._lock:
            issue = self.issues.get(key)
            if issue is None:  # Jira takes an issue's id where it takes its key
                key, issue = next(
                    ((k, i) for k, i in self.issues.items() if str(i.get("id")) == key), (key, None)
                )
            if issue is None:
                self._hit("GET /rest/api/2/issue/{key}", 404)
                raise RefusedError(
                    "GET /rest/api/2/issue/{key}: HTTP 404", 404, ["Issue does not exist"]
                )
            self._hit("GET /rest/api/2/issue/{key}")
            found = {
                "id": issue["id"],
                "key": key,
                "fields": {name: copy.deepcopy(issue["fields"].get(name)) for name in fields},
            }
            if properties:
                found["properties"] = {
                    name: copy.deepcopy(issue["properties"][name])
                    for name in properties
                    if name in issue["properties"]
                }
            return found

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def calls_to(self, endpoint: str) -> int:
        return sum(count for (name, _status), count in self.calls.items() if name == endpoint)

    def field_by_type(self, custom_type: str) -> str | None:
        return field_of_type(self.fields(), custom_type)

    def field_names(self) -> dict[str, str]:
        return field_ids_by_name(self.fields())

    def epic_link_field(self, configured: str | None = None) -> str | None:
        return configured or self.field_by_type("com.pyxis.greenhopper.jira:gh-epic-link")

    def create_issues(
        self, issues: Sequence[NewIssue], *, epic_link_field: str | None = None
    ) -> BulkResult:
        # The payload the real adapter sends, so the fake stores what Jira would.
        link = None if self.is_cloud else self.epic_link_field(epic_link_field)
        updates = [
            issue_payload(
                issue, cloud=self.is_cloud, epic_link_field=link, epic_name_field=EPIC_NAME_FIELD
            )
            for issue in issues
        ]
        if len(updates) > BULK_LIMIT:
            raise ValueError("too many")
        with self._lock:
            self.bulk_calls += 1
            number = self.bulk_calls
        if self.before_bulk is not None:
            self.before_bulk(number)
        if self.bulk_delay:
            time.sleep(self.bulk_delay)
        created: dict[int, CreatedIssue] = {}
        refused: dict[int, ItemRefusal] = {}
        with self._lock:
            for index, update in enumerate(updates):
                errors = self._validate(update["fields"])
                if errors:
                    refused[index] = ItemRefusal(400, (), errors)
                    continue
                key = f"XD-{self._next}"
                self._next += 1
                fields = copy.deepcopy(dict(update["fields"]))
                kinds = {
                    k.id: k
                    for k in self.issue_types_by_project.get(fields["project"]["key"], {}).values()
                }
                kind = kinds[fields["issuetype"]["id"]]  # as Jira shows it: with its name
                fields["issuetype"] = {"id": kind.id, "name": kind.name, "subtask": kind.subtask}
                fields["updated"] = jira_time(self.clock())
                self.issues[key] = {
                    "id": str(20000 + self._next),
                    "key": key,
                    "fields": fields,
                    "properties": {
                        p["key"]: copy.deepcopy(p["value"]) for p in update.get("properties", [])
                    },
                }
                for link in (update.get("update") or {}).get("issuelinks", []):
                    add = link["add"]
                    self.links.append((key, add["type"]["name"], add["outwardIssue"]["key"]))
                created[index] = CreatedIssue(self.issues[key]["id"], key)
        status = 201 if created else 400
        self._hit("POST /rest/api/2/issue/bulk", status)
        if self.after_bulk is not None:
            self.after_bulk(number)
        return BulkResult(created, refused)

    def _validate(self, fields: Mapping[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        types = {
            kind.id: kind
            for kind in self.issue_types_by_project.get(fields["project"]["key"], {}).values()
        }
        kind = types.get(fields["issuetype"]["id"])
        if kind is None:
            errors["issuetype"] = "The issue type selected is invalid."
        assignee = fields.get("assignee") or {}
        account = assignee.get("accountId") if self.is_cloud else assignee.get("name")
        if account is None or account not in self.users:
            errors["assignee"] = f"User '{account}' does not exist."
        elif account in self.unassignable:
            errors["assignee"] = f"User '{account}' cannot be assigned issues."
        parent = (fields.get("parent") or {}).get("key")
        if kind is not None and kind.subtask and parent not in self.issues:
            errors["parent"] = "Could not find issue by id or key."
        if not self.is_cloud and "parent" in fields and kind is not None and not kind.subtask:
            errors["parent"] = (
                "Issue type is not a sub-task, so it cannot have a parent; use Epic Link."
            )
        return errors

    def search(
        self,
        query: Query,
        *,
        fields: Sequence[str] = ("summary",),
        properties: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """What Jira's JQL for the query finds (the contract test holds the two together)."""
        self._hit("POST /rest/api/2/search/jql" if self.is_cloud else "POST /rest/api/2/search")
        with self._lock:
            hits = [issue for issue in self.issues.values() if self._matches(query, issue)]
            if isinstance(query, Items) and query.open_due_by is None:
                hits.sort(
                    key=lambda issue: (issue["key"].split("-")[0], int(issue["key"].split("-")[1]))
                )
            return [
                {
                    "key": issue["key"],
                    "fields": {name: copy.deepcopy(issue["fields"].get(name)) for name in fields},
                    "properties": {
                        name: copy.deepcopy(issue["properties"][name])
                        for name in properties
                        if name in issue["properties"]
                    },
                }
                for issue in hits
            ]

    def _matches(self, query: Query, issue: Mapping[str, Any]) -> bool:
        fields = issue["fields"]
        if isinstance(query, Children):
            if query.placement == "linked_epic":  # JQL's linkedIssues: either direction
                pairs = [(src, dst) for src, _type, dst in self.links]
                pairs += [(src, dst) for src, dst, _type in self.issue_links]
                key = issue["key"]
                return any(
                    (src == key and dst in query.parents) or (dst == key and src in query.parents)
                    for src, dst in pairs
                )
            field = "parent"
            if query.placement == "epic_child" and not self.is_cloud:
                field = self.epic_link_field(query.epic_link_field) or "Epic Link"
            value = fields.get(field)
            parent = value.get("key") if isinstance(value, Mapping) else value
            return parent in query.parents
        if (
            fields["project"]["key"] not in query.projects
            or fields["issuetype"].get("name") not in query.issue_types
        ):
            return False
        due = fields.get("duedate")
        if query.open_due_by is not None:
            status = fields.get("status") or {}
            done = (status.get("statusCategory") or {}).get("key") == "done"
            marked = (
                query.or_label is not None and query.or_label in (fields.get("labels") or [])
            ) or (query.or_status is not None and status.get("name") == query.or_status)
            return bool(not done and due and due <= query.open_due_by.isoformat()) or marked
        if query.updated_within is not None:
            changed = datetime.strptime(fields["updated"], "%Y-%m-%dT%H:%M:%S.%f%z")
            if changed < self.clock() - timedelta(minutes=query.updated_within):
                return False
        return query.due_from is None or (due or "") >= query.due_from.isoformat()

    def notify(self, key: str, people: Sequence[str], subject: str, text: str) -> None:
        self._hit("POST /rest/api/2/issue/{key}/notify", 204)
        with self._lock:
            self.notified.append((key, tuple(people), subject))

    def transition_to(self, key: str, status: str) -> bool:
        self._hit("GET /rest/api/2/issue/{key}/transitions")
        if status in self.unreachable_statuses:
            return False
        self._hit("POST /rest/api/2/issue/{key}/transitions", 204)
        with self._lock:
            done = status in ("已完成", "Done")
            category = (
                "done" if done else ("new" if status in ("未开始", "To Do") else "indeterminate")
            )
            self.issues[key]["fields"]["status"] = {
                "name": status,
                "statusCategory": {"key": category},
            }
            self._touch(key)
        return True

    def edit_labels(self, key: str, *, add: Sequence[str] = (), remove: Sequence[str] = ()) -> None:
        if not add and not remove:
            return
        self._hit("PUT /rest/api/2/issue/{key}", 204)
        with self._lock:
            labels = list(self.issues[key]["fields"].get("labels") or [])
            labels = [label for label in labels if label not in remove]
            labels += [label for label in add if label not in labels]
            self.issues[key]["fields"]["labels"] = labels
            self._touch(key)

    def set_due_date(self, key: str, day: date) -> None:
        self._hit("PUT /rest/api/2/issue/{key}", 204)
        with self._lock:
            self.issues[key]["fields"]["duedate"] = day.isoformat()
            self._touch(key)

    def assign(self, key: str, person: str) -> None:
        self._hit("PUT /rest/api/2/issue/{key}/assignee", 204)
        with self._lock:
            user = {"accountId": person} if self.is_cloud else {"name": person}
            self.issues[key]["fields"]["assignee"] = user
            self._touch(key)

    def tree_url(self, stage_keys: Sequence[str]) -> str:
        return "https://jira.example.com/issues/?jql=key+in+(" + ",+".join(stage_keys) + ")"

    def get_issue_property(self, key: str, name: str) -> Any:
        self._hit("GET /rest/api/2/issue/{key}/properties/{name}")
        with self._lock:
            return copy.deepcopy(self.issues[key]["properties"].get(name))

    def set_issue_property(self, key: str, name: str, value: Any) -> None:
        self._hit("PUT /rest/api/2/issue/{key}/properties/{name}")
        with self._lock:
            self.issues[key]["properties"][name] = copy.deepcopy(value)
            self._touch(key)

    def add_comment(self, key: str, body: str) -> str:
        self._hit("POST /rest/api/2/issue/{key}/comment", 201)
        with self._lock:
            self.comments.setdefault(key, []).append(body)
            return str(len(self.comments[key]))

    def link_issues(self, from_key: str, to_key: str, link_type: str = "Relates") -> None:
        self._hit("POST /rest/api/2/issueLink", 201)
        with self._lock:
            self.issue_links.append((from_key, to_key, link_type))

    def add_remote_link(self, key: str, *, url: str, title: str, global_id: str) -> None:
        self._hit("POST /rest/api/2/issue/{key}/remotelink", 201)
        with self._lock:
            self.remote_links[(key, global_id)] = (url, title)

    def issue_url(self, key: str) -> str:
        return f"https://example.atlassian.net/browse/{key}"

    def list_comments(self, key: str) -> list[dict[str, Any]]:
        self._hit("GET /rest/api/2/issue/{key}/comment")
        me = CROSSDEPT if self.is_cloud else "crossdept"
        author = {"accountId": me} if self.is_cloud else {"name": me}
        with self._lock:
            return [
                {"id": str(number), "body": body, "author": author}
                for number, body in enumerate(self.comments.get(key, []), start=1)
                if body is not None
            ]

    def edit_comment(self, key: str, comment_id: str, body: str) -> None:
        with self._lock:
            bodies = self.comments.get(key, [])
            index = int(comment_id) - 1
            if not 0 <= index < len(bodies) or bodies[index] is None:
                self._hit("PUT /rest/api/2/issue/{key}/comment/{comment}", 404)
                raise RefusedError("PUT comment: HTTP 404", 404, ["Can not find a comment"])
            self._hit("PUT /rest/api/2/issue/{key}/comment/{comment}")
            bodies[index] = body

    def delete_comment(self, key: str, comment_id: str) -> None:
        """Delete a comment as a person would (its number is not reused)."""
        with self._lock:
            self.comments[key][int(comment_id) - 1] = None  # type: ignore[call-overload]

    def delete_issue(self, key: str) -> None:
        """Delete an issue (and its sub-tasks) as a person would."""
        with self._lock:
            doomed = {key} | {
                k
                for k, issue in self.issues.items()
                if (issue["fields"].get("parent") or {}).get("key") == key
            }
            for gone in doomed:
                del self.issues[gone]

    def read_issues(
        self,
        keys: Sequence[str],
        fields: Sequence[str] = ("summary",),
        properties: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        wanted = list(dict.fromkeys(keys))
        for _ in range(0, len(wanted), 100):
            self._hit(
                "POST /rest/api/2/issue/bulkfetch" if self.is_cloud else "POST /rest/api/2/search"
            )
        with self._lock:
            return [
                {
                    "key": key,
                    "fields": {name: self.issues[key]["fields"].get(name) for name in fields},
                    "properties": {
                        name: copy.deepcopy(self.issues[key]["properties"][name])
                        for name in properties
                        if name in self.issues[key]["properties"]
                    },
                }
                for key in wanted
                if key in self.issues
            ]


def fail_with(error: BaseException) -> Callable[[int], None]:
    """A bulk hook that raises `error` once."""
    fired = []

    def hook(_number: int) -> None:
        if not fired:
            fired.append(True)
            raise error

    return hook


def transient() -> TransientGatewayError:
    """A 503 as the gateway reports it."""
    return TransientGatewayError("POST /rest/api/2/issue/bulk: HTTP 503", status=503)


def rate_limited(retry_after: float = 5.0) -> TransientGatewayError:
    """A 429 as the gateway reports it."""
    return TransientGatewayError(
        "POST /rest/api/2/issue/bulk: HTTP 429", retry_after=retry_after, status=429
    )
