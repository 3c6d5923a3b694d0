"""`crossdept sandbox`: run the Jira + Confluence stand-in over HTTP for the demo and manual tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from sandbox.app import Sandbox
from sandbox.broken import broken_seed
from sandbox.seed import SEEDS, SeedError
from sandbox.server import serve

DEFAULT_SEED = SEEDS["cloud"]


# The sandbox's own group robots: made up, like every credential the sandbox accepts.
SANDBOX_ROBOTS = (
    ("wecom", None),
    ("dingtalk", "SEC-sandbox-dingtalk"),
    ("feishu", "sandbox-feishu"),
)


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8990, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--seed",
    "seed_path",
    default=str(DEFAULT_SEED),
    show_default="the shipped Cloud seed, sandbox/seeds/cloud.yaml",
    type=click.Path(exists=True, dir_okay=False),
    help="Seed YAML: users, projects, workflows, fields; `deployment:` picks Cloud or Data Center "
    "(sandbox/seeds/datacenter.yaml is the shipped Data Center one).",
)
@click.option(
    "--webhook-url",
    "webhook_urls",
    multiple=True,
    help="POST Jira webhooks here (e.g. crossdept's receiver). Repeat it to spread them over "
    "several web processes in turn, as a load balancer would.",
)
@click.option(
    "--webhook-secret",
    default=None,
    envvar="SANDBOX_WEBHOOK_SECRET",
    help="Sign webhooks with X-Hub-Signature (HMAC-SHA256). Also read from SANDBOX_WEBHOOK_SECRET.",
)
@click.option(
    "--latency-ms", default=0, show_default=True, type=int, help="Delay every request by N ms."
)
@click.option(
    "--rate-limit",
    default=None,
    type=int,
    help="Answer 429 (RateLimit-Reason: jira-burst-based) above N requests per second.",
)
@click.option(
    "--per-issue-writes",
    default=None,
    type=int,
    help="Answer 429 (jira-per-issue-on-write) above N writes to one issue per 2 seconds.",
)
@click.option("--fail-first", default=0, type=int, help="Answer the first N requests with 503.")
@click.option(
    "--duplicate-webhooks", default=0, type=int, help="Deliver the first N webhooks twice."
)
@click.option(
    "--duplicate-share",
    default=0.0,
    type=click.FloatRange(0.0, 1.0),
    help="Deliver this share of all webhooks twice (0.2: one in five), as a lost answer makes "
    "Jira do.",
)
@click.option(
    "--reorder-webhooks", is_flag=True, help="Deliver each batch of webhooks out of order."
)
@click.option(
    "--no-spec-check", is_flag=True, help="Do not check requests against the OpenAPI specs."
)
@click.option(
    "--broken",
    is_flag=True,
    help="Start from the seed made wrong in every way `crossdept doctor` checks (sandbox/broken.py).",
)
def sandbox_command(
    host: str,
    port: int,
    seed_path: str,
    webhook_urls: tuple[str, ...],
    webhook_secret: str | None,
    latency_ms: int,
    rate_limit: int | None,
    per_issue_writes: int | None,
    fail_first: int,
    duplicate_webhooks: int,
    duplicate_share: float,
    reorder_webhooks: bool,
    no_spec_check: bool,
    broken: bool,
) -> None:
    """Serve a stateful fake Jira (and Confluence) on HOST:PORT.

    It answers the REST calls crossdept makes, checks each request against the official
    OpenAPI descriptions (a violation answers 400), and sends Jira-shaped, signed webhooks
    for every change to --webhook-url. The bad-day switches imitate a Jira under load.
    """
    try:
        seed: Any = broken_seed(Path(seed_path)) if broken else seed_path
        sandbox = Sandbox.from_seed(
            seed, webhook_secret=webhook_secret, check_spec=not no_spec_check
        )
    except SeedError as error:
        raise click.ClickException(str(error)) from error
    sandbox.bad_day.latency_ms = latency_ms
    sandbox.bad_day.rate_limit = rate_limit
    sandbox.bad_day.per_issue_write_limit = per_issue_writes
    if fail_first:
        sandbox.fail_next(fail_first)
    if duplicate_webhooks:
        sandbox.duplicate_next(duplicate_webhooks)
    sandbox.outbox.reorder = reorder_webhooks
    sandbox.outbox.duplicate_share = duplicate_share
    flavour = "Cloud" if sandbox.seed.is_cloud else "Data Center"
    click.echo(
        f"sandbox ({flavour}) on http://{host}:{port}"
        + (f", webhooks to {', '.join(webhook_urls)}" if webhook_urls else "")
    )
    # One group robot per platform, answering on the same address as Jira (the real ones live
    # on their platforms' hosts); point CROSSDEPT_ROBOT_* at these to see group messages.
    for kind, secret in SANDBOX_ROBOTS:
        address = sandbox.robots.add(
            kind, f"sandbox {kind} group", secret=secret, origin=f"http://{host}:{port}"
        )
        signed = f", signing secret {secret}" if secret else ""
        click.echo(f"  {kind} group robot: {address}{signed}")
    serve(sandbox, host, port, webhook_url=list(webhook_urls) or None)
