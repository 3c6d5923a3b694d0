"""`crossdept jobs`: the trail of every delivery, and running failed or lost ones again."""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

import click

from plugin.spine.deliveries import Delivery, DeliveryState, format_age
from webhooks.cli.shared import STORE_ENVIRONMENT, fail, open_store, parse_time

log = logging.getLogger(__name__)


@click.group(invoke_without_command=True, epilog=STORE_ENVIRONMENT)
@click.option(
    "--state",
    type=click.Choice([state.value for state in DeliveryState]),
    help="Only deliveries in this state.",
)
@click.option("--failed", is_flag=True, help="Only failed deliveries (the same as --state failed).")
@click.option("--issue", "issue_key", metavar="KEY", help="Only deliveries about this issue.")
@click.option(
    "--since",
    callback=parse_time,
    metavar="ISO",
    help="Only deliveries accepted at or after this time (ISO 8601; no offset means UTC).",
)
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Also list the deliveries of crossdept's own changes (skipped: own event).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1))
@click.pass_context
def jobs(
    ctx: click.Context,
    state: str | None,
    failed: bool,
    issue_key: str | None,
    since: float | None,
    show_all: bool,
    as_json: bool,
    limit: int,
) -> None:
    """List recent deliveries and how each ended, newest first.

    OUTCOME says what happened: done; skipped, with why (own event: crossdept's own change,
    listed only with --all; no rule: no rule handles the event); retrying, and when; failed,
    with the last error; queued or running. `crossdept retry ID` (or `crossdept jobs retry ID`) runs a failed one again.
    Needs only the store settings, not Jira.
    """
    if ctx.invoked_subcommand is not None:
        return
    if failed:
        if state not in (None, DeliveryState.FAILED.value):
            fail(f"--failed and --state {state} contradict each other")
        state = DeliveryState.FAILED.value
    service = open_store()
    found = service.deliveries.recent(
        DeliveryState(state) if state else None,
        limit=limit,
        issue=issue_key,
        since=since,
        own_events=show_all,
    )
    now = time.time()
    if as_json:
        click.echo(json.dumps([_as_json(delivery, now) for delivery in found], indent=2))
        return
    click.echo(format_jobs(found, now))


@jobs.command("retry", epilog=STORE_ENVIRONMENT)
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Retry every failed delivery.")
@click.option(
    "--force", is_flag=True, help="Also run deliveries that finished (done or skipped) again."
)
def retry(ids: tuple[int, ...], all_failed: bool, force: bool) -> None:
    """Run failed deliveries IDS again, with a fresh set of attempts.

    A delivery that finished is refused unless --force: running it again repeats its work
    (safe, as every rule is, but rarely what you meant). Queued and running ones are refused.
    """
    if not ids and not all_failed:
        fail("name the deliveries to retry (see `crossdept jobs --state failed`) or --all-failed")
    service = open_store()
    chosen = list(ids) + (service.deliveries.ids(DeliveryState.FAILED) if all_failed else [])
    refused = 0
    for delivery_id in dict.fromkeys(chosen):
        if service.deliveries.requeue(delivery_id, force=force):
            service.queue.enqueue_delivery(delivery_id)
            log.info("delivery re-queued by hand", extra={"delivery_id": delivery_id})
            click.echo(f"{delivery_id}: queued")
            continue
        found = service.deliveries.get(delivery_id)
        if found is None:
            why = "no such delivery"
        elif found.state == DeliveryState.DONE:
            why = f"it is {found.describe(time.time())}; --force runs it again"
        else:
            why = f"it is {found.state.value}"
        click.echo(f"{delivery_id}: not retried: {why}", err=True)
        refused += 1
    if refused:
        sys.exit(1)


@jobs.command("recover", epilog=STORE_ENVIRONMENT)
def recover_command() -> None:
    """Re-enqueue deliveries the queue lost (a dead worker's, a failed enqueue) now.

    Every worker does this at start and every minute; this runs it once by hand.
    """
    service = open_store()
    recovered = service.recover()
    click.echo(
        f"re-enqueued {len(recovered)}"
        + (f": {', '.join(map(str, recovered))}" if recovered else "")
    )


def format_jobs(deliveries: list[Delivery], now: float, *, error_width: int = 60) -> str:
    """A fixed-width table: id, event, issue, outcome, attempts, last error, age."""
    header = ("ID", "EVENT", "ISSUE", "OUTCOME", "ATTEMPTS", "LAST ERROR", "AGE")
    rows = [header] + [
        (
            str(d.id),
            d.event,
            d.issue or "-",
            d.describe(now),
            str(d.attempts),
            _shorten(d.last_error or "-", error_width),
            format_age(now - d.created_at),
        )
        for d in deliveries
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    if not deliveries:
        lines.append("(no deliveries)")
    return "\n".join(line.rstrip() for line in lines)


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _as_json(delivery: Delivery, now: float) -> dict[str, Any]:
    def iso(moment: float | None) -> str | None:
        return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat()

    return {
        "id": delivery.id,
        "key": delivery.key,
        "event": delivery.event,
        "issue": delivery.issue,
        "state": delivery.state.value,
        "outcome": delivery.describe(now),
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "created_at": iso(delivery.created_at),
        "updated_at": iso(delivery.updated_at),
        "run_after": iso(delivery.run_after),
        "age_seconds": round(now - delivery.created_at, 1),
    }
