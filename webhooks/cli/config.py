"""Commands for the rules file: check it before deploying, regenerate its JSON Schema."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import click

from plugin.composition import load_rules, rules_schema
from plugin.process.config import Rules, format_duration, format_work_hours
from plugin.rules.cadence import cadence_rules, next_filings
from plugin.rules.minutes import meeting_rules
from plugin.spine.errors import ConfigError

DEFAULT_RULES = "config/rules.yaml"
EXAMPLE_DEPARTMENTS = 4


def count_issues(rules: Rules, departments: int) -> tuple[int, int]:
    """Stage tasks and deliverable sub-tasks one request with `departments` departments yields
    (and the file's own decision makers, when the request names none)."""
    subtasks = sum(
        departments
        if deliverable.each_department
        else len(rules.decision_makers)
        if deliverable.each_decision_maker
        else 1
        for stage in rules.stages
        for deliverable in stage.deliverables
    )
    return len(rules.stages), subtasks


def summarize(rules: Rules) -> list[str]:
    """Say in a few lines what the rules will do, so an admin sees they loaded what they meant."""
    deliverables = [d for stage in rules.stages for d in stage.deliverables]
    per_department = sum(1 for d in deliverables if d.each_department)
    per_decider = sum(1 for d in deliverables if d.each_decision_maker)
    stages, subtasks = count_issues(rules, EXAMPLE_DEPARTMENTS)
    calendar = rules.calendar
    holidays = f"{calendar.holidays} public holidays" if calendar.holidays else "no public holidays"
    meetings = sum(1 for stage in rules.stages if stage.meeting)
    return [
        f"projects: {', '.join(rules.jira.projects)}",
        f"language: {rules.language}; timezone: {rules.timezone}",
        f"departments: {len(rules.departments)} ({', '.join(rules.departments)})",
        f"stages: {len(rules.stages)} ({meetings} with a meeting)",
        f"deliverables: {len(deliverables)} ({per_department} made once per department, "
        f"{per_decider} once per decision maker)",
        f"a request with {EXAMPLE_DEPARTMENTS} departments yields {stages + subtasks} issues: "
        f"{stages} stage tasks + {subtasks} deliverable sub-tasks"
        + (f", and {per_decider} more per decision maker it names" if per_decider else ""),
        f"calendar: {', '.join(calendar.workdays)} {format_work_hours(calendar.work_hours)}, "
        f"{holidays}, {len(calendar.extra_holidays)} extra holidays, "
        f"{len(calendar.extra_workdays)} extra working days",
        *_cadence_lines(rules, datetime.now(UTC)),
    ]


def _cadence_lines(rules: Rules, now: datetime) -> list[str]:
    """The meetings crossdept files itself, and when it will file the next of each."""
    cadence, meetings = cadence_rules(rules), meeting_rules(rules)
    if cadence is None or meetings is None:
        return []
    lines = []
    if cadence.weekly is not None:
        weekly = cadence.weekly
        lines.append(
            f"cadence: a weekly meeting of each active request, {weekly.day} "
            f"{weekly.at:%H:%M} for {format_duration(weekly.length)}"
        )
    for goal in cadence.goal_alignment:
        lines.append(
            f"cadence: a goal-alignment meeting of {', '.join(goal.departments)}, "
            f"day {goal.day} of each month {goal.at:%H:%M} for {format_duration(goal.length)}"
        )
    tz = rules.tz
    for coming in next_filings(cadence, meetings.notice, rules.work_calendar, tz, now):
        lines.append(
            f"next {coming.what}: {coming.occurrence.start:%Y-%m-%d %H:%M}, filed "
            f"{coming.filed_from.astimezone(tz):%Y-%m-%d %H:%M} to "
            f"{coming.filed_by.astimezone(tz):%Y-%m-%d %H:%M}"
        )
    return lines


@click.command("check-config")
@click.argument(
    "path",
    required=False,
    default=DEFAULT_RULES,
    envvar="CROSSDEPT_RULES",
    type=click.Path(dir_okay=False, path_type=Path),
)
def check_config(path: Path) -> None:
    """Check the rules file PATH and summarise what it sets up.

    PATH defaults to $CROSSDEPT_RULES, else config/rules.yaml. Exits 0 when the file is
    valid; otherwise prints every problem as FILE:LINE: path.to.field: message on stderr
    and exits 1.
    """
    try:
        rules = load_rules(path)
    except ConfigError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        count = len(error.problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''} in {path}", err=True)
        raise SystemExit(1) from None
    click.echo(f"{path}: OK")
    for line in summarize(rules):
        click.echo(f"  {line}")


@click.command("schema")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the schema to this file (e.g. config/rules.schema.json) instead of stdout.",
)
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the rules file, generated from the rules models.

    Editors that understand `# yaml-language-server: $schema=...` use it to complete and
    check the YAML. Regenerate the shipped copy after changing the models:
    crossdept schema --output config/rules.schema.json
    """
    text = rules_schema()
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}", err=True)


@click.command("validators")
@click.argument("path", default=DEFAULT_RULES, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--year",
    "years",
    multiple=True,
    type=click.IntRange(2000, 2100),
    help="Years whose days off the working-day validator lists (default: this year and next).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def validators_command(path: Path, years: tuple[int, ...], as_json: bool) -> None:
    """Print Jira expressions to paste as workflow validators, so Jira refuses what breaks a rule.

    Jira expressions exist only on Jira Cloud. On Jira Cloud, edit the workflow of the stage and deliverable issue types, add a validator of
    the kind "Jira expression" (Jira's own, or an app's such as ScriptRunner or JMWE) to the
    Create transition and to the transitions people use, and paste each expression with its
    message. Regenerate them after changing departments or the calendar.
    """
    from plugin.rules.ownership.validators import names_cloud_accounts, validators

    try:
        rules = load_rules(path)
    except ConfigError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        raise SystemExit(1) from None
    if not names_cloud_accounts(rules):
        # No expression to print: Data Center has no Jira expressions to paste them into.
        click.echo(
            f"{path} names people by username, so it is for Jira Data Center. Workflow validators "
            "written as Jira expressions exist only on Jira Cloud; on Data Center crossdept "
            "enforces the same rules after each change (a comment, a label, the stage gate).",
            err=as_json,
        )
        if as_json:
            click.echo("[]")
        return
    chosen = years or (date.today().year, date.today().year + 1)
    found = validators(rules, rules.work_calendar, tuple(sorted(chosen)))
    if as_json:
        click.echo(
            json.dumps(
                [
                    {"check": v.check, "expression": v.expression, "message": v.message}
                    for v in found
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    click.echo(
        f"Workflow validators for {path} (days off of {', '.join(map(str, sorted(chosen)))}):"
    )
    for number, validator in enumerate(found, start=1):
        click.echo("")
        click.echo(f"{number}. {validator.check}")
        click.echo(f"   expression: {validator.expression}")
        click.echo(f"   message:    {validator.message}")
