"""Where the web process hands over an accepted webhook: one committed INSERT, nothing else."""

from __future__ import annotations

import logging
import time

from plugin.spine.deliveries import Deliveries, DeliveryState
from plugin.spine.queue import DeliveryQueue
from plugin.spine.store import Store

log = logging.getLogger(__name__)


class Inbox:
    """Accept deliveries on the request's hot path; the worker's feeder enqueues them."""

    def __init__(self, store: Store, queue: DeliveryQueue) -> None:
        self.store = store
        self.queue = queue
        self.deliveries = Deliveries(store)

    def accept(
        self,
        key: str,
        event_name: str,
        issue_key: str | None,
        body: bytes,
        digest: str | None = None,
    ) -> bool:
        """Store a delivery durably; True if new, False if this key or body was accepted before.

        The unique delivery key and body digest make duplicate detection hold across web
        processes: a retry repeats the key, a replay of the signed body under a fresh
        identifier repeats the digest. The
        committed row is the accept: the web process does not touch the queue transport, so a
        queue outage or a process killed right after the commit loses nothing. A worker's
        feeder (`plugin.spine.queue.Feeder`) hands new rows to the transport within milliseconds.
        The receiver logs the outcome, once per delivery.
        """
        return self.deliveries.add(key, event_name, issue_key, body, digest) is not None

    def depth(self) -> int:
        """How many deliveries wait to be processed, retries included."""
        return self.deliveries.count(DeliveryState.QUEUED)

    def health(self) -> dict[str, bool]:
        """Say which of the store and the queue transport answer, for /healthz."""
        try:
            self.queue.pending_count()
            queue_ok = True
        except Exception:  # noqa: BLE001 - any failure of the transport means an unhealthy queue
            log.warning("queue health check raised", exc_info=True)
            queue_ok = False
        answers = self.store.ping()
        return {
            "store": answers,
            "store_writes": answers and self.store.can_write(time.time()),
            "queue": queue_ok,
        }
