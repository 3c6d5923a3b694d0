"""Opening and settling asks, for any rule that asks someone or hears an answer.

An ask starts one clock (however often it is asked for) on the escalation ladder; once the last
escalated ask on an issue is closed, the escalation label comes off, since nobody waits any more.
"""

from __future__ import annotations

from plugin.process.asks import Ask, Asks
from plugin.process.audit import Audit
from plugin.process.ladder import escalated, escalation_label, next_due
from plugin.process.owners import departments_of
from plugin.spine.context import Context

RULE = "escalation"  # the audit trail names the escalation rule for every ask, whoever opened it


def open_ask(
    context: Context,
    *,
    issue: str,
    asked: str,
    asked_by: str | None,
    source: str,
    source_id: str,
    at: float,
    excerpt: str | None = None,
) -> None:
    """Start one clock (once, however often it is asked for) and audit it."""
    rules = context.rules
    homes = departments_of(rules, asked)
    opened = Asks(context.store).open(
        issue=issue,
        asked=asked,
        asked_by=asked_by,
        source=source,
        source_id=source_id,
        asked_at=at,
        next_due=next_due(rules, at, 0),
        department=homes[0] if homes else None,
        excerpt=excerpt,
    )
    if opened:
        Audit(context.store).record(
            at, issue, RULE, "ask started", f"{source}: {asked}", context.delivery_key
        )


def settle_label(context: Context, issue: str, closed: list[Ask], at: float) -> None:
    """Take the escalation label off the issue once the last escalated ask on it is closed:
    the label says someone is waiting, and nobody is any more."""
    rules = context.rules
    if not any(escalated(ask, rules) for ask in closed):
        return
    if any(escalated(ask, rules) for ask in Asks(context.store).open_on(issue)):
        return
    label = escalation_label(rules)
    context.jira.edit_labels(issue, remove=[label])
    Audit(context.store).record(at, issue, RULE, "label removed", label, context.delivery_key)
