"""`crossdept report`: the goal board's figures at a terminal, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import date
from pathlib import Path

import click

from plugin.rules.reports.board import Board, figure_cells
from plugin.rules.reports.board_sources import MirrorNotBuiltError, read_board
from plugin.rules.reports.progress_report import state_counts
from plugin.rules.reports.weekly import WeeklyOutcome, publish_weekly
from plugin.spine.context import Context
from webhooks.cli.shared import fail, with_context

COLUMNS = (
    "department",
    "items",
    "done_on_time",
    "done_late",
    "not_started",
    "in_progress",
    "delayed",
    "on_time_rate",
    "asks",
    "answered",
    "median_hours",
    "p90_hours",
    "escalations",
    "supporting",
)
HEADINGS = (
    "DEPARTMENT",
    "ITEMS",
    "ON TIME",
    "LATE",
    "NOT STARTED",
    "IN PROGRESS",
    "DELAYED",
    "ON-TIME RATE",
    "ASKS",
    "ANSWERED",
    "MEDIAN",
    "P90",
    "ESCALATED",
    "SUPPORTING",
)


@click.group("report")
def report() -> None:
    """Reports from what crossdept keeps in its store (the item mirror) and publishes."""


@report.command("departments")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="Items due from this day.")
@click.option("--request", "request_key", metavar="KEY", help="Only this request's items.")
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
def departments_command(since: object, request_key: str | None, output: str) -> None:
    """Each department's items (on time, late, not started, in progress, delayed), on-time rate and response times.

    A figure that cannot be known yet (nothing due, nothing answered) is "—" (null in JSON).
    """
    day = since.date() if hasattr(since, "date") else None
    try:
        board = with_context(
            "cli-report", lambda context: read_board(context, since=day, request=request_key)
        )
    except MirrorNotBuiltError as error:
        fail(str(error))
    click.echo(render_departments(board, output), nl=False)


@report.command("weekly")
@click.argument("request_key")
@click.option(
    "--preview",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the page to this local HTML file; publish nothing, ask nobody.",
)
def weekly_command(request_key: str, preview: Path | None) -> None:
    """Publish (or preview) one request's weekly progress table (《项目进度跟踪表》) now."""

    def work(context: Context) -> WeeklyOutcome:
        if preview is None and context.confluence is None:
            fail("Confluence is not set up: set CROSSDEPT_CONFLUENCE_URL (or use --preview)")
        return publish_weekly(request_key, context, preview=preview)

    outcome = with_context(f"cli-weekly-{request_key}", work, subject=request_key)
    if outcome.status == "skipped":
        fail(f"{request_key}: {outcome.reason}")
    click.echo(f"{request_key}: {outcome.title}")
    if preview is not None:
        click.echo(f"  preview written to {preview} (nothing published, nobody asked)")
    elif outcome.page is not None:
        click.echo(f"  page {outcome.page.url} (version {outcome.page.version})")
    else:
        fail("  not published: a page of that title exists that crossdept did not make")
    counts = state_counts(outcome.rows)
    click.echo(
        f"  {counts['done']} done, {counts['in_progress']} in progress, "
        f"{counts['not_started']} not started, {counts['delayed']} delayed"
        + (f"; asked {len(outcome.asked)} owners for the reason" if outcome.asked else "")
    )


def render_departments(board: Board, output: str) -> str:
    """The department figures as a table for people, CSV or JSON."""
    rows = [asdict(row) for row in board.departments]
    if output == "json":
        data = {
            "today": board.today.isoformat(),
            "since": board.since.isoformat() if isinstance(board.since, date) else None,
            "departments": rows,
            "delayed": [asdict(d) | {"due": d.due.isoformat()} for d in board.delayed],
            "requests": [asdict(r) for r in board.requests],
        }
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow(["" if row[name] is None else row[name] for name in COLUMNS])
        return buffer.getvalue()
    cells = [HEADINGS] + [
        (row.department or "(none)", *figure_cells(row)) for row in board.departments
    ]
    widths = [max(_width(line[i]) for line in cells) for i in range(len(HEADINGS))]
    return "".join(
        "  ".join(
            cell + " " * (width - _width(cell)) for cell, width in zip(line, widths, strict=True)
        ).rstrip()
        + "\n"
        for line in cells
    )


def _width(text: str) -> int:
    """Columns a terminal gives the text: CJK characters take two."""
    return sum(2 if ord(char) > 0x2E80 else 1 for char in text)
