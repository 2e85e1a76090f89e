"""How far is the active sampler's p95 from the server's own histogram, at the same request rate?

Starts the reference backend (`pytest_wimmelgate.sandbox.Sandbox`: local storage, no
synthetic traffic, no Prometheus), so every request the backend sees is the sampler's:
both sides measure the same requests at the same rate. For each rate, the sampler
(`pytest_wimmelgate.metrics.sampler`) sends N requests to one route, and the backend's
``http_request_duration_seconds`` histogram is read from ``/metrics`` before and after.

Printed per rate:

- **sampler p95** as the gate reports it (read through the server's buckets, like
  ``histogram_quantile``) against the **server histogram's p95** from the bucket deltas,
  and their difference: the goal is within 1 ms (issue 14);
- the **exact** p95 on both sides — the sampler's own latencies, and the server's from its
  JSON access log (``duration_ms`` of this benchmark's requests) — whose difference is the
  client-side overhead (loopback round trip, HTTP parsing, the sampler's threads).

    python benchmarks/sampler_accuracy.py                      # /readiness at 20, 50, 100, 200 rps
    python benchmarks/sampler_accuracy.py --path /health --rates 50,500 --requests 1000
    python benchmarks/sampler_accuracy.py --faults latency_ms=20
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path

import requests

from pytest_wimmelgate.metrics import sampler
from pytest_wimmelgate.metrics.settings import DEFAULT_BUCKETS_MS

METRIC = "http_request_duration_seconds"
GOAL_MS = 1.0


def bucket_counts(metrics_text: str, method: str, path: str) -> dict[float, float]:
    """Cumulative ``le`` (ms) → count of ``METRIC`` for one method and route."""
    from prometheus_client.parser import text_string_to_metric_families

    counts: dict[float, float] = {}
    for family in text_string_to_metric_families(metrics_text):
        if family.name != METRIC:
            continue
        for s in family.samples:
            if s.name != f"{METRIC}_bucket" or s.labels.get("method") != method or s.labels.get("path") != path:
                continue
            le = float(s.labels["le"]) * 1000.0
            counts[le] = counts.get(le, 0.0) + s.value
    return counts


def server_log_durations(log_file: Path, run_id: str) -> list[float]:
    """``duration_ms`` of the access-log lines of this benchmark's requests."""
    found = []
    for line in log_file.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("msg") == "request" and record.get("run_id") == run_id and "duration_ms" in record:
            found.append(float(record["duration_ms"]))
    return found


def raw_socket_latencies(base_url: str, path: str, run_id: str, requests_n: int, rate: float) -> list[float]:
    """The floor: a bare socket client sending the same request at the same rate (exact latencies, ms)."""
    import socket
    import time
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    request = f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nX-Wimmelgate-Run: {run_id}\r\n\r\n".encode()
    sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    latencies = []
    started = time.perf_counter()
    try:
        for i in range(requests_n):
            if rate > 0:
                time.sleep(max(0.0, started + i / rate - time.perf_counter()))
            begin = time.perf_counter()
            sock.sendall(request)
            data = b""
            while b"\r\n\r\n" not in data:
                data += sock.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = next(
                int(h.split(b":", 1)[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")
            )
            while len(body) < length:
                body += sock.recv(65536)
            latencies.append((time.perf_counter() - begin) * 1000.0)
    finally:
        sock.close()
    return latencies


def delta(after: Mapping[float, float], before: Mapping[float, float]) -> dict[float, float]:
    return {le: after[le] - before.get(le, 0.0) for le in after}


def measure(base_url: str, log_file: Path, path: str, rate: float, args: argparse.Namespace) -> dict[str, float]:
    """Sampler and bare-socket floor in alternating chunks, so both meet the same machine load."""
    tag = uuid.uuid4().hex[:8]
    mine, floor_id = f"bench-{tag}", f"floor-{tag}"
    target = sampler.Target(f"GET {path}", "GET", base_url + path, {"X-Wimmelgate-Run": mine})
    metrics_url = base_url + "/metrics"
    server: dict[float, float] = {}
    latencies: list[float] = []
    floor: list[float] = []
    sent = unanswered = 0
    duration = 0.0
    chunks = max(1, args.requests // args.chunk)
    for _ in range(chunks):
        before = bucket_counts(requests.get(metrics_url, timeout=10).text, "GET", path)
        result = sampler.sample(
            [target], requests=args.chunk, concurrency=args.concurrency, timeout=args.timeout, rate_per_s=rate
        )
        after = bucket_counts(requests.get(metrics_url, timeout=10).text, "GET", path)
        for le, count in delta(after, before).items():
            server[le] = server.get(le, 0.0) + count
        latencies.extend(result.latencies_ms)
        sent, unanswered, duration = sent + result.sent, unanswered + result.unanswered, duration + result.duration_s
        if args.floor:
            floor.extend(raw_socket_latencies(base_url, path, floor_id, args.chunk, rate))
    server_p95 = sampler.histogram_quantile(0.95, server)
    server_exact = sampler.percentile(server_log_durations(log_file, mine), 95)
    floor_server = sampler.percentile(server_log_durations(log_file, floor_id), 95)
    floor_p95 = sampler.percentile(floor, 95)

    def num(value: float | None) -> float:
        return math.nan if value is None else value

    return {
        "rate": rate,
        "achieved": sent / duration if duration else 0.0,
        "sent": sent,
        "observed": server.get(math.inf, 0.0),
        "sampler_p95": num(sampler.bucket_quantile(0.95, latencies, DEFAULT_BUCKETS_MS)),
        "server_p95": num(server_p95),
        "sampler_exact": num(sampler.percentile(latencies, 95)),
        "server_exact": num(server_exact),
        "floor_overhead": num(floor_p95) - num(floor_server),
        "unanswered": unanswered,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--rates", default="20,50,100,200", help="requests per second, comma separated (0: unpaced)")
    parser.add_argument("--path", default="/readiness", help="route to sample (default /readiness)")
    parser.add_argument("--faults", default="", help="sandbox fault spec, e.g. latency_ms=20")
    parser.add_argument("--chunk", type=int, default=50, help="requests per alternating sampler/floor chunk")
    parser.add_argument("--no-floor", dest="floor", action="store_false", help="skip the bare-socket floor")
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",") if r.strip()]

    from pytest_wimmelgate.sandbox import Sandbox

    rows = []
    with tempfile.TemporaryDirectory(prefix="wimmelgate-bench-") as tmp:
        box = Sandbox(
            Path(tmp), storage="local", faults=args.faults, traffic_rps=0.0, prometheus="off", alertmanager="off"
        )
        info = box.start()
        try:
            for _ in range(50):  # warm the route up, so the first rate is not the slowest
                requests.get(info.base_url + args.path, timeout=10)
            for rate in rates:
                rows.append(measure(info.base_url, info.backend_log_file, args.path, rate, args))
        finally:
            box.stop()

    print(f"GET {args.path} on the sandbox backend, {args.requests} requests per rate, concurrency {args.concurrency}")
    print(f"faults: {args.faults or 'none'}; buckets (ms): {', '.join(f'{b:g}' for b in DEFAULT_BUCKETS_MS)}")
    print()
    head = (
        f"{'rate/s':>7} {'got/s':>7} {'sent':>5} {'seen':>5}  {'sampler p95':>11} {'server p95':>10} {'diff':>7}"
        f"  {'exact: sampler':>14} {'server':>7} {'overhead':>8} {'bare socket':>11}"
    )
    print(head)
    print("-" * len(head))
    worst = 0.0
    for row in rows:
        diff = row["sampler_p95"] - row["server_p95"]
        overhead = row["sampler_exact"] - row["server_exact"]
        worst = max(worst, abs(diff)) if math.isfinite(diff) else math.inf
        print(
            f"{row['rate']:>7g} {row['achieved']:>7.1f} {row['sent']:>5.0f} {row['observed']:>5.0f}"
            f"  {row['sampler_p95']:>8.2f} ms {row['server_p95']:>7.2f} ms {diff:>+7.2f}"
            f"  {row['sampler_exact']:>11.2f} ms {row['server_exact']:>7.2f} {overhead:>+8.2f}"
            f" {row['floor_overhead']:>+11.2f}"
            + (f"  ({row['unanswered']:.0f} without answer)" if row["unanswered"] else "")
        )
    print()
    print(
        f"p95 as the gate reports it vs the server histogram: worst |difference| {worst:.2f} ms"
        f" (goal ≤ {GOAL_MS:g} ms: {'met' if worst <= GOAL_MS else 'NOT met'})"
    )
    print("exact columns: the sampler's own latencies vs the backend's access log; 'overhead' is the client side;")
    print("'bare socket': the same overhead for a bare socket client in alternating chunks, i.e. what loopback and")
    print("scheduling cost on this machine now; the sampler's own cost is 'overhead' minus 'bare socket'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
