"""The webhook endpoint: check, store durably, answer fast; the work itself happens in the worker.

Jira waits at most 20 s and retries on 5xx, so the web process never calls Jira: it verifies the
delivery, records it in the inbox (committed before answering) and returns 202.
https://community.developer.atlassian.com/t/new-jira-cloud-webhook-retry-policy/30554
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, request

from plugin.spine import metrics
from plugin.spine.errors import PayloadTooLargeError, StaleDeliveryError
from plugin.spine.events import IDENTIFIER_HEADER, JiraEvent, delivery_key
from plugin.spine.inbox import Inbox
from plugin.spine.signature import TOKEN_QUERY, admit_before_body
from webhooks.settings import Settings

if TYPE_CHECKING:
    from webhooks.web.health import Reachability

log = logging.getLogger(__name__)

bp = Blueprint("receiver", __name__)


@dataclass(frozen=True)
class Edge:
    """What the receiver reads on every request, prepared once by `create_app`."""

    settings: Settings
    inbox: Inbox
    secret: bytes | None
    shared_token: bytes | None
    jira: Reachability | None = None  # whether Jira answers, for /healthz (None: not probed)


def edge() -> Edge:
    """Return this app's Edge."""
    found: Edge = current_app.extensions["crossdept"]
    return found


@bp.post("/webhooks/jira")
def receive_jira_webhook() -> tuple[Response, int]:
    """Accept one Jira delivery: 202 when stored, 200 for a duplicate or our own event."""
    started = perf_counter()
    state = edge()
    limit = state.settings.max_body_bytes
    # Refuse an announced oversize body before reading a byte of it.
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLargeError(f"the body is over the limit of {limit} bytes")
    admit_before_body(
        request.headers,
        secret=state.secret,
        shared_token=state.shared_token,
        allow_unsigned=state.settings.allow_unsigned,
        url_token=request.args.get(TOKEN_QUERY),
    )
    body = request.get_data(cache=False)
    event = JiraEvent.from_http(
        request.headers,
        body,
        secret=state.secret,
        shared_token=state.shared_token,
        allow_unsigned=state.settings.allow_unsigned,
        max_body_bytes=limit,
        url_token=request.args.get(TOKEN_QUERY),
    )
    _refuse_stale(event, state.settings.max_delivery_age)
    key = delivery_key(request.headers, event)
    issue = event.issue_key
    if event.caused_by(state.settings.jira_account_id):
        return _answer(
            {"status": "ignored", "reason": "own event"}, 200, "ignored", key, issue, event, started
        )
    if state.inbox.accept(key, event.name, issue, body, hashlib.sha256(body).hexdigest()):
        return _answer(
            {"status": "accepted", "delivery": key}, 202, "accepted", key, issue, event, started
        )
    return _answer(
        {"status": "duplicate", "delivery": key}, 200, "duplicate", key, issue, event, started
    )


def _refuse_stale(event: JiraEvent, max_age: int) -> None:
    """Refuse a delivery whose own timestamp (inside the signed body) is older than `max_age`
    seconds: Jira Cloud retries for about an hour, so an older body is a replay."""
    if not max_age or event.timestamp is None:
        return
    age = time.time() - event.timestamp / 1000
    if age > max_age:
        raise StaleDeliveryError(
            f"the delivery is {age / 3600:.1f} hours old, older than {_span(max_age)} "
            f"(CROSSDEPT_MAX_DELIVERY_AGE): a replayed delivery is refused"
        )


def _span(seconds: int) -> str:
    """A limit in seconds as a person says it: "1 hour", "2 hours", "30 minutes", "90 seconds"."""
    for size, unit in ((3600, "hour"), (60, "minute"), (1, "second")):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"


def _answer(
    body: dict[str, str],
    status: int,
    outcome: str,
    key: str,
    issue: str | None,
    event: JiraEvent,
    started: float,
) -> tuple[Response, int]:
    seconds = perf_counter() - started
    metrics.observe_delivery(outcome, "own_event" if outcome == "ignored" else "", seconds)
    # DEBUG: a line per delivery was a third of the web's own work per request; the worker logs
    # every accepted delivery's outcome, /metrics counts them all, rejections are warnings.
    if log.isEnabledFor(logging.DEBUG):
        log.debug(
            "delivery %s",
            outcome,
            extra={
                "delivery": key,
                "issue": issue,
                "event": event.name,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
            },
        )
    # json.dumps straight into a Response: jsonify's provider costs more than this tiny body needs.
    return current_app.response_class(json.dumps(body), mimetype="application/json"), status


def delivery_header() -> str | None:
    """Return the request's delivery identifier for logging a rejection, if it sent a sane one."""
    value = request.headers.get(IDENTIFIER_HEADER)
    if value is None:
        return None
    return value[:200].encode("ascii", "replace").decode("ascii")
