"""Liveness and metrics endpoints for the load balancer and Prometheus."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify

from plugin import metrics
from plugin.inbox import Inbox
from webhooks.receiver import edge

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def report_health() -> tuple[Response, int]:
    """Answer 200 when the store and the queue work, else 503 naming what does not."""
    inbox = edge().inbox
    checks = {"store": _check(_store_ping(inbox)), "queue": _check(_queue_ping(inbox))}
    if all(value == "ok" for value in checks.values()):
        return jsonify({"status": "ok", **checks}), 200
    log.warning("health check failed", extra=checks)
    return jsonify({"status": "unavailable", **checks}), 503


@bp.get("/metrics")
def expose_metrics() -> Response:
    """Expose Prometheus metrics, merged over every process when they share a directory."""
    state = edge()
    text, content_type = metrics.render_metrics(
        extra=[metrics.QueueDepthCollector(state.inbox.depth)],
        directory=state.settings.prometheus_multiproc_dir,
    )
    return Response(text, content_type=content_type)


def _check(ok: bool) -> str:
    return "ok" if ok else "failing"


def _store_ping(inbox: Inbox) -> bool:
    return inbox.store.ping()


def _queue_ping(inbox: Inbox) -> bool:
    try:
        inbox.queue.pending_count()
    except Exception:  # noqa: BLE001 - any failure of the transport means an unhealthy queue
        log.warning("queue health check raised", exc_info=True)
        return False
    return True
