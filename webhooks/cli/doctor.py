"""`crossdept doctor` and `crossdept setup`: the site read against the rules, item by item, and
the safe additions that make it match."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click

from plugin.atlassian.confluence_gateway import ConfluenceGateway
from plugin.atlassian.site_admin import JiraAdmin
from plugin.composition import load_rules
from plugin.doctor.checks import diagnose
from plugin.doctor.findings import Finding, failed, render
from plugin.doctor.needs import SiteNeeds, site_needs
from plugin.doctor.setup import WebhookAccess, apply_plan, plan_setup
from plugin.doctor.survey import SiteFacts, SiteUnreadable, survey
from plugin.process.config import Rules
from plugin.process.rulesfile import LineMap, read_yaml
from plugin.spine.errors import ConfigError, GatewayError, SettingsError
from webhooks.cli.shared import ENVIRONMENT, fail, fixed_clock
from webhooks.service import connect_confluence, connect_jira
from webhooks.settings import Settings, load_settings

DOCTOR_ENVIRONMENT = (
    ENVIRONMENT
    + """  PUBLIC_URL        the address Jira reaches crossdept at (finds and registers the webhook)
  CONFLUENCE_URL    and its login, when minutes or weekly pages are published
"""
)


@dataclass(frozen=True)
class Examination:
    """One reading of the site against the rules, and what setup needs to act on it."""

    findings: list[Finding]
    rules: Rules
    lines: LineMap
    filename: str
    needs: SiteNeeds | None = None
    facts: SiteFacts | None = None
    admin: JiraAdmin | None = None
    confluence: ConfluenceGateway | None = None


def examine(settings: Settings, now: datetime) -> Examination:
    """Read the rules file and the site; a site that cannot be reached is one failed finding."""
    path = Path(settings.rules)
    filename = str(settings.rules)
    rules = load_rules(path)
    _data, lines = read_yaml(path.read_text(encoding="utf-8"), filename)
    needs = site_needs(rules)
    address = settings.jira_url or ""
    try:
        gateway = connect_jira(settings)  # the survey's first call (/myself) tries the login
        admin = JiraAdmin(gateway)
        confluence = connect_confluence(settings) if settings.confluence_url else None
        facts = survey(needs, admin, gateway, confluence, address)
    except SiteUnreadable as error:
        finding = Finding(
            "connection",
            "fail",
            f"{address}: {error.what}",
            str(error).removeprefix(f"{error.what}: "),
            None,
            "the reason above says which call Jira refused; give crossdept's account the access "
            "it names (doctor reads as that account), then run doctor again",
        )
        return Examination([finding], rules, lines, filename)
    except GatewayError as error:
        finding = Finding(
            "connection",
            "fail",
            address or "(CROSSDEPT_JIRA_URL)",
            error.reason() if hasattr(error, "reason") else str(error),
            None,
            "set CROSSDEPT_JIRA_URL to the site's base URL and one login (docs/settings.md), "
            "then run doctor again",
        )
        return Examination([finding], rules, lines, filename)
    findings = diagnose(
        needs,
        facts,
        now=now,
        public_url=settings.public_url,
        robot_variables=frozenset(settings.robots),
    )
    return Examination(findings, rules, lines, filename, needs, facts, admin, confluence)


def _settings() -> Settings:
    try:
        return load_settings(require_webhook=False)
    except SettingsError as error:
        fail(str(error))


def _examine_or_fail(settings: Settings, now: datetime) -> Examination:
    try:
        return examine(settings, now)
    except ConfigError as error:
        fail(f"the rules file has mistakes (run `crossdept check-config`):\n{error}")


def _show(found: Examination, as_json: bool) -> None:
    if as_json:
        body = {
            "ok": not failed(found.findings),
            "rules": found.filename,
            "findings": [f.as_json(found.filename, found.lines) for f in found.findings],
        }
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        click.echo(render(found.findings, found.filename, found.lines))


@click.command("doctor", epilog=DOCTOR_ENVIRONMENT)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
@click.option("--now", "clock", callback=fixed_clock, metavar="ISO", hidden=True)
def doctor_command(as_json: bool, clock: Callable[[], datetime] | None) -> None:
    """Check the Jira and Confluence site against the rules file, read-only: the connection,
    projects, permissions, issue types, fields and options, workflow statuses, people, the
    webhook, Confluence and the holiday calendar. Each failure names the rules file's FILE:LINE
    and the fix; exits 1 on any failure.
    """
    now = clock() if clock else datetime.now(UTC)
    found = _examine_or_fail(_settings(), now)
    _show(found, as_json)
    sys.exit(1 if failed(found.findings) else 0)


@click.command("setup", epilog=DOCTOR_ENVIRONMENT)
@click.option("--apply", "apply", is_flag=True, help="Make the changes, then run doctor again.")
@click.option("--now", "clock", callback=fixed_clock, metavar="ISO", hidden=True)
def setup_command(apply: bool, clock: Callable[[], datetime] | None) -> None:
    """Plan the additions that make the site match the rules: missing select options (Cloud),
    the webhook to crossdept, and Confluence parent pages. Without --apply it only prints the
    plan. It never deletes, renames, edits an existing webhook or changes a workflow; what it
    may not do is printed as steps by hand.
    """
    now = clock() if clock else datetime.now(UTC)
    settings = _settings()
    found = _examine_or_fail(settings, now)
    if found.facts is None or found.needs is None or found.admin is None:
        _show(found, as_json=False)
        sys.exit(1)
    access = WebhookAccess(
        settings.public_url,
        settings.webhook_secret.get_secret_value() if settings.webhook_secret else None,
        settings.shared_token.get_secret_value() if settings.shared_token else None,
    )
    plan = plan_setup(found.needs, found.facts, access, language=found.rules.language)
    if not plan.changes:
        click.echo("setup: nothing to add")
    for change in plan.changes:
        click.echo(f"{'+' if apply else 'would'} {change.says}")
    for step in plan.by_hand:
        click.echo(f"by hand: {step}")
    if not apply:
        if plan.changes:
            click.echo("run `crossdept setup --apply` to make these changes")
        return
    refused = False
    for change, outcome in apply_plan(plan, found.admin, found.confluence):
        if outcome != "done":
            refused = True
            click.echo(f"not done: {change.says}: {outcome}", err=True)
    click.echo("\ndoctor, after setup:")
    again = _examine_or_fail(settings, now)
    _show(again, as_json=False)
    sys.exit(1 if refused or failed(again.findings) else 0)
