"""The risk register (风险登记表, seeds 002 and 004): every warning filed for a request, with its
level, owner, measures and trigger, on the request's page and its weekly page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from plugin.atlassian.storage import People
from plugin.process.config import Rules
from plugin.process.items import is_done, person_of
from plugin.rules.risks.config import risk_rules
from plugin.rules.risks.risk_records import RiskRecords
from plugin.rules.risks.wording import say
from plugin.spine.context import Context


@dataclass(frozen=True)
class RegisterRow:
    """One filed warning as the register shows it: what was said, and its item as Jira has it."""

    key: str  # the 《风险预警表》 item
    source: str  # the item warned of
    level: str
    kind: str
    impact: str
    plan: str
    trigger: str
    owner: str | None  # who holds the item now (the lead department's head, unless reassigned)
    owner_name: str | None
    closed: bool


def how_to_warn(rules: Rules) -> str:
    """The line the delay reminder adds on how to write a warning; empty when warnings are off."""
    section = risk_rules(rules)
    if section is None:
        return ""
    return say(rules, "risks.how", levels=" / ".join(section.levels))


def register_rows(context: Context, request_key: str) -> list[RegisterRow]:
    """The request's register: each filed warning, its item re-read from Jira (one call); open
    risks first, highest level first, then in the order they were raised."""
    section = risk_rules(context.rules)
    records = RiskRecords(context.store).of_request(request_key)
    if section is None or not records:
        return []
    keys = [record.issue_key for record in records if record.issue_key]
    found = {
        str(i["key"]): i.get("fields") or {}
        for i in context.jira.read_issues(keys, ["assignee", "status"])
    }
    rows = []
    for record in records:
        fields = found.get(record.issue_key or "")
        if fields is None:
            continue  # deleted in Jira: people took it off the register
        assignee = fields.get("assignee")
        rows.append(
            RegisterRow(
                key=str(record.issue_key),
                source=record.item_key,
                level=record.level,
                kind=record.kind,
                impact=record.impact,
                plan=record.plan,
                trigger=record.trigger,
                owner=person_of(assignee),
                owner_name=str(assignee.get("displayName"))
                if isinstance(assignee, dict) and assignee.get("displayName")
                else None,
                closed=is_done(fields, context.rules),
            )
        )
    rank = {level: place for place, level in enumerate(section.levels)}
    return sorted(rows, key=lambda row: (row.closed, rank.get(row.level, len(rank))))


def render_register(
    rules: Rules, rows: Sequence[RegisterRow], people: People, issue_url: Callable[[str], str]
) -> str:
    """The register in storage format, everything people wrote escaped; empty without rows."""
    if not rows:
        return ""

    def label(entry: str) -> str:
        return escape(say(rules, f"risks.register{entry}"))

    heads = (
        ".risk",
        ".level",
        ".kind",
        ".impact",
        ".plan",
        ".trigger",
        ".owner",
        ".state",
        ".source",
    )
    lines = []
    for row in rows:
        cells = (
            f'<a href="{escape(issue_url(row.key))}">{escape(row.key)}</a>',
            escape(row.level),
            escape(row.kind),
            escape(row.impact),
            escape(row.plan),
            escape(row.trigger) or "—",
            people.mention(row.owner) if row.owner else "—",
            label(".closed" if row.closed else ".open"),
            f'<a href="{escape(issue_url(row.source))}">{escape(row.source)}</a>',
        )
        lines.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    return (
        f"<h2>{label('')}</h2><table><tbody><tr>"
        + "".join(f"<th>{label(head)}</th>" for head in heads)
        + "</tr>"
        + "".join(lines)
        + "</tbody></table>"
    )
