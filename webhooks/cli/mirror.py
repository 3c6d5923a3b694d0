"""`crossdept mirror`: the item mirror the board counts, looked at or read again from Jira."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from plugin.rules.reports.mirror import LAST_FULL, LAST_SEARCH, Mirror, rebuild
from plugin.spine.context import Context
from webhooks.cli.shared import with_context


@click.group("mirror")
def mirror_group() -> None:
    """The items the board, /metrics and `report departments` count, as the store mirrors Jira."""


@mirror_group.command("rebuild")
def rebuild_command() -> None:
    """Drop the mirror and read every item from Jira again (Jira stays the truth)."""
    held = with_context("cli-mirror-rebuild", rebuild)
    click.echo(f"mirror rebuilt: {held} items read from Jira")


@mirror_group.command("status")
def status_command() -> None:
    """How many items the mirror holds, when it last read Jira and what the nightly check found."""

    def look(context: Context) -> list[str]:
        mirror = Mirror(context.store)
        tz = context.rules.tz
        last, full = mirror.stamp(LAST_SEARCH), mirror.stamp(LAST_FULL)

        def when(stamp: tuple[float, str | None] | None) -> str:
            if stamp is None:
                return "never"
            return (
                datetime.fromtimestamp(stamp[0], UTC)
                .astimezone(tz)
                .strftime("%Y-%m-%d %H:%M:%S %Z")
            )

        return [
            f"items: {mirror.count()}",
            f"last read: {when(last)}",
            f"last full check: {when(full)}" + (f" (drift: {full[1]})" if full and full[1] else ""),
        ]

    for line in with_context("cli-mirror-status", look):
        click.echo(line)
