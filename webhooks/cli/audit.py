"""`crossdept audit`: what crossdept did to an issue, when, and why (every enforcement is a row)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from plugin.process.audit import Audit, AuditEntry
from webhooks.cli.shared import STORE_ENVIRONMENT, open_store, parse_time


@click.command("audit", epilog=STORE_ENVIRONMENT)
@click.argument("issue_key", required=False)
@click.option(
    "--since",
    callback=parse_time,
    metavar="ISO",
    help="Only what happened at or after this time (ISO 8601; no offset means UTC).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
def audit_command(issue_key: str | None, since: float | None, as_json: bool) -> None:
    """Print the audit trail, oldest first: every check that failed or passed again, every
    comment written or edited, label, revert, reminder and notice, with the delivery or
    periodic run that caused it. Needs only the store settings, not Jira.
    """
    service = open_store()
    found = Audit(service.store).entries(issue_key, since)
    if as_json:
        click.echo(json.dumps([_as_json(entry) for entry in found], ensure_ascii=False, indent=2))
        return
    if not found:
        click.echo("(nothing recorded)")
    for entry in found:
        detail = f"  {entry.detail}" if entry.detail else ""
        cause = f"  ({entry.cause})" if entry.cause else ""
        click.echo(f"{_iso(entry.at)}  {entry.issue}  {entry.rule}  {entry.action}{detail}{cause}")


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


def _as_json(entry: AuditEntry) -> dict[str, object]:
    return {
        "at": _iso(entry.at),
        "issue": entry.issue,
        "rule": entry.rule,
        "action": entry.action,
        "detail": entry.detail,
        "cause": entry.cause,
    }
