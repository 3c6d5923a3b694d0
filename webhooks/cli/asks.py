"""`crossdept asks`: the open clocks, who asked whom, since when, and what comes next."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import click

from plugin.process.asks import Ask, Asks
from plugin.process.config import Rules
from plugin.process.ladder import recipient, standing, steps, work_clock
from webhooks.cli.shared import STORE_ENVIRONMENT, display_names, fail, open_store


@click.command("asks", epilog=STORE_ENVIRONMENT)
@click.option("--overdue", is_flag=True, help="Only asks whose next step is due now.")
@click.option("--department", metavar="KEY", help="Only asks of people in this department.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON (account ids, and names where known)."
)
def asks_command(overdue: bool, department: str | None, as_json: bool) -> None:
    """List the open asks: issue, who asked whom, since when, their age in the configured clock
    (escalation.clock), and the next step, who it goes to and when. Needs the store and the rules
    file; people are shown by their Jira display names when Jira answers, else by account id.
    """
    service = open_store()
    try:
        rules = service.rules
    except Exception as error:  # noqa: BLE001 - a broken rules file is reported, not raised
        fail(f"the rules file cannot be read: {error}")
    now = time.time()
    found = Asks(service.store).listing(department=department)
    if overdue:
        found = [ask for ask in found if ask.next_due is not None and ask.next_due <= now]
    rows = [_row(ask, rules, now) for ask in found]
    people = {str(row[who]) for row in rows for who in ("asked", "asked_by", "next_to") if row[who]}
    names = display_names(service, people) if people else {}
    for row in rows:
        for who in ("asked", "asked_by", "next_to"):
            row[f"{who}_name"] = names.get(str(row[who])) if row[who] else None
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("(no open asks)")
        return

    def name(row: dict[str, object], who: str) -> str:
        return str(row[f"{who}_name"] or row[who] or "-")

    for row in rows:
        upcoming = "none"
        if row["next_step"]:
            upcoming = f"{row['next_step']} ({name(row, 'next_to')}) at {row['next_due']}"
        click.echo(
            f"{row['issue']}  {name(row, 'asked_by')} → {name(row, 'asked')}"
            f"  since {row['asked_at']}  {row['age_hours']:.1f} h  next: {upcoming}"
        )


def _iso(moment: float | None, rules: Rules) -> str | None:
    """A moment in the rules' timezone, as the people it concerns read their clocks."""
    return (
        None
        if moment is None
        else datetime.fromtimestamp(moment, UTC).astimezone(rules.tz).isoformat(timespec="minutes")
    )


def _row(ask: Ask, rules: Rules, now: float) -> dict[str, object]:
    rung = standing(rules, ask)
    upcoming = None if rung is None else steps(rules)[rung]
    heard = (
        recipient(upcoming, ask.asked, rules, requester=ask.asked_by, pm=rules.project_manager)
        if upcoming
        else None
    )
    age = work_clock(rules).elapsed(
        datetime.fromtimestamp(ask.asked_at, UTC), datetime.fromtimestamp(now, UTC)
    )
    return {
        "id": ask.id,
        "issue": ask.issue,
        "asked": ask.asked,
        "asked_by": ask.asked_by,
        "source": ask.source,
        "department": ask.department,
        "asked_at": _iso(ask.asked_at, rules),
        "age_hours": round(age, 2),
        "steps_done": ask.steps_done,
        "next_step": f"{upcoming.kind} to {heard.role}" if upcoming and heard else None,
        "next_to": heard.person if heard else None,
        "next_due": _iso(ask.next_due, rules),
    }
