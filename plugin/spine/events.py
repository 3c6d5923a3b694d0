"""Typed Jira webhook events, lenient about Jira's many payload shapes (Cloud, Data Center, Automation)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from plugin.spine.errors import PayloadError, PayloadTooLargeError
from plugin.spine.signature import Headers, authenticate, header_value


class Lenient(BaseModel):
    """Inbound models declare only what a rule reads and ignore the rest."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


def _as_str(value: Any) -> Any:
    # Ids are strings in REST issue objects but numbers in issueLink and Automation payloads.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class JiraUser(Lenient):
    """A Cloud user (accountId) or a Server/Data Center user (name/key)."""

    account_id: str | None = Field(default=None, alias="accountId")
    name: str | None = None
    key: str | None = None
    display_name: str | None = Field(default=None, alias="displayName")
    email: str | None = Field(default=None, alias="emailAddress")

    @property
    def id(self) -> str | None:
        """The identifier rules use: accountId on Cloud, username on Data Center."""
        return self.account_id or self.name or self.key


class ChangeItem(Lenient):
    """One changed field of a changelog; custom fields carry their name, not always their id."""

    field: str
    fieldtype: str | None = None
    field_id: str | None = Field(default=None, alias="fieldId")
    from_value: str | None = Field(default=None, alias="from")
    from_string: str | None = Field(default=None, alias="fromString")
    to_value: str | None = Field(default=None, alias="to")
    to_string: str | None = Field(default=None, alias="toString")

    _ids = field_validator("from_value", "to_value", mode="before")(_as_str)


class Changelog(Lenient):
    """The changes behind a `jira:issue_updated` (Cloud also sends one on create)."""

    id: str | None = None
    items: list[ChangeItem] = Field(default_factory=list)

    _ids = field_validator("id", mode="before")(_as_str)


class Comment(Lenient):
    """A comment; its body is wiki markup in webhooks, even on Cloud."""

    id: str
    body: Any = None
    author: JiraUser | None = None
    update_author: JiraUser | None = Field(default=None, alias="updateAuthor")
    created: str | None = None
    updated: str | None = None
    self_url: str | None = Field(default=None, alias="self")

    _ids = field_validator("id", mode="before")(_as_str)


class IssueRef(Lenient):
    """The issue in a payload: full fields on issue events, a reduced set on comment events."""

    id: str | None = None
    key: str | None = None
    self_url: str | None = Field(default=None, alias="self")
    fields: dict[str, Any] = Field(default_factory=dict)

    _ids = field_validator("id", mode="before")(_as_str)


_ISSUE_IN_URL = re.compile(r"/issue/([^/]+)/comment/")


class JiraEvent(Lenient):
    """One webhook delivery's body; anything a rule needs beyond this it re-reads from Jira."""

    webhook_event: str | None = Field(default=None, alias="webhookEvent")
    issue_event_type: str | None = Field(default=None, alias="issue_event_type_name")
    timestamp: int | None = None
    user: JiraUser | None = None
    issue: IssueRef | None = None
    changelog: Changelog | None = None
    comment: Comment | None = None
    worklog: dict[str, Any] | None = None
    issue_link: dict[str, Any] | None = Field(default=None, alias="issueLink")
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True, repr=False)

    @field_validator("timestamp", mode="before")
    @classmethod
    def _timestamp_as_int(cls, value: Any) -> Any:
        if isinstance(value, str) and value.isdigit():
            return int(value)
        return value

    @classmethod
    def from_http(
        cls,
        headers: Headers,
        body: bytes,
        *,
        secret: bytes | None,
        shared_token: bytes | None = None,
        allow_unsigned: bool = False,
        max_body_bytes: int | None = None,
        url_token: str | None = None,
    ) -> JiraEvent:
        """Check a delivery's size and credentials on the raw bytes, then decode and parse it.

        Raises PayloadTooLargeError (413), SignatureError (401) or PayloadError (400); nothing is
        decoded before the signature is checked.
        """
        if max_body_bytes is not None and len(body) > max_body_bytes:
            raise PayloadTooLargeError(f"the body is over the limit of {max_body_bytes} bytes")
        authenticate(
            headers,
            body,
            secret=secret,
            shared_token=shared_token,
            allow_unsigned=allow_unsigned,
            url_token=url_token,
        )
        event = parse_event(decode_body(body))
        if event.name.startswith(CROSSDEPT_EVENTS):
            raise PayloadError(f"{event.name} is crossdept's own event, never a Jira webhook")
        return event

    @property
    def name(self) -> str:
        """The event name; Automation bodies without `webhookEvent` count as issue updates."""
        return self.webhook_event or "jira:issue_updated"

    @property
    def actor(self) -> JiraUser | None:
        """Who caused the event: the `user`, or for comment events the comment's author."""
        if self.user is not None:
            return self.user
        if self.comment is not None:
            return self.comment.update_author or self.comment.author
        return None

    def caused_by(self, account: str | None) -> bool:
        """Say whether `account` (crossdept's own) caused this event, so it must be ignored.

        Cloud names users by accountId; Data Center by username, or by the older user key.
        """
        actor = self.actor
        if actor is None or not account:
            return False
        return account in (actor.account_id, actor.name, actor.key)

    @property
    def issue_key(self) -> str | None:
        """The issue's key, when the payload has one."""
        return self.issue.key if self.issue else None

    @property
    def issue_id(self) -> str | None:
        """The issue's id, from the issue, a worklog, or (old Server comments) the comment's URL."""
        if self.issue and self.issue.id:
            return self.issue.id
        if self.worklog and self.worklog.get("issueId") is not None:
            return str(self.worklog["issueId"])
        if self.comment and self.comment.self_url:
            match = _ISSUE_IN_URL.search(self.comment.self_url)
            if match:
                return match.group(1)
        return None


CROSSDEPT_EVENTS = "crossdept:"  # the prefix of the events only crossdept itself announces
ISSUE_CREATED_BY_CROSSDEPT = CROSSDEPT_EVENTS + "issue_created"
# News for the group robots: the one event crossdept stores as a delivery of its own, so it is
# sent through the queue like any job (retried, never twice). Received from outside, refused.
GROUP_NEWS = CROSSDEPT_EVENTS + "group_news"


def created_by_crossdept(key: str, *, on_behalf_of: str | None) -> JiraEvent:
    """The event other rules hear when one rule creates an issue from what people decided (a
    meeting's action): Jira's own webhook for it is ignored, as crossdept caused it."""
    return JiraEvent.model_validate(
        {
            "webhookEvent": ISSUE_CREATED_BY_CROSSDEPT,
            "issue": {"key": key},
            "user": {"accountId": on_behalf_of} if on_behalf_of else None,
        }
    )


def parse_event(data: Any) -> JiraEvent:
    """Turn a decoded JSON body into a JiraEvent, or refuse it with a reason a client can act on."""
    if not isinstance(data, dict):
        raise PayloadError("the body is not a JSON object")
    looks_like_jira = (
        "webhookEvent" in data or "issue" in data or ("fields" in data and "key" in data)
    )
    if not looks_like_jira:
        raise PayloadError("the body is not a Jira event: no webhookEvent and no issue")
    if "webhookEvent" not in data and "fields" in data and "key" in data:
        # Automation's "Issue data (Automation format)": the top level is the issue itself.
        data = {"issue": data, "changelog": data.get("changelog")}
    try:
        event = JiraEvent.model_validate(data)
    except ValidationError as error:
        raise PayloadError(f"the body is not a Jira event: {plain_reason(error)}") from error
    return event.model_copy(update={"raw": data})


# JSON's own names for what a field held, as a Jira admin reads them.
_JSON_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "true/false"),
    ((int, float), "a number"),
    (str, "text"),
    (list, "a list"),
    (dict, "an object"),
    (type(None), "null"),
)
# What a field must be, by the kind of check that refused it.
_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "list_type": "a list",
    "bool_type": "true or false",
}


def _json_kind(value: Any) -> str:
    for kinds, name in _JSON_KINDS:
        if isinstance(value, kinds):
            return name
    return type(value).__name__


def plain_reason(error: ValidationError) -> str:
    """Name the field and what was wrong with it in plain words, e.g. `issue.key must be text,
    not a number`, instead of the validation library's wording."""
    first = error.errors()[0]
    fields = {name: info.alias or name for name, info in JiraEvent.model_fields.items()}
    parts = [str(part) for part in first["loc"]]
    if parts:
        parts[0] = fields.get(parts[0], parts[0])
    where = ".".join(parts) or "the body"
    kind = first["type"]
    if kind == "missing":
        return f"{where} is missing"
    expected = _EXPECTED.get(kind)
    if expected is not None:
        return f"{where} must be {expected}, not {_json_kind(first.get('input'))}"
    return f"{where} holds a value Jira never sends ({_json_kind(first.get('input'))})"


def decode_body(body: bytes) -> Any:
    """Decode a delivery's JSON, refusing what is not JSON with a reason instead of an exception."""
    if not body.strip():
        raise PayloadError("the body is empty")
    try:
        # orjson: the body is decoded on every delivery, in the web and again in the worker.
        return orjson.loads(body)
    except (ValueError, RecursionError) as error:
        # orjson's JSONDecodeError is a ValueError: bad JSON or UTF-8, integers beyond 64 bits
        # (Jira sends none), nesting deeper than 1024.
        raise PayloadError(f"the body is not valid JSON: {_first_line(error)}") from error


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0][:200]


# Unique per delivery and the same across Jira Cloud's retries; absent on Data Center and Automation.
# https://developer.atlassian.com/cloud/jira/platform/webhooks/ (section on retries)
IDENTIFIER_HEADER = "X-Atlassian-Webhook-Identifier"
_IDENTIFIER = re.compile(r"[\x21-\x7e]{1,200}")


def delivery_key(headers: Headers, event: JiraEvent) -> str:
    """Return the key that makes a retried delivery a duplicate.

    Jira's own identifier when it sent one; otherwise a digest of what makes an event unique:
    name, issue, timestamp and the changelog/comment/worklog/link id (plus the whole body when
    there is no timestamp, as with Automation requests, so distinct requests stay distinct).
    """
    identifier = header_value(headers, IDENTIFIER_HEADER)
    if identifier is not None and identifier.strip():
        identifier = identifier.strip()
        if not _IDENTIFIER.fullmatch(identifier):
            raise PayloadError(f"the {IDENTIFIER_HEADER} header is not a delivery id")
        return identifier
    parts = [
        event.name,
        event.issue_event_type or "",
        event.issue_id or event.issue_key or "",
        "" if event.timestamp is None else str(event.timestamp),
        (event.changelog.id or "") if event.changelog else "",
        event.comment.id if event.comment else "",
        _any_id(event.worklog),
        _any_id(event.issue_link),
    ]
    if event.timestamp is None:
        parts.append(json.dumps(event.raw, sort_keys=True, separators=(",", ":"), default=str))
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()
    return "derived-" + digest[:40]


def _any_id(value: dict[str, Any] | None) -> str:
    return "" if not value or value.get("id") is None else str(value["id"])
