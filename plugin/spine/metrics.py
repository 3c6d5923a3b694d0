"""Prometheus metrics for deliveries, jobs and Jira calls, in one process or shared by several.

prometheus_client picks its storage when it is imported: with PROMETHEUS_MULTIPROC_DIR set in
the environment (`crossdept serve` sets it), every process writes its samples to files in that
directory and `render_metrics` merges them; without it, samples live in this process's memory.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

DELIVERIES = Counter(
    "crossdept_deliveries",
    "Webhook deliveries by outcome (accepted, duplicate, ignored, rejected) and rejection reason.",
    ["outcome", "reason"],
)
DELIVERY_SECONDS = Histogram(
    "crossdept_delivery_seconds",
    "Time to answer a webhook delivery, from request to response.",
    ["outcome"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0),
)
JOB_SECONDS = Histogram(
    "crossdept_job_seconds",
    "Time a queued job took, by outcome (done, retried, failed, skipped).",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
JIRA_CALLS = Counter(
    "crossdept_jira_calls",
    "HTTP calls to Jira and Confluence by endpoint template, method and status (0 = no answer).",
    ["endpoint", "method", "status"],
)

_ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]+-\d+$")
_NUMBER = re.compile(r"^\d+$")


def endpoint_template(path: str) -> str:
    """Turn `/rest/api/2/issue/XD-12/comment/100` into `/rest/api/2/issue/{key}/comment/{id}`.

    Keeps the label's values few, whatever path a caller passes.
    """
    path = path.split("?", 1)[0]
    parts = []
    for part in path.split("/"):
        if _ISSUE_KEY.match(part):
            parts.append("{key}")
        elif _NUMBER.match(part) and not (parts and parts[-1] == "api"):
            parts.append("{id}")
        else:
            parts.append(part)
    return "/".join(parts)


# Labelled children by label values: `.labels()` builds and checks a key on every call, which
# costs as much as the sample itself on the webhook's hot path. The label values are few.
_DELIVERY_COUNTERS: dict[tuple[str, str], Any] = {}
_DELIVERY_TIMERS: dict[str, Any] = {}


def observe_delivery(outcome: str, reason: str = "", seconds: float | None = None) -> None:
    """Count one webhook delivery; `reason` is a short code such as `signature` for rejections."""
    counter = _DELIVERY_COUNTERS.get((outcome, reason))
    if counter is None:
        counter = _DELIVERY_COUNTERS[(outcome, reason)] = DELIVERIES.labels(outcome, reason)
    counter.inc()
    if seconds is not None:
        timer = _DELIVERY_TIMERS.get(outcome)
        if timer is None:
            timer = _DELIVERY_TIMERS[outcome] = DELIVERY_SECONDS.labels(outcome)
        timer.observe(seconds)


def observe_job(latency_s: float, outcome: str) -> None:
    """Record how long one queued job took and how it ended."""
    JOB_SECONDS.labels(outcome=outcome).observe(latency_s)


def observe_jira_call(endpoint: str, method: str, status: int) -> None:
    """Count one HTTP call to Jira or Confluence (the gateways' observer)."""
    JIRA_CALLS.labels(
        endpoint=endpoint_template(endpoint), method=method.upper(), status=str(status)
    ).inc()


log = logging.getLogger(__name__)


class QueueDepthCollector(Collector):
    """Report the jobs waiting in the queue, read when Prometheus scrapes, not kept in a gauge."""

    def __init__(self, depth: Callable[[], int]) -> None:
        self._depth = depth

    def collect(self) -> Iterable[Metric]:
        """Yield the current depth; a failing queue reports no sample rather than a wrong one."""
        family = GaugeMetricFamily("crossdept_queue_depth", "Jobs waiting in the queue.")
        try:
            family.add_metric([], float(self._depth()))
        except Exception:  # noqa: BLE001 - /healthz reports the failure; metrics stay available
            return []
        return [family]


class AskResponseCollector(Collector):
    """Report how long people took to answer asks, per department, read from the store at scrape
    time (so every process reports the same figures, and nothing is kept in memory)."""

    def __init__(self, read: Callable[[], Iterable[Any]], buckets: Iterable[float]) -> None:
        self._read = read
        self._bounds = [str(bound) for bound in buckets]

    def collect(self) -> Iterable[Metric]:
        """Yield one histogram, labelled by department; nothing when the store does not answer."""
        family = HistogramMetricFamily(
            "crossdept_ask_response_hours",
            "Hours (in the configured clock) until the person asked answered, by department.",
            labels=["department"],
        )
        try:
            found = list(self._read())
        except Exception:  # noqa: BLE001 - /healthz reports the failure; metrics stay available
            return []
        for times in found:
            points = list(zip(self._bounds, (float(n) for n in times.buckets), strict=True))
            points.append(("+Inf", float(times.count)))
            family.add_metric([times.department], points, times.total_hours)
        return [family]


class DepartmentItemsCollector(Collector):
    """Report each department's items by state and its on-time rate, from the goal board's
    figures (counted over the item mirror; nothing while the store does not answer or the mirror
    has not read Jira yet)."""

    def __init__(self, read: Callable[[], Any]) -> None:
        self._read = read

    def collect(self) -> Iterable[Metric]:
        """Yield the items gauge (by department and state) and the on-time ratio gauge."""
        items = GaugeMetricFamily(
            "crossdept_department_items",
            "Items owned by each department, by state (on_time, late, not_started, in_progress, delayed).",
            labels=["department", "state"],
        )
        on_time = GaugeMetricFamily(
            "crossdept_department_on_time_ratio",
            "Done on time / (done + delayed), per department; absent while it cannot be known.",
            labels=["department"],
        )
        try:
            board = self._read()
        except Exception:  # noqa: BLE001 - a store outage must not take /metrics down
            log.warning("board figures unavailable for /metrics", exc_info=True)
            return []
        if board is None:  # nothing counted yet: no samples rather than zeros
            return []
        for row in board.departments:
            for state, count in (
                ("on_time", row.done_on_time),
                ("late", row.done_late),
                ("not_started", row.not_started),
                ("in_progress", row.in_progress),
                ("delayed", row.delayed),
            ):
                items.add_metric([row.department, state], float(count))
            if row.on_time_rate is not None:
                on_time.add_metric([row.department], row.on_time_rate)
        return [items, on_time]


def multiprocess_mode() -> bool:
    """Say whether samples are shared through files (PROMETHEUS_MULTIPROC_DIR was set at import)."""
    return values.ValueClass is not values.MutexValue


def render_metrics(
    *, extra: Iterable[Collector] = (), directory: Path | None = None
) -> tuple[bytes, str]:
    """Return the exposition text and its content type, merged over processes when shared."""
    registry: CollectorRegistry
    if multiprocess_mode():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]
            registry, path=str(directory) if directory else None
        )
    else:
        registry = CollectorRegistry()
        registry.register(_Forward(REGISTRY))
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST


def mark_process_dead(pid: int, directory: Path | None = None) -> None:
    """Drop a dead process's live-only samples (gunicorn's `child_exit` hook calls this)."""
    if multiprocess_mode():
        multiprocess.mark_process_dead(  # type: ignore[no-untyped-call]
            pid, str(directory) if directory else None
        )


class _Forward(Collector):
    """Expose another registry's metrics beside per-scrape collectors, without re-registering."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterable[Metric]:
        return self._registry.collect()
