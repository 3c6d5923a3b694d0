"""Create Jira issues exactly once, whatever crashes, retries or lost answers: one mechanism for
every rule that creates issues (the stage tree, a meeting's actions, the next rule).

1. Before a bulk create, the rule's intents record which refs it is about to create.
2. The create call itself writes each issue's `crossdept.item` mark (in `NewIssue.properties`),
   so an issue Jira created says what it is for even when its answer never arrived.
3. A refusal or a 429 created nothing: those intents are dropped at once. A 5xx or a lost answer
   may have created some, so their intents stay; the next attempt waits for Jira's search index to
   settle (Jira Cloud's lags writes), searches where the issues would be for their marks, and
   adopts what it finds instead of creating it again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from plugin.atlassian.ports import JiraPort, NewIssue
from plugin.atlassian.queries import Children, Placement, Query
from plugin.process.items import ITEM_PROPERTY
from plugin.spine.errors import NotYetError, RefusedError, TransientGatewayError

SETTLE_SECONDS = 60.0  # how long Jira's search index may lag a write before a search is believed


class Intents(Protocol):
    """Where a rule keeps what it is about to create, and what Jira created."""

    def intend(self, issues: Mapping[str, NewIssue], now: float) -> None:
        """Record, before the create call, the refs about to be created."""

    def created(self, keys: Mapping[str, str], now: float) -> None:
        """Record the keys Jira created (or the adoption search found), by ref."""

    def forget(self, refs: Sequence[str]) -> None:
        """Drop intents that certainly created nothing."""


@dataclass
class Created:
    """One bulk create: the keys Jira created, and its reason for each ref it refused."""

    keys: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExactlyOnce:
    """Create and adopt issues for one rule's subject (a request, a meeting)."""

    jira: JiraPort
    intents: Intents
    now: Callable[[], float]
    subject: str  # named in the wait's message, e.g. the request's key
    waiting: type[NotYetError] = NotYetError  # what a wait for the search index raises
    epic_link_field: str | None = None

    def create(self, issues: Mapping[str, NewIssue]) -> Created:
        """Create these issues (ref -> issue) in one bulk call, their intents recorded first."""
        refs = list(issues)
        self.intents.intend(issues, self.now())
        try:
            result = self.jira.create_issues(
                list(issues.values()), epic_link_field=self.epic_link_field
            )
        except RefusedError as error:
            self.intents.forget(refs)
            return Created(refused={ref: error.reason() for ref in refs})
        except TransientGatewayError as error:
            if error.rate_limited:  # a 429 is answered before anything is created
                self.intents.forget(refs)
            raise
        created = {refs[index]: issue.key for index, issue in result.created.items()}
        self.intents.created(created, self.now())
        refused = {refs[index]: refusal.reason() for index, refusal in result.refused.items()}
        self.intents.forget(list(refused))  # a refused element was certainly not created
        return Created(created, refused)

    def adopt(
        self,
        intended_at: Mapping[str, float],
        parents: Sequence[str],
        placement: Placement,
        ref_of: Callable[[Mapping[str, Any]], str | None],
    ) -> dict[str, str]:
        """Find the issues an interrupted attempt created for these intents (ref -> when), under
        `parents`, by their mark (`ref_of` reads a found issue's ref, None when not ours).

        Raises `waiting` until Jira's search index has had time to show them. Intents the search
        does not find created nothing: they are dropped, so the caller creates them now.
        """
        where = Children(tuple(parents), placement, self.epic_link_field)
        return self.adopt_found(intended_at, where, ref_of)

    def adopt_found(
        self,
        intended_at: Mapping[str, float],
        where: Query,
        ref_of: Callable[[Mapping[str, Any]], str | None],
        mark: str = ITEM_PROPERTY,
    ) -> dict[str, str]:
        """As `adopt`, for issues found by any query and known by any write-once mark (an issue
        placed under no parent: a meeting crossdept files, found among the latest meetings)."""
        if not intended_at:
            return {}
        age = self.now() - max(intended_at.values())
        if age < SETTLE_SECONDS:
            raise self.waiting(
                f"{self.subject}: waiting for Jira's search index before resuming",
                retry_after=SETTLE_SECONDS - age,
            )
        found = self.jira.search(where, properties=[mark])
        adopted: dict[str, str] = {}
        for hit in found:
            ref = ref_of(hit)
            if ref is not None and ref in intended_at:
                adopted.setdefault(ref, str(hit["key"]))
        self.intents.created(adopted, self.now())
        self.intents.forget([ref for ref in intended_at if ref not in adopted])
        return adopted
