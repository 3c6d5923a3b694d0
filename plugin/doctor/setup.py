"""What `crossdept setup` may change on a site: only additions that are safe to make and easy to
undo (select options, the webhook, Confluence parent pages). It never deletes, renames, edits an
existing webhook or touches a workflow; what it may not do it names as a step by hand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from plugin.atlassian.ports import Page
from plugin.doctor.checks import WEBHOOK_PATH, options_by_hand, project_jql
from plugin.doctor.needs import WEBHOOK_EVENTS, SiteNeeds
from plugin.doctor.survey import SiteFacts
from plugin.spine.errors import GatewayError

WEBHOOK_NAME = "crossdept"

# The first lines of a parent page crossdept creates, in the rules' language.
PAGE_BODY = {
    "zh-CN": "<p>本页下的页面由 crossdept 发布（会议纪要、周报），请勿手动修改其标题。</p>",
    "en": "<p>The pages under this one are published by crossdept (minutes, weekly reports); "
    "please keep their titles as they are.</p>",
}


@dataclass(frozen=True)
class Change:
    """One addition setup makes, and what it says before making it."""

    kind: Literal["options", "webhook", "page"]
    says: str
    field_id: str = ""
    values: tuple[str, ...] = ()
    registration: Mapping[str, Any] = field(default_factory=dict)
    space: str = ""
    title: str = ""
    body: str = ""


@dataclass(frozen=True)
class Plan:
    """The changes setup would make, and the steps it leaves to an admin."""

    changes: tuple[Change, ...]
    by_hand: tuple[str, ...]


@dataclass(frozen=True)
class WebhookAccess:
    """How Jira proves to crossdept that a delivery is its own (from the settings)."""

    public_url: str | None
    secret: str | None  # CROSSDEPT_WEBHOOK_SECRET
    shared_token: str | None  # CROSSDEPT_SHARED_TOKEN, for a Jira whose webhooks cannot sign


def plan_setup(needs: SiteNeeds, facts: SiteFacts, access: WebhookAccess, *, language: str) -> Plan:
    """The additions that would make the site match the rules, from one survey."""
    changes: list[Change] = []
    by_hand: list[str] = []
    for field_id, name, missing in _missing_options(needs, facts):
        if facts.cloud:
            changes.append(
                Change(
                    "options",
                    f"add options {', '.join(missing)} to {name} ({field_id})",
                    field_id=field_id,
                    values=missing,
                )
            )
        else:
            # Data Center 11.3's REST description reads options but has no call to add one
            # (jira.js src/server/api/issueFields.ts, issueCustomFieldOptions.ts).
            by_hand.append(
                options_by_hand(name, missing) + " (Data Center's REST API cannot add options)"
            )
    webhook = _webhook_change(needs, facts, access)
    if isinstance(webhook, Change):
        changes.append(webhook)
    elif webhook:
        by_hand.append(webhook)
    if needs.space is not None and facts.space:
        for need in needs.pages:
            if facts.pages.get(need.title) is None:
                changes.append(
                    Change(
                        "page",
                        f"create the page {need.title} at the top of space {needs.space}",
                        space=needs.space,
                        title=need.title,
                        body=PAGE_BODY.get(language, PAGE_BODY["en"]),
                    )
                )
    return Plan(tuple(changes), tuple(by_hand))


def _missing_options(needs: SiteNeeds, facts: SiteFacts) -> list[tuple[str, str, tuple[str, ...]]]:
    """Each select field with department options missing on some project's create screen."""
    found: dict[str, tuple[str, list[str]]] = {}
    for need in needs.fields:
        if not need.options:
            continue
        for project in facts.projects.values():
            screen = (project.create_screens if project else {}).get(need.screen_type) or {}
            on_screen = screen.get(need.field_id)
            if on_screen is None:
                continue
            name, missing = found.setdefault(need.field_id, (on_screen.name, []))
            missing += [o for o in need.options if o not in on_screen.options and o not in missing]
    return [(fid, name, tuple(missing)) for fid, (name, missing) in found.items() if missing]


def _webhook_change(needs: SiteNeeds, facts: SiteFacts, access: WebhookAccess) -> Change | str:
    """The webhook to register, the step by hand instead, or "" when one is there already."""
    if access.public_url is None:
        return (
            "set CROSSDEPT_PUBLIC_URL to the address Jira reaches crossdept at, and run setup "
            "again to register the webhook"
        )
    url = access.public_url.rstrip("/") + WEBHOOK_PATH
    if facts.webhooks.unreadable:
        return (
            f"register the webhook by hand (crossdept's account is no Jira administrator): URL "
            f"{url}, events {', '.join(WEBHOOK_EVENTS)}, JQL {project_jql(needs.projects)}"
        )
    if any(
        str(w.get("url", "")).split("?")[0].rstrip("/") == url for w in facts.webhooks.registered
    ):
        return ""  # there already; doctor says what is wrong with it, setup never edits one
    registration: dict[str, Any] = {
        "name": WEBHOOK_NAME,
        "url": url,
        "events": list(WEBHOOK_EVENTS),
        "filters": {"issue-related-events-section": project_jql(needs.projects)},
        "excludeBody": False,
    }
    says = f"register the webhook {WEBHOOK_NAME} to {url} ({project_jql(needs.projects)})"
    if facts.cloud:
        if access.secret:
            registration["secret"] = access.secret
            says += ", signed with CROSSDEPT_WEBHOOK_SECRET"
    elif _major(facts.version) < 10:
        # Server / Data Center 8.x and 9.x webhooks cannot sign: the URL carries the token.
        if not access.shared_token:
            return (
                f"this Jira ({facts.version}) cannot sign webhooks: set "
                "CROSSDEPT_ALLOW_UNSIGNED=true and CROSSDEPT_SHARED_TOKEN, then run setup again "
                "to register the webhook with the token in its URL"
            )
        registration["url"] = f"{url}?token={access.shared_token}"
        says += ", with CROSSDEPT_SHARED_TOKEN in its URL"
    elif access.secret:
        says += (
            "; then paste CROSSDEPT_WEBHOOK_SECRET into its Secret field in Administration → "
            "System → WebHooks (the registration body Data Center documents has no secret field)"
        )
    return Change("webhook", says, registration=registration)


def _major(version: str) -> int:
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else 0


class SetupJira(Protocol):
    def field_context(self, field_id: str) -> str | None: ...

    def add_options(self, field_id: str, context_id: str, values: Any) -> None: ...

    def register_webhook(self, registration: Mapping[str, Any]) -> Mapping[str, Any]: ...


class SetupConfluence(Protocol):
    def create_page(
        self,
        space: str,
        title: str,
        body: str,
        *,
        parent_id: str | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> Page: ...


def apply_plan(
    plan: Plan, jira: SetupJira, confluence: SetupConfluence | None
) -> list[tuple[Change, str]]:
    """Make each change; return each with "done" or the reason it was refused. One refusal does
    not stop the others, and every change is safe to make again (setup reads the site first)."""
    results: list[tuple[Change, str]] = []
    for change in plan.changes:
        try:
            if change.kind == "options":
                context = jira.field_context(change.field_id)
                if context is None:
                    results.append((change, "the field has no global context to add options to"))
                    continue
                jira.add_options(change.field_id, context, change.values)
            elif change.kind == "webhook":
                jira.register_webhook(change.registration)
            elif confluence is not None:
                confluence.create_page(change.space, change.title, change.body)
            else:
                results.append((change, "Confluence is not configured"))
                continue
        except GatewayError as error:
            reason = error.reason() if hasattr(error, "reason") else str(error)
            results.append((change, f"refused: {reason}"))
            continue
        results.append((change, "done"))
    return results
