"""Active sampling: measure latency, 5xx rate and readiness failures by sending requests.

Used where no Prometheus is configured. ``requests`` requests go out round-robin over
the given `Target`\\ s from ``concurrency`` threads, paced at ``rate_per_s`` in total and
bounded by ``max_duration_s``. Each thread keeps one persistent connection per host
(`pytest_wimmelgate.metrics.wire`), opened before its first timed request, and every
request is built once as bytes, so the latency of a request is the time from sending it
until its whole body has arrived (`time.perf_counter`), nothing else: no session set-up,
no connection set-up (unless the server closed the connection), no header parsing
library, no bookkeeping. That is what the server's own histogram sees plus the loopback
round trip.

Percentiles are read like PromQL's ``histogram_quantile`` over the server histogram's
bucket bounds (``buckets_ms``), so a sampled p95 compares with a Prometheus p95 and with
the same limit; the exact percentile (linear between closest ranks) is kept as evidence.

A request without a complete answer within ``timeout`` (timeout, refused, reset) is a
failed request: it counts against the 5xx rate and readiness failures, and enters the
latency distribution at ``timeout`` (it took at least that long, for a client). Nothing
here ever turns missing answers into "no data".
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pytest_wimmelgate.metrics import wire
from pytest_wimmelgate.metrics.settings import DEFAULT_BUCKETS_MS

DEFAULT_MAX_DURATION_S = 60.0
PAUSE_POLL_S = 0.1


@dataclass(frozen=True)
class Target:
    """One request the sampler sends; header values are never recorded."""

    label: str
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    body: bytes | None = field(default=None, repr=False)
    readiness: bool = False
    touches_database: bool = True
    #: statuses that count as ready (readiness targets); None: any 2xx
    ok_status: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Outcome:
    """What one request got: a status, or the reason it got no complete answer."""

    label: str
    status: int | None
    error: str | None
    latency_ms: float
    started_at: float
    ended_at: float

    @property
    def answered(self) -> bool:
        return self.status is not None

    def failed(self, *, readiness: bool, ok_status: tuple[int, ...] | None = None) -> bool:
        """No answer, a 5xx, or (for readiness) anything but ``ok_status`` (default: any 2xx)."""
        if self.status is None:
            return True
        if not readiness:
            return self.status >= 500
        return self.status not in ok_status if ok_status else not 200 <= self.status < 300


class FaultWindow(Protocol):
    """This run's own faults, as the sampler needs them (see `metrics.fault_window`)."""

    def active(self) -> str | None: ...

    def overlaps(self, start: float, end: float) -> bool: ...


@dataclass(frozen=True)
class SampleResult:
    """What a sampling run measured. Latencies in milliseconds; rates in percent."""

    targets: tuple[Target, ...]
    outcomes: tuple[Outcome, ...]
    duration_s: float
    timeout_s: float
    buckets_ms: tuple[float, ...] = DEFAULT_BUCKETS_MS
    stopped_by_deadline: bool = False
    paused_s: float = 0.0
    dropped: int = 0
    not_sent: Mapping[str, str] = field(default_factory=dict)

    # -- counts ---------------------------------------------------------------------
    @property
    def sent(self) -> int:
        return len(self.outcomes)

    @property
    def answered(self) -> int:
        return sum(1 for o in self.outcomes if o.answered)

    @property
    def unanswered(self) -> int:
        return self.sent - self.answered

    @property
    def status_counts(self) -> dict[int, int]:
        return dict(Counter(o.status for o in self.outcomes if o.status is not None))

    @property
    def errors(self) -> dict[str, int]:
        return dict(Counter(o.error for o in self.outcomes if o.error is not None))

    @property
    def count_5xx(self) -> int:
        return sum(1 for o in self.outcomes if o.status is not None and o.status >= 500)

    def per_label(self) -> dict[str, int]:
        """Requests sent per target, in target order."""
        counts = Counter(o.label for o in self.outcomes)
        return {t.label: counts[t.label] for t in self.targets if counts[t.label]}

    # -- SLIs -----------------------------------------------------------------------
    @property
    def latencies_ms(self) -> tuple[float, ...]:
        """Every request's latency; one without a complete answer counts as ``timeout``."""
        cap = self.timeout_s * 1000.0
        return tuple(o.latency_ms if o.answered else max(o.latency_ms, cap) for o in self.outcomes)

    @property
    def p95_ms(self) -> float | None:
        """p95 read through the server's buckets, like ``histogram_quantile(0.95, …)``."""
        return bucket_quantile(0.95, self.latencies_ms, self.buckets_ms)

    @property
    def p95_exact_ms(self) -> float | None:
        return percentile(self.latencies_ms, 95)

    @property
    def p50_exact_ms(self) -> float | None:
        return percentile(self.latencies_ms, 50)

    @property
    def p99_exact_ms(self) -> float | None:
        return percentile(self.latencies_ms, 99)

    @property
    def error_rate_5xx_pct(self) -> float | None:
        """5xx answers and requests without answer per request sent, in %."""
        if not self.sent:
            return None
        failed = sum(1 for o in self.outcomes if o.status is None or o.status >= 500)
        return 100.0 * failed / self.sent

    @property
    def readiness_failure_pct(self) -> float | None:
        """Readiness requests that were not 2xx (or got no answer), in %."""
        ok = {t.label: t.ok_status for t in self.targets if t.readiness}
        ready = [o for o in self.outcomes if o.label in ok]
        if not ready:
            return None
        return 100.0 * sum(1 for o in ready if o.failed(readiness=True, ok_status=ok[o.label])) / len(ready)

    @property
    def readiness_requests(self) -> int:
        """Readiness requests sent (the events readiness failures rest on)."""
        labels = {t.label for t in self.targets if t.readiness}
        return sum(1 for o in self.outcomes if o.label in labels)

    @property
    def requests_per_second(self) -> float:
        return self.sent / self.duration_s if self.duration_s > 0 else 0.0

    def sli_values(self) -> dict[str, float | None]:
        """Values under the SLI names of `pytest_wimmelgate.metrics.slo` (for `slo.judge`)."""
        return {
            "latency_p95_ms": self.p95_ms,
            "error_rate_5xx_pct": self.error_rate_5xx_pct,
            "readiness_failure_pct": self.readiness_failure_pct,
        }

    def sli_events(self) -> dict[str, int]:
        """The events each ratio SLI of `sli_values` rests on (for `slo.judge`'s ``events``)."""
        return {"error_rate_5xx_pct": self.sent, "readiness_failure_pct": self.readiness_requests}

    # -- words ----------------------------------------------------------------------
    def observed(self, *, readiness_only: bool = False) -> str:
        """What was measured: ``over 100 requests in 2.0 s (50 × GET /readiness, 50 × GET /messages)``."""
        per_label = self.per_label()
        if readiness_only:
            labels = {t.label for t in self.targets if t.readiness}
            per_label = {k: v for k, v in per_label.items() if k in labels}
        total = sum(per_label.values())
        parts = ", ".join(f"{n} × {label}" for label, n in per_label.items())
        text = f"over {total} requests in {self.duration_s:.1f} s ({parts or 'none sent'})"
        if self.unanswered:
            text += f", {self.unanswered} without an answer within {self.timeout_s:g} s (counted as failed)"
        return text

    def notes(self) -> str:
        """Pauses, dropped requests and requests not sent, for the reason."""
        notes = [f"{label} not sampled: {why}" for label, why in self.not_sent.items()]
        if self.paused_s > 0:
            notes.append(f"sampling paused {self.paused_s:.1f} s while this run's own fault was active")
        if self.dropped:
            notes.append(f"{self.dropped} requests overlapping this run's own fault not counted")
        if self.stopped_by_deadline:
            notes.append("stopped at the time bound")
        return "; ".join(notes)

    def summary(self) -> str:
        def ms(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.2f} ms"

        rate = self.error_rate_5xx_pct
        return (
            f"{self.sent} requests in {self.duration_s:.2f} s ({self.requests_per_second:.1f}/s):"
            f" {', '.join(f'{n} × {k}' for k, n in self.per_label().items())};"
            f" p50 {ms(self.p50_exact_ms)}, p95 {ms(self.p95_exact_ms)} exact / {ms(self.p95_ms)} by buckets,"
            f" p99 {ms(self.p99_exact_ms)}; 5xx or no answer {'n/a' if rate is None else f'{rate:.2f} %'};"
            f" without answer {self.unanswered}" + (f" ({self.notes()})" if self.notes() else "")
        )

    def histogram(self) -> dict[str, int]:
        """Requests per latency bucket (non-cumulative): ``{"≤5 ms": 3, …, ">5000 ms": 0}``."""
        counts = {f"≤{b:g} ms": 0 for b in self.buckets_ms}
        counts[f">{self.buckets_ms[-1]:g} ms"] = 0
        labels = list(counts)
        for latency in self.latencies_ms:
            index = next((i for i, b in enumerate(self.buckets_ms) if latency <= b), len(self.buckets_ms))
            counts[labels[index]] += 1
        return counts

    def histogram_text(self, width: int = 40) -> str:
        """The histogram as text bars, for an attachment."""
        hist = self.histogram()
        top = max(hist.values(), default=0) or 1
        label_w = max(len(k) for k in hist)
        return "\n".join(
            f"{label:>{label_w}} {count:>7} {'#' * round(width * count / top)}" for label, count in hist.items()
        )

    def evidence(self) -> dict[str, Any]:
        per_target = {}
        for target in self.targets:
            mine = [o for o in self.outcomes if o.label == target.label]
            per_target[target.label] = {
                "url": target.url,
                "sent": len(mine),
                "status_counts": {str(k): v for k, v in sorted(Counter(o.status for o in mine if o.status).items())},
                "without_answer": dict(Counter(o.error for o in mine if o.error)),
                "touches_database": target.touches_database,
                "readiness": target.readiness,
            }
        return {
            "sent": self.sent,
            "answered": self.answered,
            "duration_s": round(self.duration_s, 3),
            "requests_per_second": round(self.requests_per_second, 2),
            "timeout_s": self.timeout_s,
            "p95_ms_by_buckets": self.p95_ms,
            "p50_ms_exact": self.p50_exact_ms,
            "p95_ms_exact": self.p95_exact_ms,
            "p99_ms_exact": self.p99_exact_ms,
            "error_rate_5xx_pct": self.error_rate_5xx_pct,
            "readiness_failure_pct": self.readiness_failure_pct,
            "status_counts": {str(k): v for k, v in sorted(self.status_counts.items())},
            "without_answer": self.errors,
            "requests": per_target,
            "not_sent": dict(self.not_sent),
            "paused_s": round(self.paused_s, 3),
            "dropped_overlapping_own_fault": self.dropped,
            "stopped_by_deadline": self.stopped_by_deadline,
            "buckets_ms": list(self.buckets_ms),
            "histogram": self.histogram(),
        }


def percentile(values: Sequence[float], q: float) -> float | None:
    """The exact ``q``-th percentile, linear between the closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def histogram_quantile(q: float, cumulative: Mapping[float, float]) -> float | None:
    """PromQL's ``histogram_quantile`` over cumulative bucket counts ``{le: count}`` (``+Inf`` needed).

    Linear interpolation inside the bucket holding the rank, the lowest bucket starting
    at 0; a rank in the ``+Inf`` bucket gives the highest finite bound.
    """
    bounds = sorted(cumulative)
    if not bounds or not math.isinf(bounds[-1]):
        return None
    total = cumulative[bounds[-1]]
    if total <= 0:
        return None
    rank = q * total
    previous_bound, previous_count = 0.0, 0.0
    for bound in bounds:
        count = cumulative[bound]
        if count >= rank:
            if math.isinf(bound):
                return previous_bound
            in_bucket = count - previous_count
            if in_bucket <= 0:
                return bound
            return previous_bound + (bound - previous_bound) * (rank - previous_count) / in_bucket
        previous_bound, previous_count = bound, count
    return None


def cumulative_buckets(values_ms: Sequence[float], buckets_ms: Sequence[float]) -> dict[float, float]:
    """``values_ms`` counted into cumulative ``le`` buckets, as a server histogram holds them."""
    cumulative = {float(le): float(sum(1 for v in values_ms if v <= le)) for le in buckets_ms}
    cumulative[math.inf] = float(len(values_ms))
    return cumulative


def bucket_quantile(q: float, values_ms: Sequence[float], buckets_ms: Sequence[float]) -> float | None:
    """``q`` of ``values_ms`` as Prometheus would report it from a histogram with ``buckets_ms``."""
    if not values_ms:
        return None
    return histogram_quantile(q, cumulative_buckets(values_ms, buckets_ms))


def _send(connections: wire.Connections, target: Target, request: wire.Prepared, timeout: float) -> Outcome:
    wall = time.time()
    status: int | None = None
    error: str | None = None
    begin = time.perf_counter()
    try:
        connections.ready(request)
        begin = time.perf_counter()  # connection set-up is not the request's latency
        status, _ = connections.exchange(request, begin + timeout)
    except TimeoutError:
        error = "timeout"
        connections.drop(request)
    except ConnectionRefusedError:
        error = "connection refused"
        connections.drop(request)
    except (OSError, ValueError) as exc:
        error = type(exc).__name__
        connections.drop(request)
    elapsed_ms = (time.perf_counter() - begin) * 1000.0
    return Outcome(target.label, status, error, elapsed_ms, wall, wall + elapsed_ms / 1000.0)


def sample(
    targets: Sequence[Target],
    *,
    requests: int,
    concurrency: int,
    timeout: float,
    rate_per_s: float = 0.0,
    max_duration_s: float = DEFAULT_MAX_DURATION_S,
    buckets_ms: Sequence[float] = DEFAULT_BUCKETS_MS,
    faults: FaultWindow | None = None,
    stop: Callable[[], bool] | None = None,
) -> SampleResult:
    """Send ``requests`` requests, round-robin over ``targets``, and measure them.

    Request *i* is due at ``i / rate_per_s`` (0: at once). No new request starts after
    ``max_duration_s``, while ``faults.active()`` names an active fault of this run (the
    time is reported as paused), or once ``stop()`` is true; a request that overlapped
    such a fault is not counted.
    """
    if not targets:
        raise ValueError("nothing to sample: no targets")
    if requests < 1 or concurrency < 1:
        raise ValueError("requests and concurrency must be at least 1")
    if timeout <= 0 or max_duration_s <= 0 or rate_per_s < 0:
        raise ValueError("timeout and max_duration_s must be positive, rate_per_s not negative")

    lock = threading.Lock()
    state: dict[str, Any] = {"issued": 0, "deadline_hit": False, "paused_s": 0.0, "pause_began": None}
    outcomes: list[Outcome] = []
    started = time.perf_counter()
    deadline = started + max_duration_s

    def end_pause(now: float) -> None:
        if state["pause_began"] is not None:
            state["paused_s"] += now - state["pause_began"]
            state["pause_began"] = None

    def take_ticket() -> int | None:
        while True:
            with lock:
                now = time.perf_counter()
                if state["issued"] >= requests or (stop is not None and stop()):
                    end_pause(now)
                    return None
                if now >= deadline:
                    end_pause(now)
                    state["deadline_hit"] = True
                    return None
                if faults is None or faults.active() is None:
                    end_pause(now)
                    ticket = int(state["issued"])
                    state["issued"] += 1
                    return ticket
                if state["pause_began"] is None:
                    state["pause_began"] = now
            time.sleep(PAUSE_POLL_S)

    prepared = [wire.prepare(t.method, t.url, t.headers, t.body) for t in targets]

    def worker() -> None:
        connections = wire.Connections(timeout)
        try:
            while (ticket := take_ticket()) is not None:
                if rate_per_s > 0:
                    due = started + float(state["paused_s"]) + ticket / rate_per_s
                    delay = due - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                index = ticket % len(targets)
                outcome = _send(connections, targets[index], prepared[index], timeout)
                with lock:
                    outcomes.append(outcome)
        finally:
            connections.close()

    threads = [
        threading.Thread(target=worker, name=f"wimmelgate-sampler-{i}", daemon=True)
        for i in range(min(concurrency, requests))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        # A worker finishes its current request (bounded by timeout) after the deadline.
        thread.join(timeout=max_duration_s + timeout + 5.0)
    duration = time.perf_counter() - started
    with lock:
        kept = [o for o in outcomes if faults is None or not faults.overlaps(o.started_at, o.ended_at)]
        return SampleResult(
            targets=tuple(targets),
            outcomes=tuple(kept),
            duration_s=duration,
            timeout_s=timeout,
            buckets_ms=tuple(float(b) for b in buckets_ms),
            stopped_by_deadline=bool(state["deadline_hit"]),
            paused_s=float(state["paused_s"]),
            dropped=len(outcomes) - len(kept),
        )
