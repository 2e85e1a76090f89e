"""The backend's Prometheus metrics, in a registry of their own."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.0, 5.0)
MONGO_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.0, 5.0)
LOG_LEVELS = ("debug", "info", "warning", "error")


class Metrics:
    """All counters and histograms the backend exports on ``/metrics``.

    Label sets that alert rules divide by are created at zero, so a rate over a quiet
    window is 0 and not "no data".
    """

    def __init__(self, version: str, commit: str) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry: CollectorRegistry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by route template and status",
            ["method", "path", "status"],
            registry=reg,
        )
        self.request_duration = Histogram(
            "http_request_duration_seconds",
            "HTTP request duration by route template",
            ["method", "path"],
            buckets=HTTP_BUCKETS,
            registry=reg,
        )
        self.readiness = Counter("readiness_checks_total", "Readiness answers by result", ["result"], registry=reg)
        self.push = Counter("push_deliveries_total", "Finished push deliveries by result", ["result"], registry=reg)
        self.mongo_duration = Histogram(
            "mongodb_command_duration_seconds",
            "Duration of MongoDB commands",
            ["command"],
            buckets=MONGO_BUCKETS,
            registry=reg,
        )
        self.mongo_errors = Counter(
            "mongodb_command_errors_total", "Failed MongoDB commands", ["command"], registry=reg
        )
        self.storage = Counter(
            "storage_operations_total", "File storage operations", ["backend", "operation", "result"], registry=reg
        )
        self.storage_fallbacks = Counter(
            "storage_fallbacks_total", "Operations served by the local fallback", ["operation"], registry=reg
        )
        self.log_lines = Counter("log_lines_total", "Log lines written by level", ["level"], registry=reg)
        build = Gauge(
            "wimmelwelt_build_info", "Version and commit of the running backend", ["version", "commit"], registry=reg
        )
        build.labels(version=version, commit=commit).set(1)
        for result in ("ok", "fail"):
            self.readiness.labels(result=result)
        for result in ("delivered", "failed"):
            self.push.labels(result=result)
        for level in LOG_LEVELS:
            self.log_lines.labels(level=level)
        for command in ("ping", "find", "insert", "update", "delete"):
            self.mongo_duration.labels(command=command)
        for operation in ("put", "get"):
            self.storage_fallbacks.labels(operation=operation)

    def declare_route(self, method: str, path: str, statuses: tuple[int, ...]) -> None:
        """Create a route's request series at zero (see `App`)."""
        for status in statuses:
            self.requests.labels(method=method, path=path, status=str(status))
        self.request_duration.labels(method=method, path=path)

    def observe_request(self, method: str, path: str, status: int, seconds: float) -> None:
        self.requests.labels(method=method, path=path, status=str(status)).inc()
        self.request_duration.labels(method=method, path=path).observe(seconds)

    @contextmanager
    def mongo_command(self, command: str) -> Iterator[None]:
        """Time one MongoDB command (also when it fails)."""
        start = time.perf_counter()
        try:
            yield
        except Exception:
            self.mongo_errors.labels(command=command).inc()
            raise
        finally:
            self.mongo_duration.labels(command=command).observe(time.perf_counter() - start)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST
