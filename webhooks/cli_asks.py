"""`crossdept asks`: the open clocks, who asked whom, since when, and what comes next."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import click

from plugin.asks import Ask, Asks
from plugin.escalation import work_clock
from plugin.ladder import steps
from plugin.rules import Rules
from webhooks.cli_shared import STORE_ENVIRONMENT, fail, open_store


@click.command("asks", epilog=STORE_ENVIRONMENT)
@click.option("--overdue", is_flag=True, help="Only asks whose next step is due now.")
@click.option("--department", metavar="KEY", help="Only asks of people in this department.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def asks_command(overdue: bool, department: str | None, as_json: bool) -> None:
    """List the open asks: issue, who asked whom, since when, their age in the configured clock
    (escalation.clock), and the next step and when it is due. Needs the store and the rules file.
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
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("(no open asks)")
        return
    for row in rows:
        click.echo(
            f"{row['issue']}  {row['asked_by'] or '-'} → {row['asked']}  since {row['asked_at']}"
            f"  {row['age_hours']:.1f} h  next: {row['next_step'] or 'none'}"
            + (f" at {row['next_due']}" if row["next_due"] else "")
        )


def _iso(moment: float | None) -> str | None:
    return (
        None
        if moment is None
        else datetime.fromtimestamp(moment, UTC).isoformat(timespec="minutes")
    )


def _row(ask: Ask, rules: Rules, now: float) -> dict[str, object]:
    ladder = steps(rules)
    upcoming = ladder[ask.steps_done] if ask.steps_done < len(ladder) else None
    age = work_clock(rules).elapsed(
        datetime.fromtimestamp(ask.asked_at, UTC), datetime.fromtimestamp(now, UTC)
    )
    return {
        "issue": ask.issue,
        "asked": ask.asked,
        "asked_by": ask.asked_by,
        "source": ask.source,
        "department": ask.department,
        "asked_at": _iso(ask.asked_at),
        "age_hours": round(age, 2),
        "steps_done": ask.steps_done,
        "next_step": f"{upcoming.kind} to {upcoming.to}" if upcoming else None,
        "next_due": _iso(ask.next_due),
    }
