"""What a handler gets besides the event: rules, the Jira and Confluence ports, store and clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plugin.atlassian.ports import ConfluencePort, JiraPort
    from plugin.process.rules import Rules
    from plugin.spine.store import Store


@dataclass(frozen=True)
class Context:
    """Collaborators for one job; `delivery_id` ties log lines to the webhook delivery."""

    rules: Rules
    jira: JiraPort
    store: Store
    clock: Callable[[], datetime]
    delivery_id: str | None = None
    confluence: ConfluencePort | None = None  # None when no Confluence is configured
