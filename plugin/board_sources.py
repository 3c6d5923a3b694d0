"""Where the board's facts come from: the items from Jira (one paged search), the asks from the store."""

from __future__ import annotations

from datetime import UTC, date, datetime

from plugin.asks import ANSWERED, Asks
from plugin.board import AskFact, Board, compute_board, item_fact
from plugin.calendar import WorkCalendar
from plugin.context import Context
from plugin.items import ITEM_PROPERTY
from plugin.ladder import steps

ITEM_FIELDS = ("summary", "assignee", "duedate", "status", "resolutiondate")


def read_board(context: Context, *, since: date | None = None, request: str | None = None) -> Board:
    """The board as Jira and the store stand now."""
    rules = context.rules
    types = [rules.jira.issue_types.stage, rules.jira.issue_types.deliverable]
    issues = context.jira.find_items(
        rules.jira.projects, types, due_from=since, fields=ITEM_FIELDS, properties=[ITEM_PROPERTY]
    )
    kinds = [step.kind for step in steps(rules)]
    asks = [
        AskFact(
            department=ask.department,
            asked_on=datetime.fromtimestamp(ask.asked_at, UTC).astimezone(rules.tz).date(),
            answered=ask.state == ANSWERED,
            response_hours=ask.response_hours,
            escalated="escalation" in kinds[: ask.steps_done],
        )
        for ask in Asks(context.store).listing(state=None)
    ]
    return compute_board(
        [item_fact(issue, rules) for issue in issues],
        asks,
        today=context.clock().astimezone(rules.tz).date(),
        calendar=WorkCalendar.from_rules(rules.calendar),
        departments=list(rules.departments),
        since=since,
        request=request,
    )
