"""Compare what the rules need with what the site has: data in, findings out, one check per
concern, each finding naming the rules file's place and the fix."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from urllib.parse import urlsplit

from plugin.atlassian.site_admin import EPIC_NAME_TYPE, SiteProject
from plugin.doctor.findings import Finding
from plugin.doctor.needs import (
    PERMISSIONS,
    WEBHOOK_EVENTS,
    FieldKind,
    FieldNeed,
    SiteNeeds,
    StatusNeed,
    TypeNeed,
    WayBackNeed,
)
from plugin.doctor.survey import SiteFacts
from plugin.process.calendar import year_published

WEBHOOK_PATH = "/webhooks/jira"
# Where an administrator makes each fix: (Jira Cloud, Data Center).
WORKFLOWS_PAGE = ("Jira settings → Issues → Workflows", "Administration → Issues → Workflows")
FIELDS_PAGE = ("Jira settings → Issues → Custom fields", "Administration → Issues → Custom fields")
TYPES_PAGE = ("Jira settings → Issues → Issue types", "Administration → Issues → Issue types")
LEVELS = {"epic": 1, "standard": 0, "subtask": -1}


def diagnose(
    needs: SiteNeeds,
    facts: SiteFacts,
    *,
    now: datetime,
    public_url: str | None,
    robot_variables: frozenset[str] = frozenset(),
) -> list[Finding]:
    """Every check's findings, in the order an admin fixes them."""
    checks: list[Callable[[], list[Finding]]] = [
        lambda: check_connection(facts),
        lambda: check_projects(needs, facts),
        lambda: check_permissions(needs, facts),
        lambda: check_issue_types(needs, facts),
        lambda: check_fields(needs, facts),
        lambda: check_workflows(needs, facts),
        lambda: check_people(needs, facts),
        lambda: check_webhook(needs, facts, public_url),
        lambda: check_confluence(needs, facts),
        lambda: check_calendar(needs, now),
        lambda: check_group_robots(needs, robot_variables),
    ]
    return [finding for check in checks for finding in check()]


def _admin(facts: SiteFacts, cloud: str, data_center: str) -> str:
    return cloud if facts.cloud else data_center


def check_connection(facts: SiteFacts) -> list[Finding]:
    kind = "Jira Cloud" if facts.cloud else f"Jira Data Center {facts.version}".strip()
    who = facts.account_name or facts.account
    return [
        Finding(
            "connection",
            "pass",
            f"{facts.address} ({kind}), signed in as {who} ({facts.account})",
        )
    ]


def _present(needs: SiteNeeds, facts: SiteFacts) -> list[tuple[int, str, SiteProject]]:
    return [
        (index, key, project)
        for index, key in enumerate(needs.projects)
        if (project := facts.projects.get(key)) is not None
    ]


def check_projects(needs: SiteNeeds, facts: SiteFacts) -> list[Finding]:
    findings = []
    for index, key in enumerate(needs.projects):
        if facts.projects.get(key) is None:
            findings.append(
                Finding(
                    "projects",
                    "fail",
                    key,
                    "no such project, or crossdept's account may not browse it",
                    ("jira", "projects", index),
                    "create the project, or give crossdept's account Browse projects in it "
                    "(Project settings → Permissions), or correct the key",
                )
            )
        else:
            findings.append(Finding("projects", "pass", key))
    return findings


def check_permissions(needs: SiteNeeds, facts: SiteFacts) -> list[Finding]:
    findings = []
    for index, key, project in _present(needs, facts):
        lacking = [p for p in PERMISSIONS if not project.permissions.get(p)]
        if not lacking:
            findings.append(Finding("permissions", "pass", f"{key}: all {len(PERMISSIONS)}"))
        for permission in lacking:
            findings.append(
                Finding(
                    "permissions",
                    "fail",
                    f"{key}: {permission}",
                    f"crossdept's account lacks it, so it cannot {PERMISSIONS[permission]}",
                    ("jira", "projects", index),
                    f"Project settings → Permissions: grant {_title(permission)} to "
                    "crossdept's account (or a role or group it is in)",
                )
            )
    return findings


def _title(permission: str) -> str:
    return permission.replace("_", " ").capitalize()


def check_issue_types(needs: SiteNeeds, facts: SiteFacts) -> list[Finding]:
    findings = []
    for _index, key, project in _present(needs, facts):
        for need in needs.types:
            findings.append(_issue_type(need, key, project, facts))
    return findings


def _issue_type(need: TypeNeed, key: str, project: SiteProject, facts: SiteFacts) -> Finding:
    subject = f"{key}: {need.role} type {need.name}"
    found = project.types.get(need.name)
    if found is None:
        return Finding(
            "issue types",
            "fail",
            subject,
            f"the project has no such type (it has {', '.join(sorted(project.types))})",
            need.path,
            _admin(facts, *TYPES_PAGE)
            + f": create {need.name} ({need.level}) and add it to {key}'s issue type scheme, "
            "or name an existing type here",
        )
    wanted = LEVELS[need.level]
    level = found.level
    if level is None and need.level == "epic":
        return _data_center_epic(need, key, project, facts, subject)
    # Data Center reports only whether a type is a sub-task.
    wrong = level != wanted if level is not None else wanted == -1
    if wrong:
        shown = {1: "an epic-level", 0: "a standard", -1: "a sub-task"}[level or 0]
        return Finding(
            "issue types",
            "fail",
            subject,
            f"it is {shown} type; the tree needs a {need.level} type here",
            need.path,
            "name a type of the right level here, or "
            + _admin(
                facts,
                "change the type's level (Jira settings → Issues → Issue type hierarchy)",
                "create one of the right kind (Administration → Issues → Issue types; whether a "
                "type is a sub-task is chosen when it is created)",
            ),
        )
    return Finding("issue types", "pass", subject)


def _data_center_epic(
    need: TypeNeed, key: str, project: SiteProject, facts: SiteFacts, subject: str
) -> Finding:
    """On Data Center only Jira Software's Epic type can hold an epic's children (an Epic Link
    to any other issue is refused), and it alone has Epic Name on its create screen."""
    epic_names = {
        fid
        for fid, found in facts.fields.items()
        if (found.get("schema") or {}).get("custom") == EPIC_NAME_TYPE
    }
    screen = project.create_screens.get(need.name) or {}
    if epic_names & set(screen):
        return Finding("issue types", "pass", subject)
    fix = (
        "set jira.request.epic: create (crossdept then creates an Epic for each request and "
        "links it), or name the Epic type here"
        if need.role == "request"
        else "name Jira Software's Epic type here"
    )
    return Finding(
        "issue types",
        "fail",
        subject,
        "it is not an epic type (no Epic Name on its create screen), and on Data Center only an "
        "Epic can hold the stages through Epic Link",
        need.path,
        fix,
    )


# How each kind of field looks in GET /field's schema.
def _kind_of(schema: Mapping[str, object]) -> FieldKind | None:
    kind, items = schema.get("type"), schema.get("items")
    if kind == "option":
        return "select"
    if kind == "array" and items == "option":
        return "multiselect"
    if kind == "date":
        return "date"
    if kind == "datetime":
        return "datetime"
    if kind == "user":
        return "user"
    if kind == "array" and items == "user":
        return "users"
    if kind == "array" and items == "string":
        return "labels"
    return None


KIND_NAMES = {
    "select": "a single select list",
    "multiselect": "a multi select list",
    "date": "a date picker",
    "datetime": "a date time picker",
    "user": "a user picker (single user)",
    "users": "a user picker (multiple users)",
    "labels": "labels",
}


def check_fields(needs: SiteNeeds, facts: SiteFacts) -> list[Finding]:
    findings = []
    for need in needs.fields:
        finding = _field_kind(need, facts)
        findings.append(finding)
        if finding.status == "fail":
            continue
        for _index, key, project in _present(needs, facts):
            findings.append(_on_screen(need, key, project, facts))
    return findings


def _field_name(need: FieldNeed, facts: SiteFacts) -> str:
    found = facts.fields.get(need.field_id)
    return f"{need.field_id} ({found.get('name')})" if found else need.field_id


def _field_kind(need: FieldNeed, facts: SiteFacts) -> Finding:
    subject = f"{need.role} field {_field_name(need, facts)}"
    found = facts.fields.get(need.field_id)
    fields_page = _admin(facts, *FIELDS_PAGE)
    if found is None:
        return Finding(
            "fields",
            "fail",
            subject,
            "no such field",
            need.path,
            f"{fields_page}: create {KIND_NAMES[need.kind]}, then put its id "
            "(customfield_NNNNN) here",
        )
    kind = _kind_of(found.get("schema") or {})
    if kind != need.kind:
        shown = KIND_NAMES.get(kind or "", f"of type {(found.get('schema') or {}).get('type')}")
        return Finding(
            "fields",
            "fail",
            subject,
            f"it is {shown}; crossdept needs {KIND_NAMES[need.kind]}",
            need.path,
            f"name a field of the right type here, or create one ({fields_page})",
        )
    return Finding("fields", "pass", subject)


def _on_screen(need: FieldNeed, key: str, project: SiteProject, facts: SiteFacts) -> Finding:
    subject = (
        f"{key}: {need.role} field {_field_name(need, facts)} on the {need.screen_type} "
        f"{need.screen} screen"
    )
    if need.screen_type not in project.types:  # the issue types check says so
        return Finding("fields", "pass", subject, "not checked: the issue type is missing")
    if need.screen == "edit":
        screen = project.edit_screens.get(need.screen_type)
        if screen is None:
            return Finding(
                "fields",
                "warn",
                subject,
                f"not checked: {key} has no {need.screen_type} issue yet, and Jira shows an "
                "edit screen only for an issue",
                need.path,
                "run doctor again once crossdept has built a tree",
            )
    else:
        screen = project.create_screens.get(need.screen_type) or {}
    found = screen.get(need.field_id)
    if found is None:
        return Finding(
            "fields",
            "fail",
            subject,
            "not on the screen, so crossdept cannot set it when it "
            + ("creates the issue" if need.screen == "create" else "edits the issue"),
            need.path,
            f"Project settings → Issue types → {need.screen_type}: add the field to its "
            f"{need.screen} screen",
        )
    if need.options:
        missing = [option for option in need.options if option not in found.options]
        if missing:
            return Finding(
                "fields",
                "fail",
                subject,
                f"the options lack {', '.join(missing)} (departments with no option cannot be "
                "chosen)",
                ("departments", missing[0]),
                "crossdept setup --apply" if facts.cloud else options_by_hand(found.name, missing),
                by_setup=facts.cloud,
            )
        extra = [option for option in found.options if option not in need.options]
        if extra:
            return Finding(
                "fields",
                "warn",
                subject,
                f"options with no department in the rules: {', '.join(extra)} (a request "
                "naming one is refused until the department is added)",
                ("departments",),
            )
    return Finding("fields", "pass", subject)


def options_by_hand(field_name: str, missing: Sequence[str]) -> str:
    """Where a Data Center admin adds select options (its REST API cannot)."""
    return (
        f"Administration → Issues → Custom fields → {field_name} → Contexts and default value "
        f"→ Edit options: add {', '.join(missing)}"
    )


def check_workflows(needs: SiteNeeds, facts: SiteFacts) -> list[Finding]:
    findings = []
    for _index, key, project in _present(needs, facts):
        for need in needs.statuses:
            findings += _statuses(need, key, project, facts)
        if needs.way_back is not None:
            findings += _ways_back(needs.way_back, key, project, facts)
    return findings


def _ways_back(
    need: WayBackNeed, key: str, project: SiteProject, facts: SiteFacts
) -> list[Finding]:
    """Each in-progress status of the gated types can go back to a to-do status."""
    findings = []
    for type_name in dict.fromkeys(need.types):
        if type_name not in project.types:
            continue  # the issue types check says so
        subject = f"{key}: the stage gate's way back in the {type_name} workflow"
        graph = project.workflows.get(type_name)
        if graph is None:
            findings.append(
                Finding(
                    "workflows",
                    "warn",
                    subject,
                    "not checked: this Jira's REST API does not describe transitions",
                    need.path,
                    f"check by hand that every in-progress status of the {type_name} workflow "
                    "has a transition back to a to-do status; where one has none, the gate "
                    "warns instead of moving the item back",
                )
            )
            continue
        to_do = {name for name, category in graph.statuses.items() if category == "new"}
        stuck = [
            name
            for name, category in graph.statuses.items()
            if category == "indeterminate" and not graph.ways_out(name) & to_do
        ]
        if not stuck:
            findings.append(Finding("workflows", "pass", subject))
            continue
        findings.append(
            Finding(
                "workflows",
                "fail",
                subject,
                f"no transition from {', '.join(stuck)} back to {' / '.join(sorted(to_do)) or 'a to-do status'}, "
                "so an item started too early cannot be moved back (the gate only warns)",
                need.path,
                f"add a transition back to the {type_name} workflow ("
                + _admin(facts, *WORKFLOWS_PAGE)
                + "), or set ownership.stage_gate: warn",
            )
        )
    return findings


def _statuses(need: StatusNeed, key: str, project: SiteProject, facts: SiteFacts) -> list[Finding]:
    findings = []
    for type_name in dict.fromkeys(need.types):
        statuses = project.statuses.get(type_name)
        subject = f"{key}: {need.role} status {' / '.join(need.names)} for {type_name}"
        if statuses is None:
            continue  # the type is missing: the issue types check says so
        found = [name for name in need.names if name in statuses]
        if found or (need.done and "done" in statuses.values()):
            findings.append(Finding("workflows", "pass", subject))
            continue
        findings.append(
            Finding(
                "workflows",
                "fail",
                subject,
                f"the {type_name} workflow has {', '.join(statuses)}",
                need.path,
                f"name one of those statuses here, or add the status to the {type_name} "
                "workflow (" + _admin(facts, *WORKFLOWS_PAGE) + ")",
            )
        )
    return findings


def check_people(needs: SiteNeeds, facts: SiteFacts) -> list[Finding]:
    findings = []
    for person in needs.people:
        where = f" of {person.department}" if person.department else ""
        subject = f"{person.role}{where}: {person.account}"
        if person.account not in facts.missing_people:
            findings.append(Finding("people", "pass", subject))
            continue
        consequence = ""
        if person.role == "head":
            consequence = (
                f"; {person.department} is left without a head (sign-offs and "
                "escalations reach no one)"
            )
        findings.append(
            Finding(
                "people",
                "fail",
                subject,
                "Jira does not know this person, or knows them as inactive (left)" + consequence,
                person.path,
                "name the person who holds the role now ("
                + _admin(facts, "an account id", "a username")
                + "), then run `crossdept check-config`",
            )
        )
    return findings


def check_webhook(needs: SiteNeeds, facts: SiteFacts, public_url: str | None) -> list[Finding]:
    page = _admin(
        facts,
        "Jira settings → System → WebHooks (/plugins/servlet/webhooks)",
        "Administration → System → WebHooks (/plugins/servlet/webhooks)",
    )
    if facts.webhooks.unreadable:
        return [
            Finding(
                "webhook",
                "warn",
                "not read",
                "crossdept's account is no Jira administrator, so it cannot read webhooks "
                f"({facts.webhooks.unreadable})",
                None,
                f"check by hand in {page}: one webhook to "
                f"{_receiver(public_url)} with issue created/updated/deleted and comment "
                f"created/updated/deleted, JQL {project_jql(needs.projects)}",
            )
        ]
    ours = [w for w in facts.webhooks.registered if _points_here(str(w.get("url", "")), public_url)]
    if not ours:
        fix = (
            "crossdept setup --apply"
            if public_url
            else (
                "set CROSSDEPT_PUBLIC_URL to the address Jira reaches crossdept at, then "
                "`crossdept setup --apply`"
            )
        )
        return [
            Finding(
                "webhook",
                "fail",
                f"to {_receiver(public_url)}",
                "no webhook sends events to crossdept, so no rule ever fires",
                None,
                fix,
                by_setup=bool(public_url),
            )
        ]
    findings = []
    for webhook in ours:
        subject = f"{webhook.get('name')} to {shown_url(str(webhook.get('url', '')))}"
        if webhook.get("enabled") is False:
            findings.append(
                Finding("webhook", "fail", subject, "disabled", None, f"enable it in {page}")
            )
            continue
        missing = [e for e in WEBHOOK_EVENTS if e not in (webhook.get("events") or [])]
        if missing:
            findings.append(
                Finding(
                    "webhook",
                    "fail",
                    subject,
                    f"does not send {', '.join(missing)}",
                    None,
                    f"{page}: edit the webhook and tick {', '.join(missing)}",
                )
            )
            continue
        jql = str((webhook.get("filters") or {}).get("issue-related-events-section") or "")
        uncovered = [key for key in needs.projects if not jql_covers(jql, key)]
        if uncovered:
            findings.append(
                Finding(
                    "webhook",
                    "fail",
                    subject,
                    f"its JQL ({jql}) leaves out {', '.join(uncovered)}",
                    ("jira", "projects"),
                    f"{page}: set its JQL to {project_jql(needs.projects)}",
                )
            )
            continue
        findings.append(Finding("webhook", "pass", subject))
    return findings


def shown_url(url: str) -> str:
    """A webhook's address without its query, which may hold CROSSDEPT_SHARED_TOKEN."""
    return url.split("?", 1)[0] + (" (with a query)" if "?" in url else "")


def _receiver(public_url: str | None) -> str:
    return (public_url.rstrip("/") if public_url else "https://<crossdept>") + WEBHOOK_PATH


def _points_here(url: str, public_url: str | None) -> bool:
    """A webhook to crossdept's receiver: the public address when known, else any URL whose
    path is the receiver's."""
    parts = urlsplit(url)
    if public_url:
        base = urlsplit(public_url.rstrip("/"))
        return (parts.scheme, parts.netloc.lower(), parts.path.rstrip("/")) == (
            base.scheme,
            base.netloc.lower(),
            base.path.rstrip("/") + WEBHOOK_PATH,
        )
    return parts.path.rstrip("/").endswith(WEBHOOK_PATH)


def project_jql(projects: tuple[str, ...]) -> str:
    """The webhook JQL covering exactly the projects under enforcement."""
    if len(projects) == 1:
        return f"project = {projects[0]}"
    return f"project in ({', '.join(projects)})"


def jql_covers(jql: str, project: str) -> bool:
    """Whether a webhook's JQL lets a project's events through: none at all, or a `project =`
    / `project in (...)` clause naming it (the only shapes setup and the README write)."""
    if not jql.strip():
        return True
    for clause in re.finditer(r"project\s*(=|in)\s*(\([^)]*\)|\S+)", jql, re.IGNORECASE):
        named = re.findall(r"[\w-]+", clause.group(2))
        if project.upper() in (name.strip('"').upper() for name in named):
            return True
    return False


def check_confluence(needs: SiteNeeds, facts: SiteFacts) -> list[Finding]:
    if needs.space is None:
        return []
    if facts.confluence_error:
        return [
            Finding(
                "confluence",
                "fail",
                f"space {needs.space}",
                facts.confluence_error,
                ("confluence", "space"),
                "check CROSSDEPT_CONFLUENCE_URL and its login",
            )
        ]
    if facts.space is None:
        return [
            Finding(
                "confluence",
                "warn",
                f"space {needs.space}",
                "CROSSDEPT_CONFLUENCE_URL is not set, so minutes and weekly pages are not "
                "published",
                ("confluence",),
                "set CROSSDEPT_CONFLUENCE_URL and its login",
            )
        ]
    if not facts.space:
        return [
            Finding(
                "confluence",
                "fail",
                f"space {needs.space}",
                "no such space, or crossdept's account may not see it",
                ("confluence", "space"),
                "create the space, or give crossdept's account View and Add page in its space "
                "settings (Space settings → Permissions), or correct the key",
            )
        ]
    findings = [Finding("confluence", "pass", f"space {needs.space}")]
    for need in needs.pages:
        page = facts.pages.get(need.title)
        subject = f"page {need.title} in {needs.space}"
        if page is None:
            findings.append(
                Finding(
                    "confluence",
                    "fail",
                    subject,
                    "no such page",
                    need.path,
                    "crossdept setup --apply",
                    by_setup=True,
                )
            )
            continue
        edit = facts.may_edit.get(need.title)
        if edit is False:
            findings.append(
                Finding(
                    "confluence",
                    "fail",
                    subject,
                    "crossdept's account may not edit it",
                    need.path,
                    "Space settings → Permissions: give crossdept's account Add "
                    "page and Edit; and lift any restriction on the page",
                )
            )
        elif edit is None:
            findings.append(
                Finding(
                    "confluence",
                    "warn",
                    subject,
                    "this Confluence cannot say whether "
                    "crossdept may edit it (no permission check resource)",
                    need.path,
                    "check by hand that crossdept's account has Add page in the space",
                )
            )
        else:
            findings.append(Finding("confluence", "pass", subject))
    for group in needs.groups:
        subject = f"group {group.name} ({group.department}) in Confluence"
        if facts.groups is None or group.name in facts.groups:
            findings.append(Finding("confluence", "pass", subject))
            continue
        findings.append(
            Finding(
                "confluence",
                "warn",
                subject,
                "no such group: the pages of requests it takes part in are not restricted",
                group.path,
                "create the group in Confluence (or in the user directory it reads) with the "
                "department's people, or correct its name here",
            )
        )
    return findings


def check_calendar(needs: SiteNeeds, now: datetime) -> list[Finding]:
    if needs.holidays is None:
        return [Finding("calendar", "pass", "no public holidays (calendar.holidays: null)")]
    findings = []
    years = [(now.year, "fail")] + ([(now.year + 1, "warn")] if now.month == 12 else [])
    for year, severity in years:
        subject = f"{needs.holidays} {year}"
        if year in needs.extra_days or year_published(needs.holidays, year):
            findings.append(Finding("calendar", "pass", subject))
            continue
        findings.append(
            Finding(
                "calendar",
                severity,  # type: ignore[arg-type]
                subject,
                f"the holidays library does not know {year}'s arrangement yet (days off and "
                "working weekends), so due dates would count its moved days wrongly",
                ("calendar", "holidays"),
                "upgrade it (pip install -U holidays) once it has the year, or list the year's "
                "days off and working weekends in calendar.extra_holidays / extra_workdays",
            )
        )
    return findings


def check_group_robots(needs: SiteNeeds, robot_variables: frozenset[str]) -> list[Finding]:
    """Each group robot's address (and secret) is in the environment, by the names the file gives.

    Only their presence: `crossdept notify test CHANNEL` posts, so the admin sees it arrive."""
    findings = []
    for robot in needs.robots:
        missing = [name for name in robot.variables if name not in robot_variables]
        if not missing:
            findings.append(Finding("group robots", "pass", robot.channel))
            continue
        findings.append(
            Finding(
                "group robots",
                "fail",
                robot.channel,
                f"{', '.join(missing)} not set: its group messages would fail",
                robot.path,
                f"set {', '.join(missing)} in crossdept's environment (the robot's webhook "
                f"address, or its signing secret), then `crossdept notify test {robot.channel}`",
            )
        )
    return findings
