"""Where the web process hands over an accepted webhook: stored durably first, then enqueued."""

from __future__ import annotations

import logging

from plugin.queue import DeliveryQueue
from plugin.store import Deliveries, DeliveryState, Store

log = logging.getLogger(__name__)


class Inbox:
    """Accept deliveries on the request's hot path: one INSERT, one enqueue."""

    def __init__(self, store: Store, queue: DeliveryQueue) -> None:
        self.store = store
        self.queue = queue
        self.deliveries = Deliveries(store)

    def accept(self, key: str, event_name: str, issue_key: str | None, body: bytes) -> bool:
        """Store and enqueue a delivery; True if new, False if this key was accepted before.

        The unique delivery key makes duplicate detection hold across web processes. The row is
        committed before the enqueue: if the enqueue then fails (queue down, process killed),
        the delivery is still safe, and the workers' recovery enqueues it later.
        """
        delivery_id = self.deliveries.add(key, event_name, issue_key, body)
        if delivery_id is None:
            log.info("delivery duplicate", extra={"delivery": key, "issue": issue_key})
            return False
        try:
            self.queue.enqueue_delivery(delivery_id)
        except Exception:  # noqa: BLE001 - stored already; recovery enqueues it later
            log.exception(
                "delivery stored but not enqueued; recovery will enqueue it",
                extra={"delivery": key, "issue": issue_key},
            )
        else:
            log.info("delivery accepted", extra={"delivery": key, "issue": issue_key})
        return True

    def depth(self) -> int:
        """How many deliveries wait to be processed, retries included."""
        return self.deliveries.count(DeliveryState.QUEUED)

    def healthy(self) -> bool:
        """Say whether both the store and the queue transport answer, for /healthz."""
        if not self.store.ping():
            return False
        try:
            self.queue.pending_count()
        except Exception:  # noqa: BLE001 - any failure means unhealthy
            return False
        return True
