"""The one door to Jira: our intents become REST calls, failures become our errors, calls are counted."""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import requests
from jira import JIRA, JIRAError

from plugin.atlassian.marks import MarkBook
from plugin.atlassian.ports import (
    BULK_LIMIT,
    BulkResult,
    CreatedIssue,
    FieldValue,
    IssueType,
    ItemRefusal,
    NewIssue,
    OnePerson,
)
from plugin.atlassian.queries import Children, Query, jql, limit, quoted
from plugin.atlassian.seals import SEAL_FIELD, MarkSeal
from plugin.atlassian.site_admin import EPIC_LINK_TYPE, EPIC_NAME_TYPE
from plugin.spine.budget import MAX_INLINE_WAIT, RequestBudget
from plugin.spine.errors import GatewayError, RefusedError, TransientGatewayError

log = logging.getLogger(__name__)

Observer = Callable[[str, str, int], None]

# The most items one sweep reads (100 per page): far above any project's open items.
# POST /rest/api/2/issue/bulkfetch reads at most 100 issues per call; DC searches the same number.
READ_LIMIT = 100
# Link from a created epic back to its request (epic: create). "Relates" exists on every Jira.
EPIC_LINK_TYPE_NAME = "Relates"
# Issue property values are limited to 32768 characters.
# https://developer.atlassian.com/cloud/jira/platform/jira-entity-properties/
PROPERTY_LIMIT = 32768
TIMEOUT_SECONDS = (5.0, 30.0)
# A call Jira answered 429 with a short Retry-After is sent again this many times in the worker
# (after the wait, taken from the shared budget) before the job is handed back to the queue.
INLINE_429_RETRIES = 3
CONNECTION_FAILED = 0  # the status recorded for a call that got no HTTP answer


def field_of_type(fields: Sequence[Mapping[str, Any]], custom_type: str) -> str | None:
    """The id of the field (from GET /field) whose schema.custom is `custom_type`."""
    for item in fields:
        if (item.get("schema") or {}).get("custom") == custom_type:
            return str(item["id"])
    return None


def field_ids_by_name(fields: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Field name → id, from GET /field."""
    return {str(item.get("name")): str(item.get("id")) for item in fields}


def issue_payload(
    issue: NewIssue,
    *,
    cloud: bool,
    epic_link_field: str | None = None,
    epic_name_field: str | None = None,
) -> dict[str, Any]:
    """IssueUpdateDetails for one new issue, as Cloud or Data Center wants it.

    Cloud places sub-tasks and epic children with `parent` (Epic Link is deprecated in REST);
    Data Center puts an epic's children in its Epic Link field and needs an Epic Name on epics.
    https://community.developer.atlassian.com/t/deprecation-of-the-epic-link-parent-link-and-other-related-fields-in-rest-apis-and-webhooks/54048
    """
    fields: dict[str, Any] = {
        "project": {"key": issue.project},
        "issuetype": {"id": issue.issue_type_id},
        "summary": issue.summary,
        "description": issue.description,
        "duedate": issue.due.isoformat(),
        "assignee": person_ref(issue.assignee, cloud=cloud),
    }
    payload: dict[str, Any] = {
        "fields": fields,
        # The identity travels with the issue from the moment it exists (IssueUpdateDetails
        # accepts properties on create and bulk create).
        # https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-bulk-post
        "properties": [{"key": k, "value": v} for k, v in issue.properties.items()],
    }
    for field_id, value in issue.fields.items():
        fields[field_id] = field_value(value, cloud=cloud)
    if issue.placement == "linked":
        payload["update"] = {"issuelinks": [_link_to(issue.parent)]}
    elif issue.placement == "subtask" or (issue.placement == "epic_child" and cloud):
        fields["parent"] = {"key": issue.parent}
    elif issue.placement == "epic_child":
        if epic_link_field is None:
            raise ValueError("a Data Center epic child needs the Epic Link field")
        fields[epic_link_field] = issue.parent
    elif issue.placement == "linked_epic":
        if not cloud and epic_name_field:
            fields[epic_name_field] = issue.summary
        payload["update"] = {"issuelinks": [_link_to(issue.parent)]}
    return payload


def _link_to(key: str) -> dict[str, Any]:
    """The create call's update operation that links the new issue to `key`."""
    return {"add": {"type": {"name": EPIC_LINK_TYPE_NAME}, "outwardIssue": {"key": key}}}


def field_value(value: FieldValue, *, cloud: bool) -> Any:
    """A custom field's REST value: people by accountId on Cloud and by username on Data Center;
    a date-time as Jira's examples write it ("2011-10-19T10:29:29.908+1100").
    https://developer.atlassian.com/server/jira/platform/jira-rest-api-examples/#creating-an-issue-examples
    """
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%dT%H:%M:%S}.000{value:%z}"
    if isinstance(value, OnePerson):
        return person_ref(value.id, cloud=cloud)
    return [person_ref(who, cloud=cloud) for who in value.ids]


def person_ref(account: str, *, cloud: bool) -> dict[str, str]:
    """How a person is written in a request body: Cloud {"accountId": ...}, Data Center
    {"name": ...} (its username; Data Center has no account ids)."""
    return {"accountId": account} if cloud else {"name": account}


def _retry_after(response: requests.Response | None) -> float | None:
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def _refusal_parts(body: Any) -> tuple[list[str], dict[str, str]]:
    if not isinstance(body, Mapping):
        return [], {}
    messages = [str(text) for text in body.get("errorMessages") or []]
    errors = (
        {str(k): str(v) for k, v in (body.get("errors") or {}).items()}
        if isinstance(body.get("errors"), Mapping)
        else {}
    )
    return messages, errors


class JiraGateway:
    """Talk to Jira Cloud or Data Center through the `jira` client's session, counting every call."""

    def __init__(self, client: JIRA, base_url: str, observer: Observer | None = None) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._observer = observer
        self._lock = threading.Lock()
        self.calls: Counter[tuple[str, int]] = Counter()
        self.is_cloud = False
        self._myself: str | None = None
        self._fields: list[dict[str, Any]] | None = None
        self._issue_types: dict[str, dict[str, IssueType]] = {}
        self._known_users: set[str] = set()
        self._names: dict[str, str] = {}  # display names of active people looked up
        self._bulk_users = True
        self.server_info: dict[str, Any] = {}
        # Shared pacing across workers (plugin.spine.budget); set by the service once connected.
        self.budget: RequestBudget | None = None
        # Write-once properties kept by issue id (plugin.atlassian.marks), so a Data Center search, which
        # returns no properties, is completed without reading every issue again.
        self.marks: MarkBook | None = None
        self.remembered: frozenset[str] = frozenset()
        # crossdept's own properties (plugin.atlassian.seals): each name sealed on write and believed on
        # read only when its seal checks; True binds the seal to the issue's key (the property
        # is written after the issue exists), False to nothing (written in the create call).
        # Without a seal (a person's gateway, as the demo's requester) properties pass as they are.
        self.seal: MarkSeal | None = None
        self.sealed: Mapping[str, bool] = {}
        # The settings behind the address and the login, named in errors so that an operator
        # knows what to check (e.g. "CROSSDEPT_JIRA_URL"); empty for a person's gateway.
        self.address_setting = ""
        self.login_setting = ""

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        email: str | None = None,
        api_token: str | None = None,
        pat: str | None = None,
        username: str | None = None,
        password: str | None = None,
        observer: Observer | None = None,
        address_setting: str = "",
        login_setting: str = "",
    ) -> JiraGateway:
        """Log in and learn which Jira this is. Cloud: email + API token (basic); Data Center 8.14
        and later: a personal access token (bearer); older Server: username + password (basic)."""
        if email and api_token:
            auth: dict[str, Any] = {"basic_auth": (email, api_token)}
        elif pat:
            auth = {"token_auth": pat}
        elif username and password:
            auth = {"basic_auth": (username, password)}
        else:
            raise GatewayError(
                "Jira needs an email and API token (Cloud), a personal access token (Data "
                "Center), or a username and password (older Server)"
            )
        # max_retries=0: the jira client would sleep in this thread on 429/503; the queue retries instead.
        client = JIRA(
            server=url,
            options={"check_update": False},
            get_server_info=False,
            max_retries=0,
            timeout=TIMEOUT_SECONDS,
            **auth,
        )
        gateway = cls(client, url, observer)
        gateway.address_setting, gateway.login_setting = address_setting, login_setting
        gateway.detect_deployment()
        return gateway

    def verify_login(self) -> str:
        """Ask Jira who crossdept is (GET /myself, which needs a working login): a wrong login
        is a RefusedError (401) naming the settings to fix. Returns the account."""
        self._myself = None
        return self.myself()

    def _check(self, setting: str) -> str:
        return f" (check {setting})" if setting else ""

    # -- plumbing -------------------------------------------------------------------------------

    @property
    def total_calls(self) -> int:
        """How many HTTP calls this gateway has made."""
        return sum(self.calls.values())

    def calls_to(self, endpoint: str) -> int:
        """How many calls went to one templated endpoint, e.g. "POST /rest/api/2/issue/bulk"."""
        return sum(count for (name, _status), count in self.calls.items() if name == endpoint)

    def _count(self, endpoint: str, method: str, status: int) -> None:
        with self._lock:
            self.calls[(endpoint, status)] += 1
        if self._observer is not None:
            try:
                self._observer(endpoint, method, status)
            except Exception:  # noqa: BLE001 - metrics must never break a call
                log.warning("call observer failed", exc_info=True)

    def _call(
        self,
        method: str,
        template: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | Sequence[tuple[str, str]] | None = None,
        body: Any = None,
        accept: Iterable[int] = (),
    ) -> requests.Response:
        """Send one request; map failures to TransientGatewayError / RefusedError.

        Only the budget sleeps (its slot, or a Retry-After of at most MAX_INLINE_WAIT).
        """
        route = template.format(**{k: quote(v, safe="") for k, v in (path or {}).items()})
        endpoint = f"{method} {template}"
        url = self._base + route
        kwargs: dict[str, Any] = {"headers": {"Content-Type": "application/json"}}
        if params is not None:
            kwargs["params"] = params
        if body is not None:
            kwargs["data"] = json.dumps(body, ensure_ascii=False).encode("utf-8")
        for tries_left in range(INLINE_429_RETRIES, -1, -1):
            response = self._send(method, url, endpoint, kwargs)
            status = response.status_code
            if status < 400 or status in accept:
                return response
            if status == 429 or status >= 500:
                wait = _retry_after(response)
                if self.budget is not None and (wait or status == 429):
                    # Every worker waits; a 429 also slows the shared pace, Retry-After or not.
                    self.budget.hold_off(wait or 0.0, slow_down=status == 429)
                short_429 = status == 429 and wait is not None and wait <= MAX_INLINE_WAIT
                if short_429 and self.budget is not None and tries_left:
                    # Jira did nothing (429): send the same call again once the wait is over
                    # (the budget sleeps it), rather than abandon the job's progress.
                    continue
                raise TransientGatewayError(
                    f"{endpoint}: HTTP {status} from Jira at {self._base}",
                    retry_after=wait,
                    status=status,
                )
            break
        try:
            parsed = response.json()
        except ValueError:
            parsed = None
        messages, errors = _refusal_parts(parsed)
        heading = f"{endpoint}: HTTP {status} from Jira at {self._base}"
        if status == 401:  # nothing will work until the login does: say which settings hold it
            messages.append("Jira refused crossdept's login" + self._check(self.login_setting))
        refused = RefusedError(heading, status, messages, errors)
        log.warning(
            "jira refused %s: HTTP %s: %s",
            endpoint,
            status,
            refused.reason(),
            extra={"endpoint": endpoint, "status": status, "reason": refused.reason()},
        )
        raise refused

    def _send(
        self, method: str, url: str, endpoint: str, kwargs: dict[str, Any]
    ) -> requests.Response:
        """One HTTP request after its slot in the budget; a lost connection is transient."""
        if self.budget is not None:
            self.budget.take()
        try:
            response: requests.Response = self._client._session.request(method, url, **kwargs)
        except JIRAError as error:
            # Only the status and body are used: the error's text includes request headers (auth).
            if error.response is None:
                self._count(endpoint, method, CONNECTION_FAILED)
                raise TransientGatewayError(
                    f"{endpoint}: no response from Jira at {self._base}"
                    + self._check(self.address_setting)
                ) from None
            response = error.response
        except requests.RequestException as error:
            self._count(endpoint, method, CONNECTION_FAILED)
            raise TransientGatewayError(
                f"{endpoint}: {type(error).__name__}: Jira at {self._base} did not answer"
                + self._check(self.address_setting)
            ) from None
        self._count(endpoint, method, response.status_code)
        return response

    def request_json(
        self,
        method: str,
        template: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | Sequence[tuple[str, str]] | None = None,
        body: Any = None,
        accept: Iterable[int] = (),
    ) -> tuple[int, Any]:
        """One call for a reader that knows its endpoint (plugin.atlassian.site_admin): the status
        and the decoded body; statuses in `accept` come back instead of raising."""
        response = self._call(method, template, path=path, params=params, body=body, accept=accept)
        try:
            return response.status_code, response.json() if response.content else None
        except ValueError:
            return response.status_code, None

    @staticmethod
    def _json(response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError as error:
            raise TransientGatewayError(f"unreadable answer from {response.url}") from error

    # -- who and what we talk to ----------------------------------------------------------------

    def detect_deployment(self) -> bool:
        """Ask serverInfo whether this is Cloud or Data Center; one call at connect time."""
        info = self._json(self._call("GET", "/rest/api/2/serverInfo"))
        self.server_info = dict(info)
        self.is_cloud = str(info.get("deploymentType", "")).lower() == "cloud"
        self._client.deploymentType = info.get("deploymentType")
        try:
            self._client._version = tuple(int(part) for part in info.get("versionNumbers", []))
        except (TypeError, ValueError):
            self._client._version = (0, 0, 0)
        return self.is_cloud

    def myself(self) -> str:
        """Our own account id (Cloud) or username (Data Center), cached for the process."""
        if self._myself is None:
            me = self._json(self._call("GET", "/rest/api/2/myself"))
            self._myself = str(me.get("accountId") or me.get("name") or me.get("key") or "")
        return self._myself

    def user_payload(self, account: str) -> dict[str, str]:
        """How an assignee is written on this Jira (`person_ref`)."""
        return person_ref(account, cloud=self.is_cloud)

    def fields(self) -> list[dict[str, Any]]:
        """Every field of the instance (GET /field), cached for the process."""
        if self._fields is None:
            found = self._json(self._call("GET", "/rest/api/2/field"))
            self._fields = [item for item in found if isinstance(item, dict)]
        return self._fields

    def field_by_type(self, custom_type: str) -> str | None:
        """The id of the field whose schema.custom is `custom_type` (e.g. Data Center's Epic Link)."""
        return field_of_type(self.fields(), custom_type)

    def field_names(self) -> dict[str, str]:
        """Field name → id; changelog items name custom fields by name."""
        return field_ids_by_name(self.fields())

    def issue_types(self, project: str) -> dict[str, IssueType]:
        """The issue types a project offers, by name; one GET /project per project per process."""
        if project not in self._issue_types:
            found = self._json(
                self._call("GET", "/rest/api/2/project/{project}", path={"project": project})
            )
            self._issue_types[project] = {
                str(kind["name"]): IssueType(
                    str(kind["id"]), str(kind["name"]), bool(kind.get("subtask"))
                )
                for kind in found.get("issueTypes") or []
            }
        return self._issue_types[project]

    def missing_users(self, accounts: Iterable[str]) -> list[str]:
        """Return the accounts Jira does not know or knows as inactive (a person who left);
        active ones are remembered for the process."""
        wanted = [
            account for account in dict.fromkeys(accounts) if account not in self._known_users
        ]
        found = self._active_users(wanted) if wanted else {}
        return [account for account in wanted if account not in found]

    def display_names(self, accounts: Iterable[str]) -> dict[str, str]:
        """The display names of the accounts Jira knows as active people (for commands that
        show people rather than ids); remembered, so each person costs one lookup per process."""
        wanted = [account for account in dict.fromkeys(accounts) if account not in self._names]
        if wanted:
            self._active_users(wanted)
        return {account: self._names[account] for account in accounts if account in self._names}

    def _active_users(self, wanted: Sequence[str]) -> dict[str, str]:
        """Look the accounts up (Cloud: one bulk call per 200; Data Center: one each) and return
        the active ones with their display names."""
        found: dict[str, str] = {}

        def keep(user: Mapping[str, Any], account: str) -> None:
            if user.get("active", True):
                found[account] = str(user.get("displayName") or account)

        try:
            if self.is_cloud and self._bulk_users:
                # One call for up to 200 account ids.
                # https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-users/#api-rest-api-2-user-bulk-get
                try:
                    for start in range(0, len(wanted), 200):
                        chunk = wanted[start : start + 200]
                        params = [("maxResults", "200")] + [("accountId", a) for a in chunk]
                        page = self._json(self._call("GET", "/rest/api/2/user/bulk", params=params))
                        for user in page.get("values") or []:
                            keep(user, str(user.get("accountId")))
                except RefusedError as error:
                    if error.status != 404:
                        raise
                    self._bulk_users = False  # a Jira without the bulk endpoint: ask one by one
            if not (self.is_cloud and self._bulk_users):
                key = "accountId" if self.is_cloud else "username"
                for account in wanted:
                    if account in found:
                        continue
                    response = self._call(
                        "GET", "/rest/api/2/user", params={key: account}, accept=(404,)
                    )
                    if response.status_code != 404:
                        keep(self._json(response), account)
        finally:
            # Keep what was learnt even when a later lookup fails (e.g. 429): the retry asks
            # only for the rest, so a rate-limited site still gets through a long list.
            self._known_users |= set(found)
            self._names.update(found)
        return found

    # -- issues ---------------------------------------------------------------------------------

    def get_issue(
        self, key: str, fields: Sequence[str], properties: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Read one issue's named fields (and issue properties) in a single GET."""
        params: dict[str, str] = {"fields": ",".join(fields)}
        if properties:
            params["properties"] = ",".join(properties)
        found = self._json(
            self._call("GET", "/rest/api/2/issue/{key}", path={"key": key}, params=params)
        )
        return self._believed([dict(found)])[0]

    def epic_link_field(self, configured: str | None = None) -> str | None:
        """Data Center's Epic Link field id: the configured one, else the one Jira declares."""
        return configured or self.field_by_type(EPIC_LINK_TYPE)

    def create_issues(
        self, issues: Sequence[NewIssue], *, epic_link_field: str | None = None
    ) -> BulkResult:
        """Create up to 50 issues in one call; a 201 may still refuse some of them."""
        return self.create_bulk([self._payload(issue, epic_link_field) for issue in issues])

    def _payload(self, issue: NewIssue, epic_link_field: str | None) -> dict[str, Any]:
        # Only Data Center names an epic's children through its Epic Link field (and wants an
        # Epic Name on epics); Cloud needs neither, so it is not asked for the field list.
        link = name = None
        if not self.is_cloud and issue.placement == "epic_child":
            link = self.epic_link_field(epic_link_field)
        if not self.is_cloud and issue.placement == "linked_epic":
            name = self.field_by_type(EPIC_NAME_TYPE)
        if issue.placement == "epic_child" and not self.is_cloud and link is None:
            raise RefusedError("no Epic Link field on this Jira", 400)
        payload = issue_payload(
            issue, cloud=self.is_cloud, epic_link_field=link, epic_name_field=name
        )
        if self.seal is not None and payload.get("properties"):
            payload["properties"] = [
                {"key": p["key"], "value": self._sealed(p["key"], p["value"], "")}
                for p in payload["properties"]
            ]
        return payload

    def _sealed(self, name: str, value: Any, key: str) -> Any:
        """The value to write for property `name` of issue `key`: sealed if it is crossdept's."""
        if self.seal is None or name not in self.sealed:
            return value
        return self.seal.seal(name, value, key if self.sealed[name] else "")

    def _believed(self, issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Open the seals of crossdept's properties in these issues; drop any that do not check.

        A person may write any property of an issue they can edit (a forged mark, or a genuine
        one copied from another issue); such a value is logged and left out, never obeyed.
        """
        if self.seal is None:
            return issues
        for name in sorted(self.remembered & set(self.sealed)):
            self._recorded_instead(name, issues)
        for issue in issues:
            found = issue.get("properties")
            if not isinstance(found, dict):
                continue
            key = str(issue.get("key", ""))
            for name in [name for name in found if name in self.sealed]:
                opened = self.seal.open(name, found[name], key if self.sealed[name] else "")
                if opened is None:
                    log.warning("ignored %s on %s: not sealed by crossdept", name, key)
                    del found[name]
                else:
                    found[name] = opened
        return issues

    def _recorded_instead(self, name: str, issues: list[dict[str, Any]]) -> None:
        """Put the mark book's value of a write-once property in place of what Jira now holds.

        The book recorded each one as crossdept created its issue, so a person's later edit is
        not believed, on Cloud as on Data Center. For an issue the book has never seen, a
        sealed value it holds for another issue is a copy and is dropped; any other (a store lost
        and rebuilt) is left for the seal to decide.
        """
        if self.marks is None:
            return
        carrying = {
            str(issue.get("id", "")): issue
            for issue in issues
            if isinstance(issue.get("properties"), dict) and name in issue["properties"]
        }
        if not carrying:
            return
        recorded = self.marks.lookup(name, carrying)
        for issue_id, issue in carrying.items():
            found = issue["properties"]
            if issue_id in recorded:
                if recorded[issue_id] is None:
                    del found[name]
                else:
                    found[name] = recorded[issue_id]
                continue
            seal = found[name].get(SEAL_FIELD) if isinstance(found[name], Mapping) else None
            if isinstance(seal, str) and self.marks.holders(name, seal):
                log.warning("ignored %s on %s: copied from another issue", name, issue.get("key"))
                del found[name]

    def search(
        self,
        query: Query,
        *,
        fields: Sequence[str] = ("summary",),
        properties: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """The issues a query finds, in one JQL search paged by 100.

        Issue properties are JQL-searchable only when an app indexes them, so crossdept's marks
        are never searched for: items are found by parent or type and their marks read back.
        """
        epic_link = None
        if isinstance(query, Children) and query.placement == "epic_child" and not self.is_cloud:
            epic_link = self.epic_link_field(query.epic_link_field)
        text = jql(query, cloud=self.is_cloud, epic_link=epic_link)
        return self.search_issues(text, fields=fields, properties=properties, limit=limit(query))

    def notify(self, key: str, people: Sequence[str], subject: str, text: str) -> None:
        """Have Jira e-mail these people about an issue; Jira queues the mail.

        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-issueidorkey-notify-post
        """
        body = {
            "subject": subject,
            "textBody": text,
            "to": {"users": [self.user_payload(person) for person in people]},
        }
        self._call("POST", "/rest/api/2/issue/{key}/notify", path={"key": key}, body=body)

    def transition_to(self, key: str, status: str) -> bool:
        """Move an issue to the named status: find a transition leading there, then take it."""
        # https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-issueidorkey-transitions-get
        found = self._json(
            self._call("GET", "/rest/api/2/issue/{key}/transitions", path={"key": key})
        )
        for transition in found.get("transitions") or []:
            if (transition.get("to") or {}).get("name") == status:
                self._call(
                    "POST",
                    "/rest/api/2/issue/{key}/transitions",
                    path={"key": key},
                    body={"transition": {"id": str(transition["id"])}},
                )
                return True
        return False

    def edit_labels(self, key: str, *, add: Sequence[str] = (), remove: Sequence[str] = ()) -> None:
        """Add and remove labels with the edit's `update` verbs, leaving other labels alone."""
        operations = [{"add": label} for label in add] + [{"remove": label} for label in remove]
        if not operations:
            return
        # https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-issueidorkey-put
        self._call(
            "PUT",
            "/rest/api/2/issue/{key}",
            path={"key": key},
            body={"update": {"labels": operations}},
        )

    def set_due_date(self, key: str, day: date) -> None:
        """Set the due date with the edit's `fields` (a date, yyyy-MM-dd, on Cloud and DC)."""
        # https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-issueidorkey-put
        self._call(
            "PUT",
            "/rest/api/2/issue/{key}",
            path={"key": key},
            body={"fields": {"duedate": day.isoformat()}},
        )

    def assign(self, key: str, person: str) -> None:
        """Assign the issue: an accountId on Cloud, a username on Data Center (both 204).
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-issueidorkey-assignee-put
        https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/#api/2/issue-assign"""
        self._call(
            "PUT",
            "/rest/api/2/issue/{key}/assignee",
            path={"key": key},
            body=self.user_payload(person),
        )

    def tree_url(self, stage_keys: Sequence[str]) -> str:
        """A link people can open: Jira's issue navigator listing the stages and all under them."""
        scope = quoted(stage_keys)
        return self.search_url(f"key in ({scope}) OR parent in ({scope}) ORDER BY key")

    def create_bulk(self, updates: Sequence[Mapping[str, Any]]) -> BulkResult:
        """Create up to 50 issues from IssueUpdateDetails payloads; some may be refused."""
        if not updates:
            return BulkResult({}, {})
        if len(updates) > BULK_LIMIT:
            raise ValueError(f"at most {BULK_LIMIT} issues per bulk call")
        # The jira client's create_issues re-GETs every issue (prefetch) and cannot chunk;
        # we post IssueUpdateDetails ourselves through its authenticated session.
        # https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-bulk-post
        response = self._call(
            "POST", "/rest/api/2/issue/bulk", body={"issueUpdates": list(updates)}, accept=(400,)
        )
        answer = self._json(response)
        refused: dict[int, ItemRefusal] = {}
        for error in answer.get("errors") or []:
            element = error.get("elementErrors") or {}
            messages, errors = _refusal_parts(element)
            refused[int(error.get("failedElementNumber", -1))] = ItemRefusal(
                int(error.get("status") or response.status_code), tuple(messages), errors
            )
        if response.status_code == 400 and not refused:
            messages, errors = _refusal_parts(answer)
            raise RefusedError("POST /rest/api/2/issue/bulk: HTTP 400", 400, messages, errors)
        # Created issues come back in input order, skipping the failed elements.
        created_iter = iter(answer.get("issues") or [])
        created: dict[int, CreatedIssue] = {}
        for index in range(len(updates)):
            if index in refused:
                continue
            issue = next(created_iter, None)
            if issue is None:
                break
            created[index] = CreatedIssue(str(issue["id"]), str(issue["key"]))
        self._remember_created(updates, created)
        return BulkResult(created, refused)

    def _remember_created(
        self, updates: Sequence[Mapping[str, Any]], created: Mapping[int, CreatedIssue]
    ) -> None:
        """Record the write-once properties crossdept just created issues with (or their absence)."""
        if self.marks is None or not self.remembered or not created:
            return
        values: dict[str, dict[str, Any]] = {name: {} for name in self.remembered}
        for index, issue in created.items():
            given = {
                str(p.get("key")): p.get("value")
                for p in updates[index].get("properties") or []
                if isinstance(p, Mapping)
            }
            for name, by_issue in values.items():
                by_issue[issue.id] = given.get(name)
        for name, by_issue in sorted(values.items()):
            self.marks.record(name, by_issue)

    def _fill_properties(
        self, issues: list[dict[str, Any]], properties: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Give Data Center search results the properties asked for, as Cloud's search does.

        Write-once properties come from the mark book; anything it does not know is read with
        one GET per issue (which DC answers with properties) and, if write-once, recorded.
        """
        if not properties or not issues:
            return self._believed(issues)
        wanted = list(dict.fromkeys(properties))
        ids = [str(issue.get("id")) for issue in issues]
        known: dict[str, dict[str, Any]] = {issue_id: {} for issue_id in ids}
        if self.marks is not None:
            for name in wanted:
                if name in self.remembered:
                    for issue_id, value in self.marks.lookup(name, ids).items():
                        known[issue_id][name] = value
        learnt: dict[str, dict[str, Any]] = {}
        kept: list[dict[str, Any]] = []
        for issue, issue_id in zip(issues, ids, strict=True):
            missing = [name for name in wanted if name not in known[issue_id]]
            if missing:
                response = self._call(
                    "GET",
                    "/rest/api/2/issue/{key}",
                    path={"key": issue_id},
                    params={"fields": "summary", "properties": ",".join(missing)},
                    accept=(404,),
                )
                if response.status_code == 404:
                    continue  # deleted since the search: it is not there any more
                props = self._json(response).get("properties") or {}
                for name in missing:
                    known[issue_id][name] = props.get(name)
                    if name in self.remembered:
                        learnt.setdefault(name, {})[issue_id] = props.get(name)
            issue["properties"] = {
                name: value for name, value in known[issue_id].items() if value is not None
            }
            kept.append(issue)
        self._believed(kept)
        if self.marks is not None:
            believed = {str(issue.get("id")): issue["properties"] for issue in kept}
            for name, values in learnt.items():
                # A value read from Jira is recorded only if believed: a forged or copied mark
                # is recorded as none, so it is never taken for crossdept's later.
                self.marks.record(
                    name,
                    {i: (v if name in believed.get(i, {}) else None) for i, v in values.items()},
                )
        return kept

    def search_issues(
        self,
        jql: str,
        fields: Sequence[str] = ("summary",),
        properties: Sequence[str] = (),
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        """Run a JQL search and return up to `limit` issues (Cloud: /search/jql, DC: /search)."""
        found: list[dict[str, Any]] = []
        body: dict[str, Any] = {"jql": jql, "fields": list(fields), "maxResults": min(limit, 100)}
        if properties and self.is_cloud:
            # Data Center's search bean refuses `properties` (HTTP 400); see _fill_properties.
            body["properties"] = list(properties)
        if self.is_cloud:
            # /rest/api/2/search is being removed on Cloud; /search/jql pages with nextPageToken.
            # https://developer.atlassian.com/changelog/#CHANGE-2046
            while len(found) < limit:
                page = self._json(self._call("POST", "/rest/api/2/search/jql", body=body))
                found += page.get("issues") or []
                token = page.get("nextPageToken")
                if not token or page.get("isLast", True):
                    break
                body["nextPageToken"] = token
            return self._believed(found[:limit])
        body["startAt"] = 0
        while len(found) < limit:
            page = self._json(self._call("POST", "/rest/api/2/search", body=body))
            issues = page.get("issues") or []
            found += issues
            body["startAt"] += len(issues)
            if not issues or body["startAt"] >= int(page.get("total") or 0):
                break
        return self._fill_properties(found[:limit], properties)

    def read_issues(
        self,
        keys: Sequence[str],
        fields: Sequence[str] = ("summary",),
        properties: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """Read many issues by key in as few calls as Jira allows; keys Jira lacks are left out.

        Cloud: POST /issue/bulkfetch, 100 per call, answers issueErrors for unknown keys.
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-bulkfetch-post
        Data Center has no bulk fetch: a JQL `key in (...)` search with validateQuery=false, where
        an unknown key is a warning instead of a 400 for the whole query; its properties come
        from the mark book (`_fill_properties`).
        A moved issue answers under its new key, so callers match what they get by its content.
        """
        wanted = list(dict.fromkeys(keys))
        found: list[dict[str, Any]] = []
        for start in range(0, len(wanted), READ_LIMIT):
            chunk = wanted[start : start + READ_LIMIT]
            if self.is_cloud:
                body: dict[str, Any] = {"issueIdsOrKeys": chunk, "fields": list(fields)}
                if properties:
                    body["properties"] = list(properties)
                page = self._json(self._call("POST", "/rest/api/2/issue/bulkfetch", body=body))
                issues = self._believed([dict(issue) for issue in page.get("issues") or []])
            else:
                # DC reads validateQuery as a Boolean (a string is a 400); false makes an unknown
                # key a warning. Jira DC 11.3 SearchRequestBean, sandbox/specs/jira-dc.contract.json
                search: dict[str, Any] = {
                    "jql": f"key in ({quoted(chunk)})",
                    "fields": list(fields),
                    "maxResults": len(chunk),
                    "startAt": 0,
                    "validateQuery": False,
                }
                page = self._json(self._call("POST", "/rest/api/2/search", body=search))
                issues = self._fill_properties(
                    [dict(issue) for issue in page.get("issues") or []], properties
                )
            found += [dict(issue) for issue in issues]
        return found

    def get_issue_property(self, key: str, name: str) -> Any:
        """Read an issue property's value, or None when it is not set."""
        response = self._call(
            "GET",
            "/rest/api/2/issue/{key}/properties/{name}",
            path={"key": key, "name": name},
            accept=(404,),
        )
        if response.status_code == 404:
            return None
        value = self._json(response).get("value")
        if self.seal is None or name not in self.sealed:
            return value
        believed = self._believed([{"key": key, "properties": {name: value}}])
        return believed[0]["properties"].get(name)

    def set_issue_property(self, key: str, name: str, value: Any) -> None:
        """Write an issue property (≤ 32768 characters of JSON); crossdept's own are sealed."""
        value = self._sealed(name, value, key)
        size = len(json.dumps(value, ensure_ascii=False))
        if size > PROPERTY_LIMIT:
            raise ValueError(
                f"issue property {name} would be {size} characters, over {PROPERTY_LIMIT}"
            )
        self._call(
            "PUT",
            "/rest/api/2/issue/{key}/properties/{name}",
            path={"key": key, "name": name},
            body=value,
        )

    def list_comments(self, key: str) -> list[dict[str, Any]]:
        """Every comment of an issue, oldest first (pages of 100)."""
        found: list[dict[str, Any]] = []
        while True:
            page = self._json(
                self._call(
                    "GET",
                    "/rest/api/2/issue/{key}/comment",
                    path={"key": key},
                    params={"startAt": str(len(found)), "maxResults": "100"},
                )
            )
            batch = page.get("comments") or []
            found += batch
            if not batch or len(found) >= int(page.get("total") or 0):
                return found

    def edit_comment(self, key: str, comment_id: str, body: str) -> None:
        """Replace a comment's text (wiki markup); a 404 means someone deleted it."""
        self._call(
            "PUT",
            "/rest/api/2/issue/{key}/comment/{comment}",
            path={"key": key, "comment": comment_id},
            body={"body": body},
        )

    def link_issues(self, from_key: str, to_key: str, link_type: str = "Relates") -> None:
        """Link two issues (`from_key` outward to `to_key`), e.g. an action to its meeting.

        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-links/#api-rest-api-2-issuelink-post
        """
        body = {
            "type": {"name": link_type},
            "inwardIssue": {"key": to_key},
            "outwardIssue": {"key": from_key},
        }
        self._call("POST", "/rest/api/2/issueLink", body=body)

    def add_remote_link(self, key: str, *, url: str, title: str, global_id: str) -> None:
        """Link an issue to a web page; the same `global_id` updates the link instead of adding one.

        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-remote-links/#api-rest-api-2-issue-issueidorkey-remotelink-post
        """
        body = {"globalId": global_id, "object": {"url": url, "title": title}}
        self._call("POST", "/rest/api/2/issue/{key}/remotelink", path={"key": key}, body=body)

    def issue_url(self, key: str) -> str:
        """The address people open to see an issue."""
        return f"{self._base}/browse/{quote(key, safe='')}"

    def search_url(self, jql: str) -> str:
        """A link people can open: Jira's issue navigator showing a JQL search."""
        return f"{self._base}/issues/?jql={quote(jql, safe='')}"

    def add_comment(self, key: str, body: str) -> str:
        """Comment on an issue in wiki markup; returns the comment id."""
        found = self._json(
            self._call(
                "POST", "/rest/api/2/issue/{key}/comment", path={"key": key}, body={"body": body}
            )
        )
        return str(found.get("id", ""))
