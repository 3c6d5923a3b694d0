"""`crossdept demo`: see crossdept build a request's tree against a local stand-in Jira, in seconds."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from demo import DemoError, DemoOptions, run_demo, summary_json
from plugin.spine.errors import ConfigError


@click.command("demo")
@click.option(
    "--data-center",
    is_flag=True,
    help="Play it against a Jira Data Center sandbox (default Cloud).",
)
@click.option(
    "--rules",
    "rules_file",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The rules file to run with (default: the shipped config/rules.yaml).",
)
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The request's start date (default: the next Monday).",
)
@click.option(
    "--timeout",
    "timeout_s",
    default=60.0,
    show_default=True,
    type=click.FloatRange(1),
    help="Seconds to wait for each step before giving up.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of the story.")
@click.option(
    "--summary",
    "summary_file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the JSON summary to this file (the story is printed all the same).",
)
@click.option(
    "--verbose", is_flag=True, help="Keep the temporary data directory and say where its log is."
)
@click.option(
    "--keep",
    is_flag=True,
    help="Leave the sandbox and the service (and its /board) running until Ctrl-C.",
)
def demo_command(
    data_center: bool,
    rules_file: Path | None,
    start: datetime | None,
    timeout_s: float,
    as_json: bool,
    summary_file: Path | None,
    verbose: bool,
    keep: bool,
) -> None:
    """File a collaboration request in a local Jira sandbox and watch crossdept build its tree.

    Needs no settings and no network: it starts the sandbox and `crossdept serve` on free
    local ports, with a temporary data directory and a generated webhook secret (CROSSDEPT_*
    variables of this shell are ignored), plays the scenario, and stops everything.
    """
    options = DemoOptions(
        data_center=data_center,
        rules=rules_file,
        start=start.date() if start is not None else None,
        timeout_s=timeout_s,
        verbose=verbose,
        keep=keep,
    )

    def say(line: str) -> None:
        if not as_json:
            click.echo(line)

    if not as_json:
        flavour = "Data Center" if data_center else "Cloud"
        click.echo(f"crossdept demo: one collaboration request, Jira {flavour} sandbox\n")
    try:
        summary = run_demo(options, say)
    except KeyboardInterrupt:
        click.echo("crossdept demo: interrupted; everything it started is stopped", err=True)
        sys.exit(130)
    except ConfigError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        click.echo("crossdept demo: the rules file is invalid", err=True)
        sys.exit(1)
    except DemoError as error:
        click.echo(f"crossdept demo failed: {error}", err=True)
        sys.exit(1)
    if summary_file is not None:
        summary_file.write_text(summary_json(summary) + "\n", encoding="utf-8")
    if as_json:
        click.echo(summary_json(summary))
        return
    click.echo(f"Done in {summary['seconds']:.1f} s; the sandbox and the service are stopped.")
    if verbose:
        click.echo(f"Service log: {summary['service_log']}")
        click.echo(f"Its jobs: CROSSDEPT_DATA_DIR={summary['data_dir']} crossdept jobs")
