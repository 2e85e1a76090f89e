"""The active sampler against a local threaded HTTP server with known delays and 500s."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pytest_wimmelgate.metrics import sampler, slo

DELAY_S = 0.020


class _Handler(BaseHTTPRequestHandler):
    """/delay: 20 ms then 200, every 10th request 500; /hang: 1 s; /auth: 401 without token."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the client's delayed ACK
    # adds ~40 ms to every keep-alive answer.
    disable_nagle_algorithm = True
    counter = 0
    lock = threading.Lock()

    def do_GET(self) -> None:
        if self.path == "/hang":
            time.sleep(1.0)
            self._answer(200)
        elif self.path == "/auth":
            ok = self.headers.get("Authorization") == "Bearer t0ken"
            self._answer(200 if ok else 401)
        else:
            with _Handler.lock:
                _Handler.counter += 1
                n = _Handler.counter
            time.sleep(DELAY_S)
            self._answer(500 if n % 10 == 0 else 200)

    def _answer(self, status: int) -> None:
        body = b'{"status":"ok"}' if status == 200 else b'{"error":"boom"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def slow_server() -> Iterator[str]:
    """A loopback server answering after a known delay, with 10 % 500s."""
    _Handler.counter = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_p95_is_close_to_the_known_delay_and_5xx_rate_is_exact(slow_server: str) -> None:
    result = sampler.sample(f"{slow_server}/delay", requests=200, concurrency=8, timeout=5)

    assert result.sent == result.answered == 200
    assert result.status_counts == {200: 180, 500: 20}
    assert result.error_rate_5xx_pct == pytest.approx(10.0)
    assert result.transport_errors == 0
    assert result.p50_ms is not None and result.p95_ms is not None and result.p99_ms is not None
    assert DELAY_S * 1000 <= result.p50_ms <= result.p95_ms <= result.p99_ms
    assert result.p95_ms < DELAY_S * 1000 + 25, result.summary()
    # 8 workers × ~1 request / 20 ms: well above 100/s, well below the unbounded rate
    assert 100 < result.requests_per_second < 8 / DELAY_S * 1.05
    histogram = result.histogram()
    assert sum(histogram.values()) == 200
    assert histogram["≤25 ms"] + histogram["≤50 ms"] == 200 - histogram["≤100 ms"] - sum(
        v for k, v in histogram.items() if k not in ("≤25 ms", "≤50 ms", "≤100 ms")
    )
    assert "≤25 ms" in result.histogram_text()
    assert result.evidence()["status_counts"] == {"200": 180, "500": 20}


def test_sampled_values_judge_like_prometheus_values(slow_server: str) -> None:
    result = sampler.sample(f"{slow_server}/delay", requests=40, concurrency=4, timeout=5)
    objective = slo.Objective("PD-2", slo.DEFAULT_SLIS["error_rate_5xx_pct"], "<", 2, "1m")
    value = result.sli_values()["error_rate_5xx_pct"]
    assert value is not None

    evaluation = slo.judge(objective, [value], endpoint=result.url, query="active sampling")

    assert evaluation.verdict == slo.FAIL
    assert evaluation.reason.startswith("5xx rate 10 % > limit 2 % over 1m (query active sampling")


def test_timeouts_are_transport_errors_and_mean_no_latency_data(slow_server: str) -> None:
    started = time.monotonic()
    result = sampler.sample(f"{slow_server}/hang", requests=4, concurrency=4, timeout=0.2)

    assert time.monotonic() - started < 1.0
    assert result.errors == {"timeout": 4}
    assert result.answered == 0
    assert result.p95_ms is None and result.error_rate_5xx_pct is None
    assert result.transport_error_pct == 100.0
    assert "p95 n/a" in result.summary()


def test_connection_refused_is_counted(closed_url: str) -> None:
    result = sampler.sample(closed_url, requests=3, concurrency=2, timeout=1)
    assert result.errors == {"connection error": 3}


def test_headers_are_sent_and_not_recorded(slow_server: str) -> None:
    result = sampler.sample(
        f"{slow_server}/auth",
        requests=5,
        concurrency=2,
        timeout=5,
        headers={"Authorization": "Bearer t0ken"},
    )
    assert result.status_counts == {200: 5}
    assert "t0ken" not in repr(result) and "t0ken" not in str(result.evidence())


def test_time_bound_stops_issuing_requests(slow_server: str) -> None:
    result = sampler.sample(f"{slow_server}/delay", requests=10_000, concurrency=2, timeout=5, max_duration_s=0.3)
    assert result.stopped_by_deadline
    assert 2 <= result.sent < 100
    assert result.duration_s < 1.0
    assert "stopped at the time bound" in result.summary()


def test_percentile_interpolates_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert sampler.percentile(values, 50) == pytest.approx(50.5)
    assert sampler.percentile(values, 95) == pytest.approx(95.05)
    assert sampler.percentile([7.0], 99) == 7.0
    assert sampler.percentile([], 95) is None


def test_bad_arguments_are_refused() -> None:
    for kwargs in ({"requests": 0}, {"concurrency": 0}, {"timeout": 0}):
        params = {"requests": 1, "concurrency": 1, "timeout": 1.0, **kwargs}
        with pytest.raises(ValueError):
            sampler.sample("http://127.0.0.1:9", **params)  # type: ignore[arg-type]
