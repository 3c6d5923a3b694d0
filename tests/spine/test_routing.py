"""The Router: events to handlers, refined by issue event type, composed, failures kept apart."""

from __future__ import annotations

from typing import Any

import pytest

from plugin.spine.events import JiraEvent, parse_event
from plugin.spine.routing import HandlerFailuresError, Router

CONTEXT: Any = type("Context", (), {"delivery_key": "d-1"})()


def event(name: str, issue_event_type: str | None = None) -> JiraEvent:
    body: dict[str, Any] = {"webhookEvent": name, "issue": {"key": "XD-1"}}
    if issue_event_type:
        body["issue_event_type_name"] = issue_event_type
    return parse_event(body)


def test_handlers_run_for_their_event_general_ones_before_refined_ones() -> None:
    router = Router()
    ran: list[str] = []

    @router.register("jira:issue_updated", "issue_assigned")
    def on_assigned(event: JiraEvent, context: Any) -> None:
        ran.append("assigned")

    @router.register("jira:issue_updated")
    def on_any_update(event: JiraEvent, context: Any) -> None:
        ran.append("any")

    assert router.dispatch(event("jira:issue_updated", "issue_assigned"), CONTEXT) == 2
    assert ran == ["any", "assigned"]
    assert router.dispatch(event("jira:issue_updated", "issue_commented"), CONTEXT) == 1
    assert router.dispatch(event("comment_created"), CONTEXT) == 0
    assert router.handles("jira:issue_updated") and not router.handles("comment_created")


def test_composed_routers_keep_every_handler_once() -> None:
    first, second = Router(), Router()

    def shared(event: JiraEvent, context: Any) -> None: ...

    first.add(shared, "jira:issue_created")
    second.add(shared, "jira:issue_created")
    second.add(lambda e, c: None, "jira:issue_deleted")

    both = Router(first, second)

    assert both.fetch(event("jira:issue_created")) == [shared]
    assert both.handles("jira:issue_deleted")


def test_one_failing_handler_does_not_stop_the_others() -> None:
    router = Router()
    ran: list[str] = []

    def breaks(event: JiraEvent, context: Any) -> None:
        raise RuntimeError("boom")

    router.add(breaks, "jira:issue_created")
    router.add(lambda e, c: ran.append("second"), "jira:issue_created")

    with pytest.raises(HandlerFailuresError) as failed:
        router.dispatch(event("jira:issue_created"), CONTEXT)

    assert ran == ["second"]
    [(name, error)] = failed.value.failures
    assert name.endswith("breaks") and isinstance(error, RuntimeError)


def test_a_router_asks_whether_it_admits_an_event_before_any_handler_runs() -> None:
    ran: list[str] = []
    inner = Router()
    inner.add(lambda event, context: ran.append(str(event.issue_key)), "jira:issue_updated")
    router = Router(inner, admits=lambda event, context: event.issue_key != "HR-1")

    def other_project(key: str) -> JiraEvent:
        return parse_event({"webhookEvent": "jira:issue_updated", "issue": {"key": key}})

    assert router.dispatch(other_project("HR-1"), CONTEXT) == 0
    assert router.dispatch(other_project("XD-1"), CONTEXT) == 1
    assert ran == ["XD-1"]
