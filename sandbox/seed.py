"""The sandbox's starting world (users, projects, workflows, fields), read from YAML or a dict."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ruamel.yaml import YAML

Flavour = Literal["cloud", "datacenter"]

# The shipped starting worlds: the same people and projects as Jira Cloud and as Data Center.
SEEDS: dict[Flavour, Path] = {
    "cloud": Path(__file__).resolve().parent / "seeds" / "cloud.yaml",
    "datacenter": Path(__file__).resolve().parent / "seeds" / "datacenter.yaml",
}
CategoryKey = Literal["new", "indeterminate", "done"]

FIELD_TYPES = (
    "text",
    "textarea",
    "select",
    "multiselect",
    "datepicker",
    "datetime",
    "userpicker",
    "multiuserpicker",
    "labels",
    "epiclink",
    "epicname",
)

# The project permissions a user may hold (Jira's built-in keys); a seed that names none for a user
# gives every one of them. https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-permissions/#built-in-permissions
PROJECT_PERMISSIONS = (
    "BROWSE_PROJECTS",
    "CREATE_ISSUES",
    "EDIT_ISSUES",
    "ASSIGN_ISSUES",
    "ASSIGNABLE_USER",
    "SCHEDULE_ISSUES",
    "TRANSITION_ISSUES",
    "RESOLVE_ISSUES",
    "CLOSE_ISSUES",
    "ADD_COMMENTS",
    "EDIT_OWN_COMMENTS",
    "EDIT_ALL_COMMENTS",
    "DELETE_OWN_COMMENTS",
    "LINK_ISSUES",
    "DELETE_ISSUES",
)

# Jira's own status categories: https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-workflow-status-categories/
STATUS_CATEGORIES: dict[str, dict[str, Any]] = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {
        "id": 4,
        "key": "indeterminate",
        "colorName": "yellow",
        "name": "In Progress",
    },
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}


class SeedError(ValueError):
    """A seed that cannot describe a consistent Jira; the message names the path of the bad entry."""


@dataclass(frozen=True)
class SeedUser:
    """One account; `login` is the Data Center username, `account_id` the Cloud id."""

    login: str
    account_id: str
    display_name: str
    email: str
    user_key: str
    active: bool = True


@dataclass(frozen=True)
class SeedStatus:
    """A workflow status with its global id and category."""

    id: str
    name: str
    category: CategoryKey


@dataclass(frozen=True)
class SeedTransition:
    """A workflow transition; an empty `sources` means it is available from every status."""

    id: str
    name: str
    to: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class SeedWorkflow:
    """Statuses (the first is the initial one) and the transitions between them."""

    name: str
    statuses: tuple[str, ...]
    transitions: tuple[SeedTransition, ...]


@dataclass(frozen=True)
class SeedIssueType:
    """An issue type of one project, with its place in the hierarchy and its workflow."""

    id: str
    name: str
    hierarchy_level: int
    subtask: bool
    workflow: str
    required_fields: tuple[str, ...] = ()
    description: str = ""
    # Fields left off this type's screens: not offered by create or edit meta, refused when set.
    hidden_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeedProject:
    """A project and the issue types it offers."""

    id: str
    key: str
    name: str
    lead: str
    issue_types: tuple[SeedIssueType, ...]


@dataclass(frozen=True)
class SeedOption:
    """One allowed value of a select field."""

    id: str
    value: str


@dataclass(frozen=True)
class SeedField:
    """A custom field; `type` is one of FIELD_TYPES."""

    id: str
    name: str
    type: str
    options: tuple[SeedOption, ...] = ()

    @property
    def number(self) -> str:
        """The numeric part JQL uses in `cf[N]`."""
        return self.id.removeprefix("customfield_")


@dataclass(frozen=True)
class Seed:
    """Everything the sandbox starts from."""

    flavour: Flavour
    timezone: ZoneInfo
    server_title: str
    version: str
    users: tuple[SeedUser, ...]
    tokens: Mapping[str, str]  # Data Center personal access token -> login
    statuses: Mapping[str, SeedStatus]  # by name
    workflows: Mapping[str, SeedWorkflow]
    projects: tuple[SeedProject, ...]
    fields: tuple[SeedField, ...]
    confluence_spaces: tuple[Mapping[str, Any], ...] = ()
    confluence_groups: Mapping[str, frozenset[str]] = field(default_factory=dict)  # name -> logins
    webhook_events: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)
    # Project permissions by login, where the seed restricts someone (else every permission).
    permissions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Jira administrators (they alone may read and register webhooks).
    admins: frozenset[str] = frozenset()
    # Webhooks registered before the sandbox starts: name, url, events, jql.
    webhooks: tuple[Mapping[str, Any], ...] = ()

    def may(self, login: str, permission: str) -> bool:
        """Whether `login` holds a project permission in every project of the seed."""
        granted = self.permissions.get(login)
        return granted is None or permission in granted

    @property
    def is_cloud(self) -> bool:
        """Whether the seed describes Jira Cloud (else Data Center)."""
        return self.flavour == "cloud"


DEFAULT_WEBHOOK_EVENTS = (
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
    "comment_deleted",
)


def load_seed(source: str | Path | Mapping[str, Any]) -> Seed:
    """Read a seed from a YAML file path or an already-parsed mapping."""
    if isinstance(source, Mapping):
        return parse_seed(source, origin="<seed>")
    path = Path(source)
    yaml = YAML(typ="safe")
    try:
        data = yaml.load(io.StringIO(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise SeedError(f"{path}: cannot read the seed: {exc}") from exc
    if not isinstance(data, Mapping):
        raise SeedError(f"{path}: the seed must be a mapping")
    return parse_seed(data, origin=str(path))


def _need(data: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        raise SeedError(f"{where}.{key}: required, expected {_kind_name(kind)}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    if isinstance(kind, tuple):
        return " or ".join(k.__name__ for k in kind)
    return kind.__name__


def _list(data: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise SeedError(f"{where}.{key}: expected a list")
    return value


def parse_seed(data: Mapping[str, Any], *, origin: str) -> Seed:
    """Check a parsed seed and build the immutable Seed; errors read `origin: path: message`."""
    where = origin + ": "
    flavour = data.get("deployment", "cloud")
    if flavour not in ("cloud", "datacenter"):
        raise SeedError(f"{where}deployment: must be 'cloud' or 'datacenter', not {flavour!r}")
    try:
        timezone = ZoneInfo(str(data.get("timezone", "Asia/Shanghai")))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SeedError(f"{where}timezone: unknown time zone {data.get('timezone')!r}") from exc
    users = _parse_users(data, where)
    statuses, workflows = _parse_workflows(data, where)
    fields = _parse_fields(data, where)
    events = data.get("webhook_events", list(DEFAULT_WEBHOOK_EVENTS))
    if not isinstance(events, Sequence) or isinstance(events, str):
        raise SeedError(f"{where}webhook_events: expected a list")
    return Seed(
        flavour=flavour,
        timezone=timezone,
        server_title=str(data.get("title", "crossdept sandbox")),
        version=str(data.get("version", "1001.0.0-SNAPSHOT" if flavour == "cloud" else "9.12.15")),
        users=users,
        tokens=_parse_tokens(data, where, {user.login for user in users}),
        statuses=statuses,
        workflows=workflows,
        projects=_parse_projects(data, where, users, workflows, {f.id for f in fields}),
        fields=fields,
        confluence_spaces=_parse_spaces(data, where),
        confluence_groups=_parse_groups(data, where, {user.login for user in users}),
        webhook_events=tuple(str(e) for e in events),
        raw=data,
        permissions=_parse_permissions(data, where, {user.login for user in users}),
        admins=frozenset(_logins(data, "admins", where, {user.login for user in users})),
        webhooks=tuple(dict(w) for w in _list(data, "registered_webhooks", where + "seed")),
    )


def _logins(data: Mapping[str, Any], key: str, where: str, logins: set[str]) -> list[str]:
    found = [str(login) for login in _list(data, key, where + "seed")]
    for login in found:
        if login not in logins:
            raise SeedError(f"{where}{key}: no seed user {login!r}")
    return found


def _parse_permissions(
    data: Mapping[str, Any], where: str, logins: set[str]
) -> dict[str, frozenset[str]]:
    """`permissions: {login: [KEY, ...]}`: what those people hold; everyone else holds all."""
    raw = data.get("permissions", {}) or {}
    if not isinstance(raw, Mapping):
        raise SeedError(f"{where}permissions: expected a mapping of login to permission keys")
    found: dict[str, frozenset[str]] = {}
    for login, keys in raw.items():
        if login not in logins:
            raise SeedError(f"{where}permissions: no seed user {login!r}")
        unknown = [k for k in keys or [] if k not in PROJECT_PERMISSIONS]
        if unknown:
            raise SeedError(f"{where}permissions.{login}: unknown permission {unknown[0]!r}")
        found[str(login)] = frozenset(str(k) for k in keys or [])
    return found


def _parse_users(data: Mapping[str, Any], where: str) -> tuple[SeedUser, ...]:
    users = tuple(
        _parse_user(u, f"{where}users[{i}]", i)
        for i, u in enumerate(_list(data, "users", where + "seed"))
    )
    if len({u.login for u in users}) != len(users):
        raise SeedError(f"{where}users: logins must be unique")
    return users


def _parse_tokens(data: Mapping[str, Any], where: str, logins: set[str]) -> dict[str, str]:
    """Personal access tokens (Data Center) by the user they log in."""
    tokens: dict[str, str] = {}
    for i, entry in enumerate(_list(data, "tokens", where + "seed")):
        at = f"{where}tokens[{i}]"
        if not isinstance(entry, Mapping):
            raise SeedError(f"{at}: expected a mapping with token and user")
        token = _need(entry, "token", at, str)
        user = _need(entry, "user", at, str)
        if user not in logins:
            raise SeedError(f"{at}.user: no seed user {user!r}")
        tokens[token] = user
    return tokens


def _parse_workflows(
    data: Mapping[str, Any], where: str
) -> tuple[dict[str, SeedStatus], dict[str, SeedWorkflow]]:
    """Every workflow with its statuses and transitions; a status is one across workflows."""
    statuses: dict[str, SeedStatus] = {}
    workflows: dict[str, SeedWorkflow] = {}
    raw_workflows = data.get("workflows", {})
    if not isinstance(raw_workflows, Mapping) or not raw_workflows:
        raise SeedError(f"{where}workflows: required, a mapping of workflow name to statuses")
    transition_numbers = itertools.count(11, 10)
    for wf_name, wf in raw_workflows.items():
        at = f"{where}workflows.{wf_name}"
        if not isinstance(wf, Mapping):
            raise SeedError(f"{at}: expected a mapping")
        names = _parse_statuses(wf, at, statuses)
        transitions = tuple(
            _parse_transition(tr, f"{at}.transitions[{j}]", names, next(transition_numbers))
            for j, tr in enumerate(_list(wf, "transitions", at))
        )
        workflows[str(wf_name)] = SeedWorkflow(str(wf_name), tuple(names), transitions)
    return statuses, workflows


def _parse_statuses(
    workflow: Mapping[str, Any], at: str, statuses: dict[str, SeedStatus]
) -> list[str]:
    """One workflow's status names, adding each new status to `statuses`."""
    names: list[str] = []
    for j, st in enumerate(_list(workflow, "statuses", at)):
        sat = f"{at}.statuses[{j}]"
        if not isinstance(st, Mapping):
            raise SeedError(f"{sat}: expected a mapping with name and category")
        name = _need(st, "name", sat, str)
        category = st.get("category")
        if category not in STATUS_CATEGORIES:
            raise SeedError(f"{sat}.category: must be one of new, indeterminate, done")
        known = statuses.get(name)
        if known is None:
            statuses[name] = SeedStatus(str(10000 + len(statuses)), name, category)
        elif known.category != category:
            raise SeedError(
                f"{sat}.category: status {name!r} already has category {known.category}"
            )
        names.append(name)
    if not names:
        raise SeedError(f"{at}.statuses: at least one status is required")
    return names


def _parse_transition(entry: Any, at: str, names: list[str], number: int) -> SeedTransition:
    if not isinstance(entry, Mapping):
        raise SeedError(f"{at}: expected a mapping with to (and from, name)")
    to = _need(entry, "to", at, str)
    if to not in names:
        raise SeedError(f"{at}.to: {to!r} is not a status of this workflow")
    sources = entry.get("from", "any")
    if sources == "any":
        source_list: tuple[str, ...] = ()
    elif isinstance(sources, list) and all(s in names for s in sources):
        source_list = tuple(sources)
    else:
        raise SeedError(f"{at}.from: 'any' or a list of this workflow's statuses")
    return SeedTransition(str(entry.get("id", number)), str(entry.get("name", to)), to, source_list)


def _parse_fields(data: Mapping[str, Any], where: str) -> tuple[SeedField, ...]:
    """The custom fields, their select options numbered as Jira numbers them."""
    fields: list[SeedField] = []
    option_numbers = itertools.count(10100)
    for i, f in enumerate(_list(data, "fields", where + "seed")):
        at = f"{where}fields[{i}]"
        if not isinstance(f, Mapping):
            raise SeedError(f"{at}: expected a mapping")
        fid = _need(f, "id", at, str)
        if not fid.startswith("customfield_") or not fid.removeprefix("customfield_").isdigit():
            raise SeedError(f"{at}.id: must look like customfield_10050")
        ftype = _need(f, "type", at, str)
        if ftype not in FIELD_TYPES:
            raise SeedError(f"{at}.type: must be one of {', '.join(FIELD_TYPES)}")
        options = tuple(
            SeedOption(str(next(option_numbers)), str(value)) for value in _list(f, "options", at)
        )
        if ftype in ("select", "multiselect") and not options:
            raise SeedError(f"{at}.options: a select field needs options")
        fields.append(SeedField(fid, _need(f, "name", at, str), ftype, options))
    return tuple(fields)


def _parse_projects(
    data: Mapping[str, Any],
    where: str,
    users: tuple[SeedUser, ...],
    workflows: Mapping[str, SeedWorkflow],
    field_ids: set[str],
) -> tuple[SeedProject, ...]:
    """The projects and their issue types, each type on a known workflow."""
    projects: list[SeedProject] = []
    type_numbers = itertools.count(10000)
    logins = {u.login for u in users}
    for i, p in enumerate(_list(data, "projects", where + "seed")):
        at = f"{where}projects[{i}]"
        if not isinstance(p, Mapping):
            raise SeedError(f"{at}: expected a mapping")
        lead = str(p.get("lead", users[0].login if users else ""))
        if lead not in logins:
            raise SeedError(f"{at}.lead: no seed user {lead!r}")
        issue_types = tuple(
            _parse_issue_type(t, f"{at}.issue_types[{j}]", workflows, field_ids, type_numbers)
            for j, t in enumerate(_list(p, "issue_types", at))
        )
        if not issue_types:
            raise SeedError(f"{at}.issue_types: at least one issue type is required")
        projects.append(
            SeedProject(
                id=str(p.get("id", 10000 + i)),
                key=_need(p, "key", at, str),
                name=_need(p, "name", at, str),
                lead=lead,
                issue_types=issue_types,
            )
        )
    return tuple(projects)


def _parse_issue_type(
    entry: Any,
    at: str,
    workflows: Mapping[str, SeedWorkflow],
    field_ids: set[str],
    numbers: Iterator[int],
) -> SeedIssueType:
    if not isinstance(entry, Mapping):
        raise SeedError(f"{at}: expected a mapping")
    wf_name = _need(entry, "workflow", at, str)
    if wf_name not in workflows:
        raise SeedError(f"{at}.workflow: no workflow {wf_name!r}")
    level = entry.get("hierarchy_level", 0)
    if level not in (-1, 0, 1):
        raise SeedError(f"{at}.hierarchy_level: must be -1, 0 or 1")
    required = tuple(str(r) for r in entry.get("required_fields", []))
    for r in required:
        if r not in field_ids:
            raise SeedError(f"{at}.required_fields: no custom field {r!r}")
    number = next(numbers)
    return SeedIssueType(
        id=str(entry.get("id", number)),
        name=_need(entry, "name", at, str),
        hierarchy_level=int(level),
        subtask=level == -1,
        workflow=wf_name,
        required_fields=required,
        description=str(entry.get("description", "")),
        hidden_fields=tuple(str(h) for h in entry.get("hidden_fields", [])),
    )


def _parse_groups(
    data: Mapping[str, Any], where: str, logins: set[str]
) -> dict[str, frozenset[str]]:
    """The Confluence site's groups and their members (logins)."""
    confluence = data.get("confluence", {}) or {}
    raw = confluence.get("groups") or {}
    if not isinstance(raw, Mapping):
        raise SeedError(f"{where}confluence.groups: a mapping of group name to logins")
    groups = {}
    for name, members in raw.items():
        unknown = [m for m in members or () if m not in logins]
        if unknown:
            raise SeedError(f"{where}confluence.groups.{name}: unknown logins {unknown}")
        groups[str(name)] = frozenset(str(m) for m in members or ())
    return groups


def _parse_spaces(data: Mapping[str, Any], where: str) -> tuple[dict[str, Any], ...]:
    """The Confluence spaces the sandbox serves."""
    confluence = data.get("confluence", {}) or {}
    spaces = tuple(dict(s) for s in _list(confluence, "spaces", where + "confluence"))
    for i, s in enumerate(spaces):
        for key in ("key", "name", "id"):
            if not isinstance(s.get(key), str):
                raise SeedError(f"{where}confluence.spaces[{i}].{key}: required string")
    return spaces


def _parse_user(entry: Any, at: str, index: int) -> SeedUser:
    if not isinstance(entry, Mapping):
        raise SeedError(f"{at}: expected a mapping")
    login = _need(entry, "login", at, str)
    return SeedUser(
        login=login,
        account_id=_need(entry, "account_id", at, str),
        display_name=_need(entry, "display_name", at, str),
        email=str(entry.get("email", f"{login}@example.com")),
        # Data Center 8+ gives new users keys like JIRAUSER10100, distinct from the username.
        user_key=str(entry.get("key", f"JIRAUSER{10100 + index}")),
        active=bool(entry.get("active", True)),
    )
