"""Commands for stage trees: preview one offline (`plan`), build one in Jira (`apply`)."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from plugin.atlassian.jira_site import JiraMismatchError
from plugin.composition import load_rules
from plugin.rules.trees.planning import (
    is_request,
    plan_tree,
    read_request,
    render_tree,
    tree_to_json,
)
from plugin.rules.trees.trees import TreeBusyError, apply_tree
from plugin.spine.errors import (
    ConfigError,
    CrossdeptError,
    GatewayError,
    PayloadError,
    SettingsError,
)
from plugin.spine.events import parse_event

DEFAULT_RULES = "config/rules.yaml"


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _is_cloud_payload(body: dict[str, Any]) -> bool:
    """Cloud payloads name people by accountId; Data Center by name."""
    people = [body.get("user"), ((body.get("issue") or body).get("fields") or {}).get("reporter")]
    return any(isinstance(person, dict) and "accountId" in person for person in people) or not any(
        isinstance(person, dict) and "name" in person for person in people
    )


@click.command("plan")
@click.option(
    "--event",
    "event_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A webhook body (JSON) of a collaboration request.",
)
@click.option(
    "--rules",
    "rules_file",
    default=DEFAULT_RULES,
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The rules file.",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The date to start from when the body has neither a start nor a created date.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a tree.")
def plan_command(event_file: Path, rules_file: Path, today: Any, as_json: bool) -> None:
    """Print the tree crossdept would create for a request, without calling Jira."""
    try:
        rules = load_rules(rules_file)
    except ConfigError as error:
        _fail("\n".join(error.problems))
    try:
        body = json.loads(event_file.read_text(encoding="utf-8"))
        event = parse_event(body)
    except (ValueError, PayloadError) as error:
        _fail(f"{event_file}: {error}")
    if event.issue is None or not event.issue.key:
        _fail(f"{event_file}: the body has no issue key")
    assert event.issue is not None
    issue = {"key": event.issue.key, "fields": event.issue.fields}
    start = today.date() if today is not None else date.today()
    snapshot = read_request(issue, rules, today=start)
    if not is_request(snapshot, rules):
        _fail(
            f"{snapshot.key} is a {snapshot.issue_type or '?'} in {snapshot.project or '?'}, not a "
            f"{rules.jira.request.issue_type} in {', '.join(rules.jira.projects)}: no tree"
        )
    try:
        plan = plan_tree(
            snapshot,
            rules,
            rules.work_calendar,
            cloud=_is_cloud_payload(event.raw),
        )
    except CrossdeptError as error:
        problems = getattr(error, "problems", [str(error)])
        _fail("\n".join(f"{snapshot.key}: {problem}" for problem in problems))
    if as_json:
        click.echo(json.dumps(tree_to_json(plan), ensure_ascii=False, indent=2))
    else:
        click.echo(render_tree(plan, rules))


@click.command("apply")
@click.argument("issue_key")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a tree.")
@click.option(
    "--recreate-deleted",
    is_flag=True,
    help="Create again the items people deleted in Jira (they are left deleted otherwise).",
)
def apply_command(issue_key: str, as_json: bool, recreate_deleted: bool) -> None:
    """Build (or complete) the tree of one request in Jira, e.g. one filed before crossdept.

    Every item crossdept recorded is checked against Jira first; records Jira contradicts are
    forgotten and rebuilt, and items people deleted stay deleted unless --recreate-deleted.
    """
    from webhooks.cli.shared import mismatch_sentence
    from webhooks.service import Service
    from webhooks.settings import load_settings

    try:
        service = Service(load_settings(require_webhook=False))
        service.create_tables()
        context = service.context_for(f"cli-apply-{issue_key}")
        outcome = apply_tree(issue_key, context, recreate_deleted=recreate_deleted)
    except JiraMismatchError as error:
        _fail(mismatch_sentence(error, service))
        return
    except (SettingsError, ConfigError) as error:
        _fail(str(error))
    except TreeBusyError as error:
        _fail(f"{issue_key}: {error}; try again in {error.retry_after or 5:.0f} s")
    except GatewayError as error:
        reason = error.reason() if hasattr(error, "reason") else str(error)
        _fail(f"{issue_key}: Jira: {reason}")
    calls = context.jira.total_calls
    if as_json:
        data: dict[str, Any] = (
            tree_to_json(outcome.plan) if outcome.plan else {"request": issue_key}
        )
        data.update(
            status=outcome.status,
            keys=outcome.keys,
            created=sorted(outcome.created.values()),
            deleted=outcome.deleted,
            forgotten=outcome.dropped,
            problems=outcome.problems,
            jira_calls=calls,
        )
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(
        f"{issue_key}: {outcome.status}; created {len(outcome.created)}, "
        f"{len(outcome.keys)} in the tree; {calls} Jira calls"
    )
    if outcome.deleted:
        gone = ", ".join(f"{key} ({ref})" for ref, key in sorted(outcome.deleted.items()))
        click.echo(
            f"  deleted in Jira, left deleted: {gone}; --recreate-deleted creates them again"
        )
    if outcome.dropped:
        stale = ", ".join(f"{key} ({ref})" for ref, key in sorted(outcome.dropped.items()))
        click.echo(f"  records Jira contradicts, forgotten: {stale}")
    for problem in outcome.problems:
        click.echo(f"  problem: {problem}")
    if outcome.plan is not None:
        click.echo(render_tree(outcome.plan, context.rules, outcome.keys))
