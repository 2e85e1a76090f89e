"""Metric gates (PD-*, RT-*, RV-4): objectives from the environment, measured by
Prometheus or, where none is configured, by active sampling of the backend.

Every objective of a group is watched in its own thread for the same duration, so a
breach of one check does not cut another short and the whole group takes one window.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.errors import ConfigError
from pytest_wimmelgate.metrics import slo, watch

GROUPS = {"objectives": "PD", "triggers": "RT"}
SAMPLED_SLIS = ("latency_p95_ms", "error_rate_5xx_pct", "readiness_failure_pct")


@dataclass(frozen=True)
class WatchSettings:
    """Argo-Rollouts-like measurement settings (``metrics.watch`` in the environment)."""

    duration_s: float = 0.0
    interval_s: float = 30.0
    failure_limit: int = 0
    inconclusive_limit: int = 0
    consecutive_error_limit: int = 4

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], source: str) -> WatchSettings:
        allowed = {"duration", "interval", "failure_limit", "inconclusive_limit", "consecutive_error_limit"}
        for key in mapping:
            if key not in allowed:
                raise ConfigError(source, f"metrics.watch.{key}", f"one of {', '.join(sorted(allowed))}")
        try:
            duration = slo.parse_duration(str(mapping.get("duration", "0")))
            interval = slo.parse_duration(str(mapping.get("interval", "30s")))
        except ValueError:
            raise ConfigError(source, "metrics.watch", "durations like 0, 30s, 10m") from None
        if interval <= 0:
            raise ConfigError(source, "metrics.watch.interval", "a positive duration such as 30s")
        return cls(
            duration,
            interval,
            int(mapping.get("failure_limit", 0)),
            int(mapping.get("inconclusive_limit", 0)),
            int(mapping.get("consecutive_error_limit", 4)),
        )


@dataclass
class MetricSource:
    """Where values come from: a Prometheus URL, or active sampling of ``backend_url``."""

    prometheus_url: str | None
    backend_url: str
    health_path: str = "/health"
    readiness_path: str = "/readiness"
    timeout_s: float = 5.0
    sampling: Mapping[str, Any] = field(default_factory=dict)

    @property
    def mode(self) -> str:
        return "prometheus" if self.prometheus_url else "active sampling"

    def measure(self, objective: slo.Objective) -> slo.Evaluation:
        if self.prometheus_url:
            return slo.evaluate(objective, self.prometheus_url, timeout=self.timeout_s)
        return self._sampled(objective)

    def _sampled(self, objective: slo.Objective) -> slo.Evaluation:
        from pytest_wimmelgate.metrics import sampler

        where = f"active sampling of {self.backend_url} (no Prometheus configured)"
        if objective.sli.name not in SAMPLED_SLIS:
            return slo.judge(
                objective, [], endpoint=where, query=f"{objective.sli.name} needs Prometheus (metrics.prometheus_url)"
            )
        path = self.readiness_path if objective.sli.name == "readiness_failure_pct" else self.health_path
        result = sampler.sample(
            self.backend_url.rstrip("/") + path,
            requests=int(self.sampling.get("requests", 100)),
            concurrency=int(self.sampling.get("concurrency", 4)),
            timeout=self.timeout_s,
        )
        values = result.sli_values()
        value = (
            values.get("error_rate_5xx_pct")
            if objective.sli.name == "readiness_failure_pct"
            else (values.get(objective.sli.name))
        )
        return slo.judge(
            objective,
            [] if value is None else [float(value)],
            endpoint=where,
            query=f"{result.sent} requests to {path}",
            raw=result.evidence(),
        )


def objectives(env: Environment, group: str) -> dict[str, slo.Objective]:
    """The objectives of ``metrics.<group>`` keyed by check id."""
    mapping = env.get(f"metrics.{group}")
    slis = slo.slis_from_mapping(env.get("metrics.slis", None), source=env.source)
    found = slo.objectives_from_mapping(mapping, source=env.source, key_path=f"metrics.{group}", slis=slis)
    return {o.id: o for o in found}


def source_for(env: Environment) -> MetricSource:
    url = env.get("metrics.prometheus_url", None)
    return MetricSource(
        prometheus_url=str(url) if url else None,
        backend_url=str(env.get("backend.base_url")),
        health_path=str(env.get("backend.paths.health", "/health")),
        readiness_path=str(env.get("backend.paths.readiness", "/readiness")),
        timeout_s=float(env.get("metrics.timeout_s", 5)),
        sampling=env.get("metrics.sampling", {}) or {},
    )


def watch_all(
    targets: Mapping[str, slo.Objective], measure: Callable[[slo.Objective], slo.Evaluation], settings: WatchSettings
) -> dict[str, watch.WatchResult]:
    """One watch per objective, all at once; returns each objective's result."""

    def run(objective: slo.Objective) -> watch.WatchResult:
        return watch.watch(
            [objective],
            measure,
            interval_s=settings.interval_s,
            duration_s=settings.duration_s,
            failure_limit=settings.failure_limit,
            inconclusive_limit=settings.inconclusive_limit,
            consecutive_error_limit=settings.consecutive_error_limit,
        )

    if not targets:
        return {}
    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        futures = {oid: pool.submit(run, objective) for oid, objective in targets.items()}
        return {oid: future.result() for oid, future in futures.items()}
