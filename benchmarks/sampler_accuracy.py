"""How far is the active sampler's p95 from the server's own histogram?

Starts the reference backend (`pytest_wimmelgate.sandbox.Sandbox`, local storage, no
synthetic traffic, no Prometheus), sends N requests with `pytest_wimmelgate.metrics.sampler`,
and reads the backend's ``http_request_duration_seconds`` histogram from ``/metrics``
before and after. The server-side p95 is computed from the bucket deltas by linear
interpolation within the bucket, as PromQL's ``histogram_quantile`` does. Printed: the
sampler's p50/p95/p99, the server's p95, the difference in ms, the sampler's p95 put
through the same buckets (so bucket interpolation error and client-side overhead can be
told apart), and the sampler's requests per second.

    python benchmarks/sampler_accuracy.py --requests 1000 --concurrency 8
    python benchmarks/sampler_accuracy.py --path /readiness --faults latency_ms=20
    python benchmarks/sampler_accuracy.py --local      # stdlib server, no sandbox needed

``--local`` (or a missing sandbox) uses a stdlib ``ThreadingHTTPServer`` that exports a
``prometheus_client`` histogram with the same buckets and answers after ``--delay-ms``.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from pytest_wimmelgate.metrics import sampler

METRIC = "http_request_duration_seconds"
BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.0, 5.0)


def bucket_counts(metrics_text: str, method: str, path: str) -> dict[float, float]:
    """Cumulative ``le`` → count of ``METRIC`` for one method and route."""
    from prometheus_client.parser import text_string_to_metric_families

    counts: dict[float, float] = {}
    for family in text_string_to_metric_families(metrics_text):
        if family.name != METRIC:
            continue
        for s in family.samples:
            if s.name != f"{METRIC}_bucket":
                continue
            if s.labels.get("method") != method or s.labels.get("path") != path:
                continue
            le = float(s.labels["le"])
            counts[le] = counts.get(le, 0.0) + s.value
    return counts


def histogram_quantile(q: float, cumulative: Mapping[float, float]) -> float | None:
    """PromQL's ``histogram_quantile`` over cumulative bucket counts (seconds in, out)."""
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
                return previous_bound  # the highest finite bucket bound
            in_bucket = count - previous_count
            if in_bucket <= 0:
                return bound
            return previous_bound + (bound - previous_bound) * (rank - previous_count) / in_bucket
        previous_bound, previous_count = bound, count
    return None


def delta(after: Mapping[float, float], before: Mapping[float, float]) -> dict[float, float]:
    return {le: after[le] - before.get(le, 0.0) for le in after}


def bucketed(latencies_ms: tuple[float, ...]) -> dict[float, float]:
    """The sampler's own latencies as cumulative buckets like the server's."""
    cumulative = {le: float(sum(1 for v in latencies_ms if v / 1000.0 <= le)) for le in BUCKETS_S}
    cumulative[math.inf] = float(len(latencies_ms))
    return cumulative


# --------------------------------------------------------------------------- targets


@contextmanager
def sandbox_target(path: str, faults: str, workdir: Path) -> Iterator[str]:
    from pytest_wimmelgate.sandbox import Sandbox

    box = Sandbox(
        workdir,
        storage="local",
        faults=faults,
        traffic_rps=0.0,
        prometheus="off",
        alertmanager="off",
    )
    info = box.start()
    try:
        yield info.base_url
    finally:
        box.stop()


@contextmanager
def local_target(delay_ms: float, nodelay: bool) -> Iterator[str]:
    """A stdlib server that times its handler into a prometheus_client histogram."""
    from prometheus_client import CollectorRegistry, Histogram, generate_latest

    registry = CollectorRegistry()
    histogram = Histogram(METRIC, "request duration", ["method", "path"], buckets=BUCKETS_S, registry=registry)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = nodelay

        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, generate_latest(registry))
                return
            started = time.perf_counter()
            time.sleep(delay_ms / 1000.0)
            body = b'{"status":"ok"}'
            histogram.labels("GET", self.path).observe(time.perf_counter() - started)
            self._send(200, body)

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def sandbox_available() -> bool:
    try:
        from pytest_wimmelgate.sandbox import Sandbox  # noqa: F401
    except ImportError:
        return False
    return True


# ------------------------------------------------------------------------------ main


def measure(base_url: str, args: argparse.Namespace) -> int:
    metrics_url = base_url + "/metrics"
    before = bucket_counts(requests.get(metrics_url, timeout=10).text, "GET", args.path)
    result = sampler.sample(
        base_url + args.path,
        requests=args.requests,
        concurrency=args.concurrency,
        timeout=args.timeout,
    )
    after = bucket_counts(requests.get(metrics_url, timeout=10).text, "GET", args.path)
    server = delta(after, before)
    server_p95_s = histogram_quantile(0.95, server)
    own_bucketed_s = histogram_quantile(0.95, bucketed(result.latencies_ms))

    print(result.summary())
    print(f"server histogram: {server.get(math.inf, 0):.0f} observations of GET {args.path}")
    if server_p95_s is None or result.p95_ms is None:
        print("no data to compare (no answers or no server observations)")
        return 1
    server_p95_ms = server_p95_s * 1000
    print(f"sampler p95            {result.p95_ms:9.2f} ms")
    print(f"server  p95 (buckets)  {server_p95_ms:9.2f} ms")
    print(f"difference             {result.p95_ms - server_p95_ms:+9.2f} ms  (sampler - server)")
    if own_bucketed_s is not None:
        print(
            f"sampler p95 (buckets)  {own_bucketed_s * 1000:9.2f} ms"
            f"  → vs server {own_bucketed_s * 1000 - server_p95_ms:+.2f} ms on equal footing"
        )
    print(f"sampler throughput     {result.requests_per_second:9.1f} requests/s")
    print()
    print(result.histogram_text())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--path", default="/health", help="route to sample (default /health)")
    parser.add_argument("--faults", default="", help="sandbox fault spec, e.g. latency_ms=20")
    parser.add_argument("--local", action="store_true", help="stdlib server instead of sandbox")
    parser.add_argument("--delay-ms", type=float, default=5.0, help="--local: handler delay")
    parser.add_argument("--nodelay", action="store_true", help="--local: TCP_NODELAY on")
    args = parser.parse_args(argv)

    if args.local or not sandbox_available():
        print(
            f"target: local stdlib server, {args.delay_ms:g} ms handler delay, Nagle {'off' if args.nodelay else 'on'}"
        )
        with local_target(args.delay_ms, args.nodelay) as url:
            return measure(url, args)
    with tempfile.TemporaryDirectory(prefix="wimmelgate-bench-") as tmp:
        print(f"target: sandbox backend (faults: {args.faults or 'none'})")
        with sandbox_target(args.path, args.faults, Path(tmp)) as url:
            return measure(url, args)


if __name__ == "__main__":
    sys.exit(main())
