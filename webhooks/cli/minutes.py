"""`crossdept minutes KEY`: write and publish one meeting's minutes now, or preview them."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from plugin.rules.minutes.config import meeting_rules
from plugin.rules.minutes.minutes import MinutesOutcome, action_ref, publish_minutes
from plugin.spine.context import Context
from webhooks.cli.shared import fail, with_context


@click.command("minutes")
@click.argument("issue_key")
@click.option(
    "--preview",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the page to this local HTML file; publish nothing, create no items.",
)
def minutes_command(issue_key: str, preview: Path | None) -> None:
    """Collect a meeting's minutes from Jira, track its actions and publish the page.

    Without --preview this does what a meeting entering its held status does: safe to repeat
    (the same items, the same page, a new version only when the minutes changed).
    """

    def work(context: Context) -> MinutesOutcome:
        if meeting_rules(context.rules) is None:
            fail("the rules file has no meetings section: crossdept does not handle meetings")
        if preview is None and context.confluence is None:
            fail("Confluence is not set up: set CROSSDEPT_CONFLUENCE_URL (or use --preview)")
        return publish_minutes(issue_key, context, preview=preview)

    outcome = with_context(f"cli-minutes-{issue_key}", work, subject=issue_key)
    _report(outcome, preview)


def _report(outcome: MinutesOutcome, preview: Path | None) -> None:
    """Say what happened in a few lines a person reads at a terminal."""
    if outcome.status == "skipped":
        fail(f"{outcome.meeting}: {outcome.reason}")
    minutes = outcome.minutes
    assert minutes is not None
    click.echo(f"{outcome.meeting}: {outcome.title}")
    if preview is not None:
        click.echo(f"  preview written to {preview} (nothing published, no item created)")
    elif outcome.page is not None:
        click.echo(f"  page {outcome.page.url} (version {outcome.page.version})")
    else:
        click.echo(f"  not published: {outcome.reason}")
    click.echo(
        f"  {len(minutes.decisions)} decisions, {len(minutes.actions)} actions, "
        f"{len(minutes.open_points)} open points"
    )
    for action in minutes.actions:
        key = outcome.items.get(action_ref(action), "(no item yet)")
        click.echo(f"  {key}  {action.owner}  {action.due.isoformat()}  {action.text}")
    for problem in minutes.problems:
        click.echo(f"  not tracked ({problem.reason}): {problem.line}")
    for refused in outcome.refused:
        click.echo(f"  refused by Jira: {refused}")
    if outcome.status == "blocked":
        sys.exit(1)
