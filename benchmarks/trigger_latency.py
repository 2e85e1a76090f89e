"""From an error burst to the exit of ``pytest -m rollback_trigger --wg-watch …``.

A `prometheus_client` exporter serves the backend's metric names under a steady load
(``--rps`` requests per second, p95 well below 500 ms, no readiness or push failures); a
real Prometheus (Debian ``prometheus``) scrapes it every ``--scrape`` seconds. The gate
suite runs ``-m rollback_trigger`` against that Prometheus with ``--wg-watch`` and
``--wg-watch-interval``. Once the watch prints its first round, the exporter starts an
error burst (``--burst`` share of 5xx answers).

Printed, in seconds: burst start → the breach begins (the moment RT-1's windowed 5xx
ratio of the exporter's true counters exceeds the limit), → Prometheus holds a sample
showing it, → the run announces the rollback, → the run exits; and the time from the
breach's beginning to the exit against the goal of issue 14: one scrape interval plus one
evaluation (the watch interval), plus the time an evaluation takes.

    python benchmarks/trigger_latency.py                  # scrape 1 s, watch every 1 s, 30s window
    python benchmarks/trigger_latency.py --scrape 5 --interval 5 --window 1m --runs 3
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

import requests
import yaml

ROOT = Path(__file__).resolve().parents[1]
TICK_S = 0.01
LIMIT_PCT = 2.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Exporter:
    """The backend's metric names, fed by a driver thread; ``burst()`` turns on 5xx answers."""

    def __init__(self, rps: float, burst_share: float, window_s: float) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

        self.registry = CollectorRegistry()
        requests_total = Counter("http_requests", "requests", ["method", "path", "status"], registry=self.registry)
        duration = Histogram("http_request_duration_seconds", "duration", ["method", "path"], registry=self.registry)
        readiness = Counter("readiness_checks", "readiness", ["result"], registry=self.registry)
        push = Counter("push_deliveries", "push", ["result"], registry=self.registry)
        self._ok, self._err = requests_total.labels("GET", "/api", "200"), requests_total.labels("GET", "/api", "500")
        self._latency = duration.labels("GET", "/api")
        self._ready, self._delivered = readiness.labels("ok"), push.labels("delivered")
        readiness.labels("fail")
        push.labels("failed")
        self._rps, self._share, self._window_s = rps, burst_share, window_s
        self.port = free_port()
        self._server, self._thread = start_http_server(self.port, addr="127.0.0.1", registry=self.registry)
        self._stop = threading.Event()
        self.burst_at: float | None = None
        self.breach_at: float | None = None
        self._history: deque[tuple[float, float, float]] = deque()  # (t, total, errors)
        self._driver = threading.Thread(target=self._drive, daemon=True)
        self._driver.start()

    def burst(self) -> None:
        self.burst_at = time.time()

    def _drive(self) -> None:
        total = errors = owed = 0.0
        since_burst = 0
        every = max(1, round(1 / self._share))
        last = time.time()
        while not self._stop.wait(TICK_S):
            now = time.time()
            owed += self._rps * (now - last)
            last = now
            while owed >= 1:
                owed -= 1
                total += 1
                bad = False
                if self.burst_at is not None:
                    since_burst += 1
                    bad = since_burst % every == 0  # evenly spaced, like the sandbox's error_rate
                (self._err if bad else self._ok).inc()
                errors += bad
                self._latency.observe(0.02)
            self._ready.inc()
            self._delivered.inc()
            self._note(now, total, errors)

    def _note(self, now: float, total: float, errors: float) -> None:
        """Keep the true counters of the last window; note when their 5xx share first exceeds the limit."""
        self._history.append((now, total, errors))
        while self._history and self._history[0][0] < now - self._window_s - 1:
            self._history.popleft()
        if self.burst_at is None or self.breach_at is not None:
            return
        past = next((h for h in self._history if h[0] >= now - self._window_s), None)
        if past is not None and total > past[1] and 100 * (errors - past[2]) / (total - past[1]) > LIMIT_PCT:
            self.breach_at = now

    def close(self) -> None:
        self._stop.set()
        self._driver.join(timeout=5)
        self._server.shutdown()
        self._server.server_close()


def start_prometheus(workdir: Path, target: str, scrape_s: float) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("prometheus")
    if binary is None:
        raise SystemExit("Debian prometheus is not installed")
    interval = f"{round(scrape_s * 1000)}ms"
    config = workdir / "prometheus.yml"
    config.write_text(
        f"global: {{scrape_interval: {interval}, evaluation_interval: {interval}}}\n"
        f"scrape_configs:\n  - job_name: bench\n    static_configs: [{{targets: ['{target}']}}]\n",
        encoding="utf-8",
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (workdir / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    probe = "count(rate(http_requests_total[5s]) > 0)"
    while time.monotonic() < deadline:
        try:
            answer = requests.get(url + "/api/v1/query", params={"query": probe}, timeout=2).json()
            if answer.get("data", {}).get("result"):
                return process, url
        except requests.RequestException:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("Prometheus has no rate data after 30 s")


def first_visible(url: str, start: float, end: float, window: str) -> float | None:
    """The first instant at which Prometheus' RT-1 expression shows the breach (0.05 s steps)."""
    query = (
        f'100 * (sum(rate(http_requests_total{{status=~"5.."}}[{window}])) or vector(0))'
        f" / sum(rate(http_requests_total[{window}]))"
    )
    answer = requests.get(
        url + "/api/v1/query_range",
        params={"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": "0.05"},
        timeout=30,
    ).json()
    for series in answer.get("data", {}).get("result", []):
        for stamp, value in series["values"]:
            if float(value) > LIMIT_PCT:
                return float(stamp)
    return None


def environment(path: Path, exporter_port: int, prometheus_url: str, window: str) -> None:
    triggers = {
        "RT-1": {"sli": "error_rate_5xx_pct", "comparison": "<=", "limit": LIMIT_PCT, "window": window},
        "RT-2": {"sli": "latency_p95_ms", "comparison": "<=", "limit": 500, "window": window},
        "RT-3": {"sli": "readiness_failure_pct", "comparison": "<=", "limit": 0.5, "window": window},
        "RT-4": {"sli": "push_failure_pct", "comparison": "<=", "limit": 5, "window": window},
    }
    document = {
        "name": "trigger-latency",
        "protected": False,
        "backend": {"base_url": f"http://127.0.0.1:{exporter_port}"},
        "metrics": {"prometheus_url": prometheus_url, "timeout_s": 5, "triggers": triggers},
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def one_run(args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    exporter = Exporter(args.rps, args.burst, args.window_s)
    prometheus, url = start_prometheus(workdir, f"127.0.0.1:{exporter.port}", args.scrape)
    env = workdir / "trigger-latency.yaml"
    environment(env, exporter.port, url, args.window)
    time.sleep(args.window_s + 2 * args.scrape)  # a full window of healthy data first
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "--rootdir",
        str(ROOT),
        "-c",
        str(ROOT / "pyproject.toml"),
        f"--wg-release-dir={workdir / 'rel'}",
        str(ROOT / "suites"),
        "-m",
        "rollback_trigger",
        f"--wg-env={env}",
        "--wg-watch",
        "10m",
        "--wg-watch-interval",
        f"{args.interval:g}s",
        f"--wg-report={args.report}",
    ]
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SANDBOX_", "WIMMELGATE_"))}
    process = subprocess.Popen(argv, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environ)
    announced: list[float] = []
    started = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for raw in process.stderr:
            line = raw.decode("utf-8", "replace")
            if args.verbose:
                print(f"{time.time() - (exporter.burst_at or time.time()):+7.2f}s {line.rstrip()}")
            if line.startswith("wimmelgate watch RT-1 round 1/"):
                started.set()
            if "ROLL BACK" in line and not announced:
                announced.append(time.time())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not started.wait(120):
            raise SystemExit("the gate run printed no watch line within 120 s")
        time.sleep(args.interval * 0.37)  # the burst starts between two rounds, not on one
        exporter.burst()
        code = process.wait(timeout=600)
        exited = time.time()
        reader.join(timeout=5)
        if process.stdout is not None:
            process.stdout.read()
        assert exporter.burst_at is not None
        visible = first_visible(url, exporter.burst_at - 1, exited, args.window)
    finally:
        if process.poll() is None:
            process.kill()
        prometheus.terminate()
        prometheus.wait(timeout=10)
        exporter.close()
    burst = exporter.burst_at
    breach = exporter.breach_at or math.nan
    return {
        "exit": float(code),
        "breach": breach - burst,
        "visible": (visible or math.nan) - burst,
        "announced": (announced[0] if announced else math.nan) - burst,
        "exited": exited - burst,
        "verdict_after_breach": exited - breach,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rps", type=float, default=200.0, help="exporter's requests per second")
    parser.add_argument("--burst", type=float, default=0.2, help="share of 5xx during the burst")
    parser.add_argument("--scrape", type=float, default=1.0, help="Prometheus scrape interval (s)")
    parser.add_argument("--interval", type=float, default=1.0, help="--wg-watch-interval (s)")
    parser.add_argument("--window", default="30s", help="the triggers' window")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--verbose", action="store_true", help="show the gate run's terminal lines with their times")
    parser.add_argument("--report", default="auto", help="--wg-report of the gate run (auto, off)")
    args = parser.parse_args(argv)
    from pytest_wimmelgate.metrics.slo import parse_duration

    args.window_s = parse_duration(args.window)
    rows = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="wimmelgate-trigger-") as tmp:
            rows.append(one_run(args, Path(tmp)))

    goal = args.scrape + args.interval
    print(
        f"rollback_trigger --wg-watch 10m --wg-watch-interval {args.interval:g}s; Prometheus scrapes every"
        f" {args.scrape:g} s; {args.rps:g} req/s, burst {100 * args.burst:g} % 5xx; RT-1: 5xx <= {LIMIT_PCT:g} %"
        f" over {args.window}"
    )
    print()
    print(
        f"{'run':>3} {'exit':>4}  {'breach':>7} {'in Prom.':>8} {'ROLL BACK':>9} {'exited':>7}"
        f"  {'breach→verdict':>14} {'breach→exit':>11}"
    )
    for i, row in enumerate(rows, 1):
        print(
            f"{i:>3} {row['exit']:>4.0f}  {row['breach']:>6.2f}s {row['visible']:>7.2f}s {row['announced']:>8.2f}s"
            f" {row['exited']:>6.2f}s  {row['announced'] - row['breach']:>13.2f}s {row['verdict_after_breach']:>10.2f}s"
        )
    verdict = statistics.median(r["announced"] - r["breach"] for r in rows)
    median = statistics.median(r["verdict_after_breach"] for r in rows)
    print()
    print("seconds after the burst began: the breach begins (true counters), Prometheus shows it, the run prints")
    print("ROLL BACK (the verdict), the run has exited (exit 1 = NO-GO; the time between is pytest's end and the")
    print("run folder: summary, JUnit, Allure results, report, leak scan)")
    print(
        f"breach → verdict, median {verdict:.2f} s; goal ≤ one scrape interval + one evaluation = {goal:g} s:"
        f" {'met' if verdict <= goal else 'NOT met'}"
    )
    print(f"breach → exit, median {median:.2f} s ({median - verdict:.2f} s of it after the verdict)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
