"""Real Prometheus, Alertmanager and a prometheus_client target for the metrics tests.

Prometheus (Debian ``prometheus``) scrapes a small ``prometheus_client`` HTTP server
every 0.25 s; a driver thread keeps feeding that server's counters and histograms with
a known mix (10 % 5xx, p95 in the 0.5–0.75 s bucket, 0.5 % readiness failures, 95 %
push success), so the queries see real rates over short windows. Alertmanager
(Debian ``prometheus-alertmanager``) runs with a staging-like routing and receives
Prometheus' alerts. Both are started here by hand on free loopback ports and stopped
by their own PID.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

PROMETHEUS = shutil.which("prometheus")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2, 5)
#: the driver's mix; p95 = 0.5 + 0.25 * (0.95 - 0.9) / 0.1 = 0.625 s by interpolation
EXPECTED_5XX_PCT = 10.0
EXPECTED_P95_MS = 625.0
EXPECTED_READINESS_FAIL_PCT = 0.5
EXPECTED_PUSH_SUCCESS_PCT = 95.0
TICK_S = 0.05
#: scrape and rule evaluation interval of the test Prometheus (short: the suite waits less)
SCRAPE_INTERVAL = "250ms"
#: successful scrapes before the fixture hands Prometheus out: 1.5 s of data, so a
#: 10 s rate has points a second back (query_range) and ratios rest on several samples
READY_SCRAPES = 7

STAGING_ALERTMANAGER_CONFIG = """
global:
  smtp_smarthost: 127.0.0.1:1
  smtp_from: alertmanager@wimmelwelt.invalid
  slack_api_url: http://127.0.0.1:1/slack
route:
  receiver: staging-team
  group_wait: 1h
  group_interval: 1h
  repeat_interval: 4h
  routes:
    - matchers: ['severity=~"P1|P2"']
      receiver: staging-team
      continue: true
receivers:
  - name: staging-team
    email_configs:
      - to: team@wimmelwelt.invalid
    slack_configs:
      - channel: '#wimmelwelt-staging'
"""

PROMETHEUS_RULES = """
groups:
  - name: wimmelwelt-minimal
    rules:
      - alert: HighErrorRate
        expr: >
          100 * sum(rate(http_requests_total{status=~"5.."}[5m]))
          / sum(rate(http_requests_total[5m])) > 2
        for: 5m
        labels: {severity: P2}
      - alert: ReadinessFailureRate
        expr: >
          100 * sum(rate(readiness_checks_total{result="fail"}[5m]))
          / sum(rate(readiness_checks_total[5m])) > 0.5
        labels: {severity: P2}
  - name: wimmelgate-drill
    rules:
      - alert: WimmelgateDrillErrorRate
        expr: >
          100 * sum(rate(http_requests_total{status=~"5.."}[30s]))
          / sum(rate(http_requests_total[30s])) > 5
        labels: {severity: P1, drill: prometheus-e2e}
        annotations: {summary: "5xx above 5 % (drill)"}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_port_url() -> str:
    """A loopback URL nobody listens on (bound, then released)."""
    return f"http://127.0.0.1:{free_port()}"


@dataclass(frozen=True)
class DrivenMix:
    """What the driver thread feeds in, i.e. what the queries should find."""

    error_5xx_pct: float = EXPECTED_5XX_PCT
    p95_ms: float = EXPECTED_P95_MS
    readiness_fail_pct: float = EXPECTED_READINESS_FAIL_PCT
    push_success_pct: float = EXPECTED_PUSH_SUCCESS_PCT


@pytest.fixture(scope="session")
def driven_mix() -> DrivenMix:
    """The known traffic mix behind `metrics_target`."""
    return DrivenMix()


@pytest.fixture
def closed_url() -> str:
    """A loopback URL nobody listens on."""
    return closed_port_url()


@dataclass
class Service:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _start(argv: list[str], url: str, log: Path, ready_path: str = "/-/ready") -> Service:
    handle = log.open("wb")
    process = subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT, cwd=log.parent)
    handle.close()
    service = Service(url, process, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{argv[0]} exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(url + ready_path, timeout=1).status_code == 200:
                return service
        except requests.RequestException:
            pass
        time.sleep(0.1)
    service.stop()
    raise RuntimeError(f"{argv[0]} not ready within 30 s: {log.read_text()[-2000:]}")


@dataclass
class MetricsTarget:
    """The prometheus_client exporter and its driver thread."""

    port: int
    stop_event: threading.Event
    thread: threading.Thread

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture(scope="session")
def metrics_target() -> Iterator[MetricsTarget]:
    """A prometheus_client HTTP server with the backend's metric names, under steady load."""
    from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

    registry = CollectorRegistry()
    requests_total = Counter("http_requests", "HTTP requests", ["method", "path", "status"], registry=registry)
    duration = Histogram(
        "http_request_duration_seconds",
        "HTTP request duration",
        ["method", "path"],
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    readiness = Counter("readiness_checks", "Readiness checks", ["result"], registry=registry)
    push = Counter("push_deliveries", "Push deliveries", ["result"], registry=registry)
    ok = requests_total.labels("GET", "/api", "200")
    err = requests_total.labels("GET", "/api", "500")
    requests_total.labels("GET", "/idle", "200")  # exists, never increases: rate 0
    latency = duration.labels("GET", "/api")
    ready_ok, ready_fail = readiness.labels("ok"), readiness.labels("fail")
    delivered, failed = push.labels("delivered"), push.labels("failed")

    port = free_port()
    server, server_thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    stop = threading.Event()

    def drive() -> None:
        while not stop.wait(TICK_S):
            ok.inc(9)
            err.inc(1)
            for _ in range(9):
                latency.observe(0.02)
            latency.observe(0.6)
            ready_ok.inc(199)
            ready_fail.inc(1)
            delivered.inc(19)
            failed.inc(1)

    driver = threading.Thread(target=drive, name="metrics-driver", daemon=True)
    driver.start()
    target = MetricsTarget(port, stop, driver)
    yield target
    stop.set()
    driver.join(timeout=5)
    server.shutdown()
    server.server_close()
    server_thread.join(timeout=5)


@pytest.fixture(scope="session")
def alertmanager_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Alertmanager with a staging-like routing (e-mail + Slack, no PagerDuty)."""
    if ALERTMANAGER is None:
        pytest.skip("prometheus-alertmanager is not installed")
    workdir = tmp_path_factory.mktemp("alertmanager")
    config = workdir / "alertmanager.yml"
    config.write_text(STAGING_ALERTMANAGER_CONFIG)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    service = _start(
        [
            ALERTMANAGER,
            f"--config.file={config}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        url,
        workdir / "alertmanager.log",
    )
    yield url
    service.stop()


@pytest.fixture(scope="session")
def prometheus_rules_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rules") / "wimmelwelt.rules.yml"
    path.write_text(PROMETHEUS_RULES)
    return path


@pytest.fixture(scope="session")
def prometheus_url(
    tmp_path_factory: pytest.TempPathFactory,
    metrics_target: MetricsTarget,
    alertmanager_url: str,
    prometheus_rules_file: Path,
) -> Iterator[str]:
    """A real Prometheus scraping `metrics_target` every 0.25 s, alerting to Alertmanager,
    ready once 30 s rates have data (`_wait_for_rates`)."""
    if PROMETHEUS is None:
        pytest.skip("prometheus is not installed")
    workdir = tmp_path_factory.mktemp("prometheus")
    config = workdir / "prometheus.yml"
    config.write_text(
        f"""
global:
  scrape_interval: {SCRAPE_INTERVAL}
  evaluation_interval: {SCRAPE_INTERVAL}
rule_files: ["{prometheus_rules_file}"]
alerting:
  alertmanagers:
    - static_configs: [{{targets: ["{alertmanager_url.removeprefix("http://")}"]}}]
scrape_configs:
  - job_name: wimmelwelt
    static_configs: [{{targets: ["{metrics_target.address}"]}}]
"""
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    service = _start(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        url,
        workdir / "prometheus.log",
    )
    try:
        _wait_for_rates(url)
        yield url
    finally:
        service.stop()


def _wait_for_rates(url: str, timeout_s: float = 30.0) -> None:
    """Until both driven request series have a 30 s rate and `READY_SCRAPES` scrapes
    succeeded: one query, polled (Prometheus applies its targets ~5 s after start)."""
    probe = (
        f'(sum_over_time(up{{job="wimmelwelt"}}[30s]) >= {READY_SCRAPES})'
        " and on() (count(rate(http_requests_total[30s]) > 0) >= 2)"
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = requests.get(url + "/api/v1/query", params={"query": probe}, timeout=2).json()
        if answer.get("data", {}).get("result"):
            return
        time.sleep(0.1)
    raise RuntimeError(f"Prometheus has no rate data after {timeout_s:g} s")
