"""The sandbox's webhook outbox: sign, deliver, retry, duplicate and reorder like Jira Cloud.

Headers and signing follow https://developer.atlassian.com/cloud/jira/platform/webhooks/
("Secure admin webhooks": `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`) and the
retry policy in https://community.developer.atlassian.com/t/new-jira-cloud-webhook-retry-policy/30554
(retry on 408, 409, 425, 429, 5xx or a failed connection; up to 5 retries; same identifier).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

Deliver = Callable[[dict[str, str], bytes], int]
RETRYABLE = frozenset({408, 409, 425, 429})
MAX_RETRIES = 5


def sign(secret: str, body: bytes) -> str:
    """The X-Hub-Signature value Jira sends for a body."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def is_retryable(status: int | None) -> bool:
    """Whether Jira would try this delivery again (None = the connection failed)."""
    return status is None or status in RETRYABLE or status >= 500


@dataclass
class Delivery:
    """One webhook waiting in the outbox; `attempts` counts sends so far."""

    identifier: str
    event: str
    body: bytes
    attempts: int = 0
    duplicate: bool = False
    not_before: float = 0.0  # time.monotonic() before which a retry is not sent

    def payload(self) -> Any:
        """The decoded JSON body, for tests."""
        return json.loads(self.body)


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to one send."""

    identifier: str
    event: str
    status: int | None
    retry: int  # 0 on the first attempt, else the X-Atlassian-Webhook-Retry value
    error: str | None = None


@dataclass
class WebhookOutbox:
    """Webhooks queued by the Jira fake, sent through a `deliver(headers, body) -> status` callable."""

    secret: str | None = None
    events: frozenset[str] = frozenset()
    rng_seed: int = 0
    reorder: bool = False
    duplicate_share: float = 0.0  # each webhook is delivered twice with this probability
    # Seconds between a failed send and its retry, drawn from this range. Jira Cloud waits
    # 5 to 15 minutes; 0 (the default) retries on the next delivery round.
    retry_delay_s: tuple[float, float] = (0.0, 0.0)
    pending: list[Delivery] = field(default_factory=list)
    sent: list[Delivery] = field(default_factory=list)
    failed: list[Delivery] = field(default_factory=list)
    results: list[DeliveryResult] = field(default_factory=list)
    _duplicates_left: int = 0
    _delivering: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.rng_seed)

    def enqueue(self, event: str, payload: dict[str, Any]) -> Delivery | None:
        """Queue a webhook if its event is subscribed; the identifier stays the same across retries."""
        if self.events and event not in self.events:
            return None
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        with self._lock:
            # Unique across sandbox starts, as Jira's identifiers are unique within a site: a
            # restarted sandbox must never look like a redelivery. The seed drives reordering only.
            identifier = str(uuid.uuid4())
            delivery = Delivery(identifier, event, body)
            if self._duplicates_left > 0:
                self._duplicates_left -= 1
                delivery.duplicate = True
            elif self.duplicate_share and self._rng.random() < self.duplicate_share:
                delivery.duplicate = True
            self.pending.append(delivery)
        return delivery

    def duplicate_next(self, count: int) -> None:
        """Deliver the next `count` queued webhooks twice (the second marked as a retry)."""
        with self._lock:
            self._duplicates_left += count
            for delivery in self.pending:
                if self._duplicates_left == 0:
                    break
                if not delivery.duplicate:
                    delivery.duplicate = True
                    self._duplicates_left -= 1

    def headers_for(self, delivery: Delivery) -> dict[str, str]:
        """The delivery headers Jira Cloud sends for the delivery's next attempt."""
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Atlassian Webhook HTTP Client",
            "X-Atlassian-Webhook-Identifier": delivery.identifier,
            "X-Atlassian-Webhook-Flow": "Primary",
        }
        if delivery.attempts > 0:
            headers["X-Atlassian-Webhook-Retry"] = str(delivery.attempts)
        if self.secret:
            headers["X-Hub-Signature"] = sign(self.secret, delivery.body)
        return headers

    def deliver(self, deliver: Deliver, *, reorder: bool | None = None) -> list[DeliveryResult]:
        """Send everything pending once; keep retryable failures for the next call."""
        now = time.monotonic()
        with self._lock:
            batch = [delivery for delivery in self.pending if delivery.not_before <= now]
            self.pending[:] = [delivery for delivery in self.pending if delivery.not_before > now]
            self._delivering += 1
            if (self.reorder if reorder is None else reorder) and len(batch) > 1:
                original = list(batch)
                self._rng.shuffle(batch)
                if batch == original:
                    batch.reverse()
        try:
            return self._deliver_batch(batch, deliver)
        finally:
            with self._lock:
                self._delivering -= 1

    @property
    def busy(self) -> bool:
        """Whether a webhook is waiting or being sent (a retry waiting counts)."""
        with self._lock:
            return bool(self.pending) or self._delivering > 0

    def _deliver_batch(self, batch: list[Delivery], deliver: Deliver) -> list[DeliveryResult]:
        results: list[DeliveryResult] = []
        keep: list[Delivery] = []
        for delivery in batch:
            outcome = self._send(delivery, deliver)
            results.append(outcome)
            if delivery.duplicate:
                delivery.duplicate = False
                results.append(self._send(delivery, deliver))
            if outcome.status is not None and 200 <= outcome.status < 300:
                self.sent.append(delivery)
            elif is_retryable(outcome.status) and delivery.attempts <= MAX_RETRIES:
                delivery.not_before = time.monotonic() + self._rng.uniform(*self.retry_delay_s)
                keep.append(delivery)
            else:
                self.failed.append(delivery)
        with self._lock:
            self.pending[:0] = keep
            self.results.extend(results)
        return results

    def _send(self, delivery: Delivery, deliver: Deliver) -> DeliveryResult:
        headers = self.headers_for(delivery)
        retry = delivery.attempts
        delivery.attempts += 1
        try:
            status: int | None = deliver(headers, delivery.body)
            error = None
        except Exception as exc:  # a failed connection is retried, like Jira does
            status, error = None, f"{type(exc).__name__}: {exc}"
        return DeliveryResult(delivery.identifier, delivery.event, status, retry, error)


def http_deliverer(
    url: str | Sequence[str], *, timeout: tuple[float, float] = (5.0, 20.0)
) -> Deliver:
    """POST webhooks to a URL with Jira Cloud's timeouts (5 s connect, 20 s response).

    Given several URLs, each send goes to the next one in turn, as a load balancer in front of
    several web processes would spread them; a retry may so land on another process.
    """
    urls = [url] if isinstance(url, str) else list(url)
    if not urls:
        raise ValueError("no webhook URL")
    turns = itertools.cycle(urls)
    turn_lock = threading.Lock()
    session = requests.Session()

    def deliver(headers: dict[str, str], body: bytes) -> int:
        with turn_lock:
            target = next(turns)
        response = session.post(target, data=body, headers=headers, timeout=timeout)
        return response.status_code

    return deliver


class WebhookPump(threading.Thread):
    """Background thread that drains the outbox to a URL until stopped."""

    def __init__(self, outbox: WebhookOutbox, deliver: Deliver, *, interval: float = 0.5) -> None:
        super().__init__(name="sandbox-webhooks", daemon=True)
        self.outbox = outbox
        self.deliver_to = deliver
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            if self.outbox.pending:
                self.outbox.deliver(self.deliver_to)
            self.stopped.wait(self.interval)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to finish and wait for it."""
        self.stopped.set()
        self.join(timeout)
