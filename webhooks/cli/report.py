"""`crossdept report`: the goal board's figures at a terminal, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from pathlib import Path

import click

from plugin.rules.reports.assessment import AssessmentRow, Snapshot, assess
from plugin.rules.reports.board import Board, figure_cells, hours_text, percent
from plugin.rules.reports.board_sources import MirrorNotBuiltError, read_board
from plugin.rules.reports.config import AssessmentRules, report_rules
from plugin.rules.reports.progress_report import state_counts
from plugin.rules.reports.snapshots import kept_snapshots
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


# How a report is printed: a table for people, CSV or JSON.
OUTPUT = click.option(
    "--format",
    "output",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)


@click.group("report")
def report() -> None:
    """Reports from what crossdept keeps in its store (the item mirror) and publishes."""


@report.command("departments")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="Items due from this day.")
@click.option("--request", "request_key", metavar="KEY", help="Only this request's items.")
@OUTPUT
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


@report.command("assessment")
@click.option(
    "--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="Periods ending from this day."
)
@OUTPUT
def assessment_command(since: object, output: str) -> None:
    """Each department's on-time rate per period, its weighted part of the assessment, the
    change against the first snapshot (the baseline) and the targets; 协作之星 candidates.

    Snapshots are kept every `reports.assessment.every_days` by the worker (or by
    `crossdept periodic take_assessment_snapshot`).
    """
    day = since.date() if hasattr(since, "date") else None

    def work(context: Context) -> tuple[AssessmentRules | None, list[Snapshot]]:
        return report_rules(context.rules).assessment, kept_snapshots(context.store)

    settings, snapshots = with_context("cli-assessment", work)
    if settings is None:
        fail("the rules file sets no reports.assessment: nothing is assessed")
    shown = [kept for kept in snapshots if day is None or kept.end >= day]
    rows = [row for row in assess(snapshots, settings) if day is None or row.end >= day]
    click.echo(render_assessment(settings, rows, shown, output), nl=False)


ASSESSMENT_COLUMNS = (
    "start",
    "end",
    "department",
    "on_time_rate",
    "contribution",
    "baseline_rate",
    "rate_change",
    "rate_met",
    "median_hours",
    "baseline_hours",
    "hours_change",
    "hours_met",
)


def _signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.0f}%"


def _met(value: bool | None) -> str:
    return "—" if value is None else ("yes" if value else "no")


def render_assessment(
    settings: AssessmentRules, rows: list[AssessmentRow], snapshots: list[Snapshot], output: str
) -> str:
    """The assessment as a table for people, CSV or JSON."""
    if output == "json":
        data = {
            "weight": settings.weight,
            "targets": settings.targets.model_dump(),
            "rows": [
                asdict(row) | {"start": row.start.isoformat(), "end": row.end.isoformat()}
                for row in rows
            ],
            "stars": [
                {"start": kept.start.isoformat(), "end": kept.end.isoformat()}
                | {"candidates": [asdict(star) for star in kept.stars]}
                for kept in snapshots
            ],
        }
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(ASSESSMENT_COLUMNS)
        for row in rows:
            values = asdict(row)
            writer.writerow(["" if values[n] is None else values[n] for n in ASSESSMENT_COLUMNS])
        return buffer.getvalue()
    if not rows:
        return "No snapshot kept yet: the first is kept the day after the worker starts.\n"
    targets = settings.targets
    headings = (
        "PERIOD",
        "DEPARTMENT",
        "ON-TIME RATE",
        f"SCORE (OF {settings.weight:g})",
        "BASELINE",
        "CHANGE",
        f"TARGET {targets.on_time_rate:+g}%",
        "MEDIAN",
        "BASELINE",
        "CHANGE",
        f"TARGET {targets.median_hours:+g}%",
    )
    lines = [
        (
            f"{row.start.isoformat()}..{row.end.isoformat()}",
            row.department or "(none)",
            percent(row.on_time_rate),
            "—" if row.contribution is None else f"{row.contribution:.1f}",
            percent(row.baseline_rate),
            _signed(row.rate_change),
            _met(row.rate_met),
            hours_text(row.median_hours),
            hours_text(row.baseline_hours),
            _signed(row.hours_change),
            _met(row.hours_met),
        )
        for row in rows
    ]
    text = _table(headings, lines)
    for kept in snapshots:
        if kept.stars:
            text += f"\n协作之星 candidates, {kept.start.isoformat()}..{kept.end.isoformat()} (for people to decide):\n"
            for place, star in enumerate(kept.stars, 1):
                text += (
                    f"  {place}. {star.name or star.account}: {star.on_time}/{star.measured} on time"
                    f" ({percent(star.on_time_rate)}), median answer {hours_text(star.median_hours)}\n"
                )
    return text


def _table(headings: tuple[str, ...], lines: Sequence[tuple[str, ...]]) -> str:
    """Columns padded for a terminal, CJK characters taking two."""
    cells = [headings, *lines]
    widths = [max(_width(line[i]) for line in cells) for i in range(len(headings))]
    return "".join(
        "  ".join(
            cell + " " * (width - _width(cell)) for cell, width in zip(line, widths, strict=True)
        ).rstrip()
        + "\n"
        for line in cells
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
    return _table(
        HEADINGS, [(row.department or "(none)", *figure_cells(row)) for row in board.departments]
    )


def _width(text: str) -> int:
    """Columns a terminal gives the text: CJK characters take two."""
    return sum(2 if ord(char) > 0x2E80 else 1 for char in text)
