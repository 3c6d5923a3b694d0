"""Route Jira events to the handlers that care about them, like gidgethub's Router."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from plugin.spine.errors import CrossdeptError

if TYPE_CHECKING:
    from plugin.spine.context import Context
    from plugin.spine.events import JiraEvent

Handler = Callable[["JiraEvent", "Context"], None]
Admits = Callable[["JiraEvent", "Context"], bool]

log = logging.getLogger(__name__)


class HandlerFailuresError(CrossdeptError):
    """Some handlers failed; the others still ran. The worker decides whether to retry."""

    def __init__(self, failures: list[tuple[str, BaseException]]) -> None:
        super().__init__("; ".join(f"{name}: {error!r}" for name, error in failures))
        self.failures = failures


class Router:
    """Map a `webhookEvent` name (optionally refined by `issue_event_type_name`) to handlers."""

    def __init__(self, *others: Router, admits: Admits | None = None) -> None:
        """Compose routers; `admits`, when given, is asked once per event before any handler runs
        (the composition's: the issue is in a project under enforcement)."""
        self._routes: dict[tuple[str, str | None], list[Handler]] = {}
        self.admits = admits
        for other in others:
            for key, handlers in other._routes.items():
                self._routes.setdefault(key, []).extend(handlers)

    def add(self, handler: Handler, event: str, issue_event_type: str | None = None) -> None:
        """Register `handler` for `event`, or only for one `issue_event_type_name` of it."""
        self._routes.setdefault((event, issue_event_type), []).append(handler)

    def register(
        self, event: str, issue_event_type: str | None = None
    ) -> Callable[[Handler], Handler]:
        """Decorator form of `add`."""

        def decorator(handler: Handler) -> Handler:
            self.add(handler, event, issue_event_type)
            return handler

        return decorator

    def handles(self, event_name: str) -> bool:
        """Say whether any handler is registered for this event name (whatever its issue type)."""
        return any(name == event_name and handlers for (name, _), handlers in self._routes.items())

    def fetch(self, event: JiraEvent) -> list[Handler]:
        """Return the handlers for this event, general ones first, without duplicates."""
        found: list[Handler] = []
        keys: list[tuple[str, str | None]] = [(event.name, None)]
        if event.issue_event_type:
            keys.append((event.name, event.issue_event_type))
        for key in keys:
            for handler in self._routes.get(key, []):
                if handler not in found:
                    found.append(handler)
        return found

    def dispatch(self, event: JiraEvent, context: Context) -> int:
        """Run every matching handler; one failing does not stop the others. Returns how many ran."""
        if self.admits is not None and not self.admits(event, context):
            return 0
        handlers = self.fetch(event)
        failures: list[tuple[str, BaseException]] = []
        for handler in handlers:
            name = getattr(handler, "__qualname__", repr(handler))
            try:
                handler(event, context)
            except Exception as error:  # noqa: BLE001 - reported together below
                log.exception(
                    "handler failed",
                    extra={
                        "delivery": context.delivery_key,
                        "issue": event.issue_key,
                        "handler": name,
                    },
                )
                failures.append((name, error))
        if failures:
            raise HandlerFailuresError(failures)
        return len(handlers)
