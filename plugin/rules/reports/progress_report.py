"""The weekly progress table (《项目进度跟踪表》), purely: rows from items and comments, the page.

The collaboration process: every week the project manager publishes done / in progress /
delayed, and for each delay its reason and the measures taken. crossdept fills it from Jira: the
reason and measures come from the owner's latest comment on the item that says `原因：` /
`Reason:` and `措施：` / `Measures:`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any, Literal

from plugin.atlassian.storage import People
from plugin.process.calendar import WorkCalendar
from plugin.process.config import Rules
from plugin.process.wording import department_name, join_names, retention
from plugin.rules.reports.board import ItemFact
from plugin.rules.reports.config import report_rules
from plugin.rules.reports.wording import say

State = Literal["done", "in_progress", "not_started", "delayed"]
_REASON = re.compile(r"^\s*[*#\-•]*\s*(?:原因|Reason)\s*[:：]\s*(?P<text>.+)$", re.I | re.M)
_MEASURES = re.compile(r"^\s*[*#\-•]*\s*(?:措施|Measures?)\s*[:：]\s*(?P<text>.+)$", re.I | re.M)


@dataclass(frozen=True)
class ProgressRow:
    """One line of the table."""

    key: str
    summary: str
    state: State
    owner: str | None
    due: date | None
    days_late: int = 0
    reason: str | None = None
    measures: str | None = None
    supporting: tuple[str, ...] = ()  # 配合部门


def state_counts(rows: Sequence[ProgressRow]) -> dict[State, int]:
    """How many rows are done, in progress, not started and delayed (each row is one of them)."""
    states: tuple[State, ...] = ("done", "in_progress", "not_started", "delayed")
    return {state: sum(1 for r in rows if r.state == state) for state in states}


def reason_and_measures(comments: Sequence[Mapping[str, Any]]) -> tuple[str | None, str | None]:
    """From the latest comment that gives a reason (and its measures), newest first."""
    for comment in reversed(comments):
        body = str(comment.get("body") or "")
        reason = _REASON.search(body)
        if reason:
            measures = _MEASURES.search(body)
            return reason.group("text").strip(), measures.group(
                "text"
            ).strip() if measures else None
    return None, None


def progress_rows(
    items: Sequence[ItemFact],
    comments: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    today: date,
    calendar: WorkCalendar,
) -> list[ProgressRow]:
    """Each item's line, in due-date order; delayed ones carry their reason and measures."""
    rows = []
    for item in sorted(items, key=lambda i: (i.due or date.max, i.key)):
        if item.done:
            rows.append(
                ProgressRow(
                    item.key, item.summary, "done", item.owner, item.due, supporting=item.supporting
                )
            )
        elif item.due is not None and item.due < today:
            reason, measures = reason_and_measures(comments.get(item.key, []))
            rows.append(
                ProgressRow(
                    item.key,
                    item.summary,
                    "delayed",
                    item.owner,
                    item.due,
                    calendar.working_days_between(item.due, today),
                    reason,
                    measures,
                    item.supporting,
                )
            )
        else:
            state: State = "in_progress" if item.started else "not_started"
            rows.append(
                ProgressRow(
                    item.key, item.summary, state, item.owner, item.due, supporting=item.supporting
                )
            )
    return rows


def report_title(
    rules: Rules,
    today: date,
    request_summary: str,
    request_key: str = "",
    lead_department: str = "",
) -> str:
    """The seeds' naming rule (date, topic, document kind; the lead department where the
    template names it), from `reports.weekly.title`."""
    weekly = report_rules(rules).weekly
    template = weekly.title if weekly is not None else "{date} {request_summary} {kind}"
    title = template.format(
        date=today.isoformat(),
        request_summary=request_summary,
        request_key=request_key,
        kind=say(rules, "weekly.kind"),
        lead_department=lead_department,
    )
    return re.sub(r"\s+", " ", title).strip()


def render_progress_page(
    rules: Rules,
    *,
    request_key: str,
    request_summary: str,
    today: date,
    rows: Sequence[ProgressRow],
    people: People,
    issue_url: Any,
    register: str = "",
) -> str:
    """The page in storage format: a summary line, the table and the risk register (already
    rendered, when there is one), everything typed escaped."""

    def label(entry: str, **values: object) -> str:
        return escape(say(rules, entry, **values))

    counts = state_counts(rows)
    intro = label(
        "weekly.intro",
        key=request_key,
        summary=request_summary,
        today=today.isoformat(),
        done=counts["done"],
        open=counts["in_progress"],
        not_started=counts["not_started"],
        delayed=counts["delayed"],
    )
    heads = [
        "weekly.item",
        "weekly.state",
        "weekly.owner",
        "weekly.supporting",
        "weekly.due",
        "weekly.reason",
        "weekly.measures",
    ]
    lines = []
    for row in rows:
        state = (
            label("weekly.delayed", days=row.days_late)
            if row.state == "delayed"
            else label(f"weekly.{row.state}")
        )
        missing = label("weekly.missing") if row.state == "delayed" else ""
        due = f'<time datetime="{row.due.isoformat()}" />' if row.due else "—"
        supporting = join_names(rules, [department_name(rules, name) for name in row.supporting])
        lines.append(
            "<tr>"
            f'<td><a href="{escape(issue_url(row.key))}">{escape(row.key)}</a> {escape(row.summary)}</td>'
            f"<td>{state}</td>"
            f"<td>{people.mention(row.owner) if row.owner else '—'}</td>"
            f"<td>{escape(supporting) if supporting else '—'}</td>"
            f"<td>{due}</td>"
            f"<td>{escape(row.reason) if row.reason else missing}</td>"
            f"<td>{escape(row.measures) if row.measures else missing}</td>"
            "</tr>"
        )
    return (
        f"<p>{intro}</p><table><tbody><tr>"
        + "".join(f"<th>{label(h)}</th>" for h in heads)
        + "</tr>"
        + "".join(lines)
        + "</tbody></table>"
        + register
        + f"<p><em>{label('weekly.footer')}</em></p>"
        + (f"<p><em>{escape(kept)}</em></p>" if (kept := retention(rules, today)) else "")
    )
