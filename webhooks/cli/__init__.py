"""The `crossdept` command: one group, each concern's commands registered from its own module."""

from __future__ import annotations

import os

import click

from webhooks.cli.asks import asks_command
from webhooks.cli.audit import audit_command
from webhooks.cli.config import check_config, schema, validators_command
from webhooks.cli.demo import demo_command
from webhooks.cli.doctor import doctor_command, setup_command
from webhooks.cli.jobs import jobs, retry
from webhooks.cli.minutes import minutes_command
from webhooks.cli.mirror import mirror_group
from webhooks.cli.notify import notify_group
from webhooks.cli.report import report
from webhooks.cli.sandbox import sandbox_command
from webhooks.cli.service import periodic_command, rebind_jira, serve, sweep_command, worker
from webhooks.cli.trees import apply_command, plan_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="crossdept")
def cli() -> None:
    """crossdept enforces a cross-department collaboration process inside Jira and Confluence.

    Settings come from CROSSDEPT_* environment variables; the process itself from the rules
    file (CROSSDEPT_RULES, default config/rules.yaml).
    """


def main() -> None:
    """Entry point of the console script."""
    # Whatever crossdept writes (its store holds every webhook body, e-mail addresses included)
    # is its own user's alone: files 0600, directories 0700.
    os.umask(0o077)
    cli()


# Commands, one module per concern (keep this list sorted by module).
cli.add_command(asks_command)
cli.add_command(audit_command)
cli.add_command(check_config)
cli.add_command(schema)
cli.add_command(validators_command)
cli.add_command(demo_command)
cli.add_command(doctor_command)
cli.add_command(setup_command)
cli.add_command(jobs)
cli.add_command(retry)  # also `crossdept jobs retry`
cli.add_command(minutes_command)
cli.add_command(mirror_group)
cli.add_command(notify_group)
cli.add_command(periodic_command)
cli.add_command(report)
cli.add_command(rebind_jira)
cli.add_command(serve)
cli.add_command(sweep_command)
cli.add_command(worker)
cli.add_command(sandbox_command)
cli.add_command(plan_command)
cli.add_command(apply_command)
