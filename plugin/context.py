"""What a handler gets besides the event: rules, gateways, store and clock, passed in, never global."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plugin.jira_gateway import JiraGateway
    from plugin.rules import Rules
    from plugin.store import Store


@dataclass(frozen=True)
class Context:
    """Collaborators for one job; `delivery_id` ties log lines to the webhook delivery."""

    rules: Rules
    jira: JiraGateway
    store: Store
    clock: Callable[[], datetime]
    delivery_id: str | None = None
