"""Liveness and metrics endpoints for the load balancer and Prometheus."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from prometheus_client.registry import Collector

from plugin import metrics
from plugin.asks import RESPONSE_BUCKETS, response_times
from webhooks import board
from webhooks.receiver import edge

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def report_health() -> tuple[Response, int]:
    """Answer 200 when the store and the queue work, else 503 naming what does not."""
    checks = {part: "ok" if ok else "failing" for part, ok in edge().inbox.health().items()}
    if all(value == "ok" for value in checks.values()):
        return jsonify({"status": "ok", **checks}), 200
    log.warning("health check failed", extra=checks)
    return jsonify({"status": "unavailable", **checks}), 503


@bp.get("/metrics")
def expose_metrics() -> Response:
    """Expose Prometheus metrics, merged over every process when they share a directory."""
    state = edge()
    extra: list[Collector] = [
        metrics.QueueDepthCollector(state.inbox.depth),
        metrics.AskResponseCollector(lambda: response_times(state.inbox.store), RESPONSE_BUCKETS),
    ]
    if state.settings.board_token is not None:  # the board is on: its figures are exported too
        extra.append(metrics.DepartmentItemsCollector(board.current_board))
    text, content_type = metrics.render_metrics(
        extra=extra,
        directory=state.settings.prometheus_multiproc_dir,
    )
    return Response(text, content_type=content_type)
