"""`crossdept notify test CHANNEL`: post a test message through a group robot, to see it arrive."""

from __future__ import annotations

import time

import click

from plugin.rules.notify.notify import trial_message
from plugin.spine.context import Context
from plugin.spine.errors import NotYetError
from webhooks.cli.shared import fail, with_context

MAX_WAIT_S = 60.0  # how long the command waits for the robot's next free slot


@click.group("notify")
def notify_group() -> None:
    """The group robots (WeCom, DingTalk, Feishu) the rules file's notify section names."""


@notify_group.command("test")
@click.argument("channel")
def test_command(channel: str) -> None:
    """Post a test message to CHANNEL's group now (in its robot's pace), and say how it went."""

    def send(context: Context) -> str:
        notify = context.rules.notify
        if notify is None:
            fail("the rules file has no notify section: no group robots are set up")
        if channel not in notify.channels:
            fail(f'no notify channel is called "{channel}"; known: {", ".join(notify.channels)}')
        groups = context.groups
        assert groups is not None
        kind = notify.channels[channel].kind
        deadline = time.monotonic() + MAX_WAIT_S
        while True:
            try:
                groups.send(channel, trial_message(context.rules, channel))
            except NotYetError as wait:
                if time.monotonic() + (wait.retry_after or 1.0) > deadline:
                    raise
                time.sleep(wait.retry_after or 1.0)
                continue
            return f"sent to {channel} ({kind}): the group shows it now"

    click.echo(with_context("cli-notify-test", send, subject=f"channel {channel}"))
