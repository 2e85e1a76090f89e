"""The active sampler against a local threaded HTTP server with known delays and 500s."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from pytest_wimmelgate.metrics import sampler, slo
from pytest_wimmelgate.metrics.sampler import Target

DELAY_S = 0.020


class _Handler(BaseHTTPRequestHandler):
    """/delay: 20 ms then 200, every 10th request 500; /hang: 1 s; /auth: 401 without token;
    /ready: 200, every 4th 503; /close: answers and closes the connection."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the client's delayed ACK
    # adds ~40 ms to every keep-alive answer.
    disable_nagle_algorithm = True
    counter = 0
    ready_counter = 0
    connections: ClassVar[set[int]] = set()
    lock = threading.Lock()

    def do_GET(self) -> None:
        with _Handler.lock:
            _Handler.connections.add(id(self.connection))
        if self.path == "/hang":
            time.sleep(1.0)
            self._answer(200)
        elif self.path == "/auth":
            ok = self.headers.get("Authorization") == "Bearer t0ken"
            self._answer(200 if ok else 401)
        elif self.path == "/ready":
            with _Handler.lock:
                _Handler.ready_counter += 1
                n = _Handler.ready_counter
            self._answer(503 if n % 4 == 0 else 200)
        elif self.path == "/close":
            self.close_connection = True
            self._answer(200, close=True)
        else:
            with _Handler.lock:
                _Handler.counter += 1
                n = _Handler.counter
            time.sleep(DELAY_S)
            self._answer(500 if n % 10 == 0 else 200)

    def _answer(self, status: int, *, close: bool = False) -> None:
        body = b'{"status":"ok"}' if status == 200 else b'{"error":"boom"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def slow_server() -> Iterator[str]:
    """A loopback server answering after a known delay, with 10 % 500s."""
    _Handler.counter = 0
    _Handler.ready_counter = 0
    _Handler.connections = set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def target(url: str, path: str, **kwargs: object) -> Target:
    return Target(f"GET {path}", "GET", url + path, **kwargs)  # type: ignore[arg-type]


def test_p95_is_close_to_the_known_delay_and_5xx_rate_is_exact(slow_server: str) -> None:
    result = sampler.sample([target(slow_server, "/delay")], requests=200, concurrency=8, timeout=5)

    assert result.sent == result.answered == 200
    assert result.status_counts == {200: 180, 500: 20}
    assert result.error_rate_5xx_pct == pytest.approx(10.0)
    assert result.unanswered == 0
    exact = result.p95_exact_ms
    assert exact is not None and result.p50_exact_ms is not None
    assert DELAY_S * 1000 <= result.p50_exact_ms <= exact
    assert exact < DELAY_S * 1000 + 25, result.summary()
    # ~20 ms lands in the (10, 25] bucket: read like histogram_quantile, not exactly
    assert result.p95_ms == sampler.bucket_quantile(0.95, result.latencies_ms, sampler.DEFAULT_BUCKETS_MS)
    assert result.p95_ms is not None and 10 < result.p95_ms <= 50, result.summary()
    histogram = result.histogram()
    assert sum(histogram.values()) == 200
    assert "≤25 ms" in result.histogram_text()
    assert result.evidence()["status_counts"] == {"200": 180, "500": 20}


def test_connections_are_reused_not_opened_per_request(slow_server: str) -> None:
    result = sampler.sample([target(slow_server, "/delay")], requests=40, concurrency=2, timeout=5)
    assert result.sent == 40
    assert len(_Handler.connections) == 2  # one persistent connection per worker


def test_a_server_that_closes_the_connection_is_sampled_on_a_new_one(slow_server: str) -> None:
    result = sampler.sample([target(slow_server, "/close")], requests=5, concurrency=1, timeout=5)
    assert result.status_counts == {200: 5}


def test_pacing_spreads_the_requests_over_the_time_the_rate_asks_for(slow_server: str) -> None:
    result = sampler.sample([target(slow_server, "/ready")], requests=11, concurrency=2, timeout=5, rate_per_s=20)
    # request i is due at i / 20 s: the last one at 0.5 s
    assert result.duration_s >= 0.5
    assert result.outcomes[-1].started_at - min(o.started_at for o in result.outcomes) >= 0.45


def test_requests_go_round_robin_and_each_sli_counts_its_own_requests(slow_server: str) -> None:
    targets = [target(slow_server, "/ready", readiness=True), target(slow_server, "/delay")]
    result = sampler.sample(targets, requests=80, concurrency=4, timeout=5)

    assert result.per_label() == {"GET /ready": 40, "GET /delay": 40}
    assert result.readiness_failure_pct == pytest.approx(25.0)  # every 4th readiness answer is 503
    # 5xx over all requests: 10 readiness 503 + 4 of 40 /delay 500s
    assert result.error_rate_5xx_pct == pytest.approx(100 * 14 / 80)
    assert result.observed() == f"over 80 requests in {result.duration_s:.1f} s (40 × GET /ready, 40 × GET /delay)"
    assert result.observed(readiness_only=True).startswith("over 40 requests in")


def test_sampled_values_judge_like_prometheus_values_and_say_what_was_measured(slow_server: str) -> None:
    result = sampler.sample([target(slow_server, "/delay")], requests=40, concurrency=4, timeout=5)
    objective = slo.Objective("PD-2", slo.DEFAULT_SLIS["error_rate_5xx_pct"], "<", 2, "5m")
    value = result.sli_values()["error_rate_5xx_pct"]
    assert value is not None

    evaluation = slo.judge(
        objective, [value], endpoint=slow_server, observed=result.observed(), where="active sampling of x"
    )

    assert evaluation.verdict == slo.FAIL
    assert evaluation.reason.startswith("5xx rate 10 % > limit 2 % over 40 requests in ")
    assert "(40 × GET /delay) (active sampling of x)" in evaluation.reason
    assert "5m" not in evaluation.reason  # never a window it did not observe


def test_timeouts_are_failed_requests_not_missing_data(slow_server: str) -> None:
    started = time.monotonic()
    targets = [target(slow_server, "/hang", readiness=True)]
    result = sampler.sample(targets, requests=4, concurrency=4, timeout=0.2)

    assert time.monotonic() - started < 1.0
    assert result.errors == {"timeout": 4}
    assert result.answered == 0
    assert result.error_rate_5xx_pct == 100.0
    assert result.readiness_failure_pct == 100.0
    assert result.p95_ms is not None and result.p95_ms >= 200.0  # counted at the timeout
    assert "4 without an answer within 0.2 s (counted as failed)" in result.observed()


def test_connection_refused_is_a_failed_request(closed_url: str) -> None:
    result = sampler.sample([Target("GET /", "GET", closed_url + "/")], requests=3, concurrency=2, timeout=1)
    assert result.errors == {"connection refused": 3}
    assert result.error_rate_5xx_pct == 100.0


def test_headers_are_sent_and_not_recorded(slow_server: str) -> None:
    auth = Target("GET /auth", "GET", slow_server + "/auth", {"Authorization": "Bearer t0ken"})
    result = sampler.sample([auth], requests=5, concurrency=2, timeout=5)
    assert result.status_counts == {200: 5}
    assert "t0ken" not in repr(result) and "t0ken" not in str(result.evidence())


def test_time_bound_stops_issuing_requests(slow_server: str) -> None:
    result = sampler.sample(
        [target(slow_server, "/delay")], requests=10_000, concurrency=2, timeout=5, max_duration_s=0.3
    )
    assert result.stopped_by_deadline
    assert 2 <= result.sent < 100
    assert result.duration_s < 1.0
    assert "stopped at the time bound" in result.notes()


class _OneFault:
    """A fault of this run that is on for the first ``on_s`` seconds."""

    def __init__(self, on_s: float) -> None:
        self.start = time.time()
        self.end = self.start + on_s

    def active(self) -> str | None:
        return "SG-3's database block" if time.time() < self.end else None

    def overlaps(self, start: float, end: float) -> bool:
        return start <= self.end and end >= self.start


def test_sampling_pauses_while_a_fault_of_the_run_is_on(slow_server: str) -> None:
    fault = _OneFault(0.3)
    result = sampler.sample([target(slow_server, "/ready")], requests=5, concurrency=2, timeout=5, faults=fault)

    assert result.sent == 5
    assert all(o.started_at >= fault.end for o in result.outcomes)
    assert result.paused_s >= 0.25
    assert "sampling paused 0.3 s while this run's own fault was active" in result.notes()


def test_requests_that_overlapped_a_fault_of_the_run_are_not_counted(slow_server: str) -> None:
    class Always(_OneFault):
        def active(self) -> str | None:
            return None  # not seen as active when issuing, but every request overlaps it

        def overlaps(self, start: float, end: float) -> bool:
            return True

    result = sampler.sample([target(slow_server, "/ready")], requests=3, concurrency=1, timeout=5, faults=Always(1))
    assert result.sent == 0 and result.dropped == 3
    assert "3 requests overlapping this run's own fault not counted" in result.notes()


def test_percentiles_exact_and_by_buckets() -> None:
    values = [float(v) for v in range(1, 101)]
    assert sampler.percentile(values, 50) == pytest.approx(50.5)
    assert sampler.percentile(values, 95) == pytest.approx(95.05)
    assert sampler.percentile([7.0], 99) == 7.0
    assert sampler.percentile([], 95) is None
    # 100 values 1..100 ms into buckets (50, 100]: rank 95 of 100 → 50 + 50 * 45/50 = 95 ms
    assert sampler.bucket_quantile(0.95, values, (50, 100)) == pytest.approx(95.0)
    # beyond the last bucket: the highest finite bound, as histogram_quantile does
    assert sampler.bucket_quantile(0.95, [900.0] * 10, (100, 500)) == 500.0
    assert sampler.bucket_quantile(0.95, [], (100,)) is None


def test_bad_arguments_are_refused() -> None:
    one = [Target("GET /", "GET", "http://127.0.0.1:9/")]
    for kwargs in ({"requests": 0}, {"concurrency": 0}, {"timeout": 0}, {"rate_per_s": -1}):
        params = {"requests": 1, "concurrency": 1, "timeout": 1.0, **kwargs}
        with pytest.raises(ValueError):
            sampler.sample(one, **params)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        sampler.sample([], requests=1, concurrency=1, timeout=1)


def test_active_sampling_judges_a_rate_only_over_enough_requests(slow_server: str) -> None:
    """The same rule as for a Prometheus window: sampling knows its request counts."""
    from pytest_wimmelgate.metrics.gate import MetricSource
    from pytest_wimmelgate.metrics.sampled_requests import SamplingPlan
    from pytest_wimmelgate.metrics.settings import MetricSettings, SamplingSettings

    plan = SamplingPlan(slow_server, (target(slow_server, "/ready", readiness=True), target(slow_server, "/delay")))
    readiness = slo.Objective("PD-3", slo.DEFAULT_SLIS["readiness_failure_pct"], "<", 0.5, "5m")

    def measured(requests: int) -> slo.Evaluation:
        sampling = SamplingSettings(requests=requests, concurrency=4, rate_per_s=0)
        return MetricSource(MetricSettings(sampling=sampling), plan).measure(readiness)

    few = measured(16)
    assert few.verdict == slo.NO_DATA and (few.events, few.min_events) == (8, 20)
    assert few.reason.startswith("readiness failures: no data: only 8 readiness checks measured over 8 requests in "), (
        few.reason
    )
    assert "; need at least 20 to judge a rate (measured 25 %, not judged) (active sampling of " in few.reason
    enough = measured(40)
    assert enough.verdict == slo.FAIL and enough.events == 20
    assert enough.reason.startswith("readiness failures 25 % > limit 0.5 % over 20 requests in "), enough.reason
