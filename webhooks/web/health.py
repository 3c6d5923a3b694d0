"""Liveness and metrics endpoints for the load balancer and Prometheus."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flask import Blueprint, Response, jsonify, request
from prometheus_client.registry import Collector

from plugin.process.asks import RESPONSE_BUCKETS, response_times
from plugin.spine import metrics
from plugin.spine.errors import GatewayError, RefusedError
from webhooks.web import board
from webhooks.web.receiver import edge

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

PROBE_EVERY_S = 60.0
# A deep check asks Jira itself, but not more often than this however often monitors call it.
DEEP_EVERY_S = 10.0


class Reachability:
    """Whether Jira answers crossdept's login, probed at most once a minute in the background,
    so /healthz never waits for a slow Jira: "checking" until the first answer, then "ok",
    "login refused" or "unreachable"."""

    def __init__(
        self, check: Callable[[], None], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._check, self._clock = check, clock
        self._lock = threading.Lock()
        self._probing = threading.Lock()  # one probe at a time; a deep check waits for it
        self._state = "checking"
        self._checked_at: float | None = None
        self._running = False

    def state(self) -> str:
        """The last known state; starts a new probe when it is older than a minute."""
        with self._lock:
            stale = self._checked_at is None or self._clock() - self._checked_at >= PROBE_EVERY_S
            if stale and not self._running:
                self._running = True
                threading.Thread(target=self._probe, name="jira-probe", daemon=True).start()
            return self._state

    def checked_now(self) -> str:
        """Jira's state from a probe made within DEEP_EVERY_S, made here if need be (a deep
        health check answers what Jira says now, not a minute ago); a probe under way is waited
        for, so its answer, not the one before it, is given."""
        self._probe_if_older_than(DEEP_EVERY_S)
        with self._lock:
            return self._state

    def _probe(self) -> None:
        """The background probe state() starts (a deep check may have answered meanwhile)."""
        self._probe_if_older_than(DEEP_EVERY_S)
        with self._lock:
            self._running = False

    def _probe_if_older_than(self, seconds: float) -> None:
        with self._probing:
            with self._lock:
                checked = self._checked_at
                if checked is not None and self._clock() - checked < seconds:
                    return
            self._ask_jira()

    def _ask_jira(self) -> None:
        try:
            self._check()
            found = "ok"
        except RefusedError as error:
            found = "login refused" if error.status in (401, 403) else "unreachable"
            log.warning("Jira refused the health probe", extra={"error": f"{error}"})
        except GatewayError as error:
            found = "unreachable"
            log.warning("Jira did not answer the health probe", extra={"error": f"{error}"})
        with self._lock:
            self._state, self._checked_at = found, self._clock()


@bp.get("/healthz")
def report_health() -> tuple[Response, int]:
    """Answer 200 when the store and the queue work, else 503 naming what does not. Jira's state
    is reported beside them but never fails the check: deliveries are stored and wait for Jira,
    so a load balancer must not take the edge out because Jira is down.

    `?deep=1` (or /readyz) is the cheap part of `crossdept doctor` for monitors: Jira is asked
    now, and a Jira that does not answer or refuses crossdept's login fails the check too."""
    if request.args.get("deep", "").lower() in ("1", "true", "yes"):
        return report_readiness()
    state = edge()
    checks = {part: "ok" if ok else "failing" for part, ok in state.inbox.health().items()}
    jira = {"jira": state.jira.state()} if state.jira is not None else {}
    if all(value == "ok" for value in checks.values()):
        return jsonify({"status": "ok", **checks, **jira}), 200
    log.warning("health check failed", extra=checks)
    return jsonify({"status": "unavailable", **checks, **jira}), 503


@bp.get("/readyz")
def report_readiness() -> tuple[Response, int]:
    """The deep check: store, queue, and Jira's connection and crossdept's login, all now."""
    state = edge()
    checks = {part: "ok" if ok else "failing" for part, ok in state.inbox.health().items()}
    if state.jira is not None:
        checks["jira"] = state.jira.checked_now()
    if all(value == "ok" for value in checks.values()):
        return jsonify({"status": "ok", **checks}), 200
    log.warning("deep health check failed", extra=checks)
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
