"""Push notifications: accepted now, delivered by a background thread shortly after."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from pytest_wimmelgate.sandbox.service.fault_switches import EvenlySpaced
from pytest_wimmelgate.sandbox.service.jsonlog import utc_timestamp

if TYPE_CHECKING:
    from pytest_wimmelgate.sandbox.service.database import Database
    from pytest_wimmelgate.sandbox.service.instruments import Metrics
    from pytest_wimmelgate.sandbox.service.jsonlog import JsonLog

COLLECTION = "push_deliveries"


class PushDispatcher:
    """Stores each delivery as ``pending`` and settles it after ``delay_s``.

    A fraction ``failure_rate`` of deliveries, evenly spaced, ends ``failed`` (the
    push_failure_rate fault); the outcome is counted in ``push_deliveries_total{result}``.
    `dispatch` sends without a stored record (fire-and-forget: nothing to track or delete).
    """

    def __init__(self, db: Database, metrics: Metrics, log: JsonLog, *, delay_s: float, failure_rate: float) -> None:
        self._db = db
        self._metrics = metrics
        self._log = log
        self._delay_s = delay_s
        self._failures = EvenlySpaced(failure_rate)
        self._queue: queue.Queue[tuple[float, str, bool]] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="push-dispatcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._queue.put((0.0, "", False))  # wake the thread at once
        if self._thread.is_alive():
            self._thread.join(timeout=3)

    def submit(self, owner: str, tag: str, run_id: str | None) -> str:
        """Record a pending delivery and queue it; pymongo errors propagate."""
        delivery_id = uuid.uuid4().hex
        self._db.insert(
            COLLECTION,
            {
                "_id": delivery_id,
                "owner": owner,
                "tag": tag,
                "run_id": run_id,
                "status": "pending",
                "created_at": utc_timestamp(),
                "delivered_at": None,
            },
        )
        self._queue.put((time.monotonic() + self._delay_s, delivery_id, True))
        return delivery_id

    def dispatch(self) -> str:
        """Queue a delivery that leaves no record (its outcome is only counted and logged)."""
        delivery_id = uuid.uuid4().hex
        self._queue.put((time.monotonic() + self._delay_s, delivery_id, False))
        return delivery_id

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                due, delivery_id, recorded = self._queue.get(timeout=1.0)
            except queue.Empty:
                continue
            if not delivery_id:
                return
            wait = due - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                return
            self._settle(delivery_id, recorded)

    def _settle(self, delivery_id: str, recorded: bool) -> None:
        failed = self._failures.hit()
        status = "failed" if failed else "delivered"
        fields: dict[str, Any] = {"status": status, "delivered_at": utc_timestamp()}
        if failed:
            fields["error"] = "push gateway rejected the notification (injected fault)"
        try:
            if recorded:
                self._db.update(COLLECTION, delivery_id, fields)
        except Exception as exc:
            status = "failed"
            self._log.error("push delivery status not stored", delivery_id=delivery_id, error=exc.__class__.__name__)
        self._metrics.push.labels(result=status).inc()
        if status == "failed":
            self._log.warning("push delivery failed", event="push.failed", delivery_id=delivery_id)
        else:
            self._log.debug("push delivered", event="push.delivered", delivery_id=delivery_id)
