"""What a handler gets besides the event: rules, the Jira and Confluence ports, store and clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plugin.atlassian.ports import ConfluencePort, JiraPort
    from plugin.groups.ports import GroupsPort
    from plugin.process.config import Rules
    from plugin.spine.events import JiraEvent
    from plugin.spine.routing import Router
    from plugin.spine.store import Store


@dataclass(frozen=True)
class Context:
    """Collaborators for one job; `delivery_key` (the delivery's key, e.g. Jira's webhook
    identifier, or `periodic:NAME`) ties log lines and the audit trail to what caused them."""

    rules: Rules
    jira: JiraPort
    store: Store
    clock: Callable[[], datetime]
    delivery_key: str | None = None
    confluence: ConfluencePort | None = None  # None when no Confluence is configured
    router: Router | None = None  # the rules' router, for what crossdept itself does
    groups: GroupsPort | None = None  # the group robots; None when no channel is set up

    def announce(self, event: JiraEvent) -> None:
        """Let every rule handle a change crossdept itself made, now, in this job: Jira's webhook
        for it is ignored (crossdept caused it), so this is how the other rules hear of it."""
        if self.router is not None:
            self.router.dispatch(event, self)
