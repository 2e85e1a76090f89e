"""Active sampling: measure latency and 5xx rate by sending requests ourselves.

Used where no Prometheus is configured. A bounded number of requests (and a bounded
wall time) goes out from ``concurrency`` threads, each with its own
`requests.Session` (sessions are not thread-safe). Latency is client-side: from
sending the request until the whole body has arrived, so it includes connection
set-up on the first request of each thread and network time — expect it to sit a
little above the server's own histogram.

Percentiles interpolate linearly between the closest ranks (NumPy's default method).
5xx rate is over the requests that got an HTTP answer, as the server's
``http_requests_total`` counts them; transport failures (timeout, refused) are counted
separately in ``errors`` and ``transport_error_pct``.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests as _requests

#: Same bucket bounds as the reference backend's http_request_duration_seconds (in ms).
DEFAULT_BUCKETS_MS: tuple[float, ...] = (
    5,
    10,
    25,
    50,
    100,
    200,
    300,
    400,
    500,
    750,
    1000,
    2000,
    5000,
)
DEFAULT_MAX_DURATION_S = 60.0


@dataclass(frozen=True)
class SampleResult:
    """What a sampling run measured. Latencies in milliseconds; rates in percent."""

    url: str
    method: str
    sent: int
    answered: int
    status_counts: Mapping[int, int]
    errors: Mapping[str, int]
    duration_s: float
    latencies_ms: tuple[float, ...] = field(repr=False, default=())
    buckets_ms: tuple[float, ...] = DEFAULT_BUCKETS_MS
    stopped_by_deadline: bool = False

    @property
    def p50_ms(self) -> float | None:
        return percentile(self.latencies_ms, 50)

    @property
    def p95_ms(self) -> float | None:
        return percentile(self.latencies_ms, 95)

    @property
    def p99_ms(self) -> float | None:
        return percentile(self.latencies_ms, 99)

    @property
    def count_5xx(self) -> int:
        return sum(n for status, n in self.status_counts.items() if 500 <= status <= 599)

    @property
    def error_rate_5xx_pct(self) -> float | None:
        """5xx answers per answered request, in %; None without any answer (no data)."""
        if not self.answered:
            return None
        return 100.0 * self.count_5xx / self.answered

    @property
    def transport_errors(self) -> int:
        return sum(self.errors.values())

    @property
    def transport_error_pct(self) -> float | None:
        return 100.0 * self.transport_errors / self.sent if self.sent else None

    @property
    def requests_per_second(self) -> float:
        return self.sent / self.duration_s if self.duration_s > 0 else 0.0

    def histogram(self) -> dict[str, int]:
        """Answers per latency bucket (non-cumulative): ``{"≤5 ms": 3, …, ">5000 ms": 0}``."""
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

    def sli_values(self) -> dict[str, float | None]:
        """Values under the SLI names of `pytest_wimmelgate.metrics.slo` (for `slo.judge`)."""
        return {"latency_p95_ms": self.p95_ms, "error_rate_5xx_pct": self.error_rate_5xx_pct}

    def summary(self) -> str:
        def ms(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.1f} ms"

        rate = self.error_rate_5xx_pct
        return (
            f"{self.method} {self.url}: {self.sent} requests in {self.duration_s:.2f} s"
            f" ({self.requests_per_second:.1f}/s); p50 {ms(self.p50_ms)}, p95 {ms(self.p95_ms)},"
            f" p99 {ms(self.p99_ms)}; 5xx {'n/a' if rate is None else f'{rate:.2f} %'};"
            f" transport errors {self.transport_errors}"
            + (" (stopped at the time bound)" if self.stopped_by_deadline else "")
        )

    def evidence(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "method": self.method,
            "sent": self.sent,
            "answered": self.answered,
            "duration_s": round(self.duration_s, 3),
            "requests_per_second": round(self.requests_per_second, 2),
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "error_rate_5xx_pct": self.error_rate_5xx_pct,
            "status_counts": {str(k): v for k, v in sorted(self.status_counts.items())},
            "transport_errors": dict(self.errors),
            "stopped_by_deadline": self.stopped_by_deadline,
            "histogram": self.histogram(),
        }


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile with linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def sample(
    url: str,
    *,
    requests: int,
    concurrency: int,
    timeout: float,
    headers: Mapping[str, str] | None = None,
    method: str = "GET",
    max_duration_s: float = DEFAULT_MAX_DURATION_S,
    buckets_ms: Sequence[float] = DEFAULT_BUCKETS_MS,
) -> SampleResult:
    """Send ``requests`` requests to ``url`` from ``concurrency`` threads and measure.

    Stops early, without starting more requests, once ``max_duration_s`` has passed;
    every request has ``timeout``. Header values are never recorded in the result.
    """
    if requests < 1:
        raise ValueError("requests must be at least 1")
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if timeout <= 0 or max_duration_s <= 0:
        raise ValueError("timeout and max_duration_s must be positive")

    lock = threading.Lock()
    state = {"issued": 0, "deadline_hit": False}
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    started = time.perf_counter()
    deadline = started + max_duration_s

    def take_ticket() -> bool:
        with lock:
            if state["issued"] >= requests:
                return False
            if time.perf_counter() >= deadline:
                state["deadline_hit"] = True
                return False
            state["issued"] += 1
            return True

    def worker() -> None:
        with _requests.Session() as session:
            if headers:
                session.headers.update(headers)
            while take_ticket():
                begin = time.perf_counter()
                try:
                    response = session.request(method, url, timeout=timeout)
                    _ = response.content  # the whole body is part of the latency
                except _requests.Timeout:
                    outcome: int | str = "timeout"
                except _requests.ConnectionError:
                    outcome = "connection error"
                except _requests.RequestException as exc:
                    outcome = exc.__class__.__name__
                else:
                    outcome = response.status_code
                elapsed_ms = (time.perf_counter() - begin) * 1000.0
                with lock:
                    if isinstance(outcome, int):
                        statuses[outcome] += 1
                        latencies.append(elapsed_ms)
                    else:
                        errors[outcome] += 1

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
        return SampleResult(
            url=url,
            method=method,
            sent=int(state["issued"]),
            answered=sum(statuses.values()),
            status_counts=dict(statuses),
            errors=dict(errors),
            duration_s=duration,
            latencies_ms=tuple(latencies),
            buckets_ms=tuple(buckets_ms),
            stopped_by_deadline=bool(state["deadline_hit"]),
        )
