"""Where the board's facts come from: the items from Jira (one paged search), the asks from the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from plugin.atlassian.queries import Items
from plugin.process.asks import ANSWERED, Asks
from plugin.process.items import ITEM_PROPERTY
from plugin.process.ladder import steps
from plugin.rules.reports.board import AskFact, Board, ItemFact, compute_board, item_fact
from plugin.spine.context import Context

ITEM_FIELDS = ("summary", "assignee", "duedate", "status", "resolutiondate")


@dataclass(frozen=True)
class BoardFacts:
    """Everything the board is computed from, read once (the web page keeps it a minute)."""

    items: list[ItemFact]
    asks: list[AskFact]
    today: date

    def requests(self) -> list[str]:
        """The requests the items belong to, for the board's filter."""
        keys = {item.request for item in self.items if item.request}
        return sorted(keys, key=_key_order)


def _key_order(key: str) -> tuple[str, int, str]:
    """Issue keys in project, then number order (XD-2 before XD-10); anything else last."""
    project, _, number = key.rpartition("-")
    return (project, int(number), "") if number.isdigit() else (key, -1, key)


def read_facts(context: Context, *, since: date | None = None) -> BoardFacts:
    """Read the items (due from `since`) from Jira and every ask from the store."""
    rules = context.rules
    types = [rules.jira.issue_types.stage, rules.jira.issue_types.deliverable]
    issues = context.jira.search(
        Items(tuple(rules.jira.projects), tuple(types), due_from=since),
        fields=ITEM_FIELDS,
        properties=[ITEM_PROPERTY],
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
    today = context.clock().astimezone(rules.tz).date()
    return BoardFacts([item_fact(issue, rules) for issue in issues], asks, today)


def board_of(
    facts: BoardFacts, context: Context, *, since: date | None = None, request: str | None = None
) -> Board:
    """The board for a period and a request, from facts already read."""
    rules = context.rules
    return compute_board(
        facts.items,
        facts.asks,
        today=facts.today,
        calendar=rules.work_calendar,
        departments=list(rules.departments),
        since=since,
        request=request,
    )


def read_board(context: Context, *, since: date | None = None, request: str | None = None) -> Board:
    """The board as Jira and the store stand now."""
    return board_of(read_facts(context, since=since), context, since=since, request=request)
