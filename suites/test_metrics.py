"""Metric gates: post-deploy SLOs (runbook 4), rollback triggers (3), stable after rollback.

Values come from Prometheus (``metrics.prometheus_url``) or, where none is configured,
from active sampling of the backend; the report says which. With ``--wg-watch 30m`` each
objective is re-measured every interval and the check stops at the first breach.
"""

from __future__ import annotations

import pytest

from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.core import options
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.errors import CheckFailed, NotConfigured
from pytest_wimmelgate.metrics import gate as metric_gate
from pytest_wimmelgate.metrics import watch
from pytest_wimmelgate.metrics.watch import WatchResult

Watched = dict[str, dict[str, WatchResult]]


@pytest.fixture(scope="session")
def metric_source(wg_env: Environment) -> metric_gate.MetricSource:
    """Prometheus, or active sampling of the backend when no Prometheus is configured."""
    return metric_gate.source_for(wg_env)


@pytest.fixture(scope="session")
def watch_settings(wg_env: Environment, pytestconfig: pytest.Config) -> metric_gate.WatchSettings:
    """The environment's ``metrics.watch``, overridden by ``--wg-watch``/``--wg-watch-interval``."""
    import os

    mapping = dict(wg_env.get("metrics.watch", {}) or {})
    for dest, key in (("wg_watch", "duration"), ("wg_watch_interval", "interval")):
        value, _ = options.resolve(pytestconfig, dest, dict(os.environ))
        if value:
            mapping[key] = value
    return metric_gate.WatchSettings.from_mapping(mapping, wg_env.source)


@pytest.fixture(scope="session")
def watched(
    wg_env: Environment, metric_source: metric_gate.MetricSource, watch_settings: metric_gate.WatchSettings
) -> Watched:
    """Each metric group measured once per session, every objective in parallel."""
    cache: dict[str, dict[str, WatchResult]] = {}

    class Groups(dict[str, dict[str, WatchResult]]):
        def __missing__(self, group: str) -> dict[str, WatchResult]:
            targets = metric_gate.objectives(wg_env, group)
            cache[group] = metric_gate.watch_all(targets, metric_source.measure, watch_settings)
            self[group] = cache[group]
            return cache[group]

    return Groups()


def _judge(check_id: str, group: str, watched: Watched, source: metric_gate.MetricSource, evidence: Evidence) -> None:
    results = watched[group]
    if check_id not in results:
        raise NotConfigured(f"metrics.{group}.{check_id}")
    result = results[check_id]
    evidence.parameter("measured by", source.mode)
    evidence.json(f"{check_id} measurements", result.evidence())
    evidence.text(f"{check_id} table", result.table())
    watch.raise_for(result)


@pytest.mark.check("PD-1")
def test_p95_latency(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    _judge("PD-1", "objectives", watched, metric_source, evidence)


@pytest.mark.check("PD-2")
def test_5xx_rate(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    _judge("PD-2", "objectives", watched, metric_source, evidence)


@pytest.mark.check("PD-3")
def test_readiness_failures(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    _judge("PD-3", "objectives", watched, metric_source, evidence)


@pytest.mark.check("PD-4")
def test_push_delivery_success(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    _judge("PD-4", "objectives", watched, metric_source, evidence)


@pytest.mark.check("RT-1")
def test_trigger_5xx_rate(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    _judge("RT-1", "triggers", watched, metric_source, evidence)


@pytest.mark.check("RT-2")
def test_trigger_p95_latency(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    _judge("RT-2", "triggers", watched, metric_source, evidence)


@pytest.mark.check("RT-3")
def test_trigger_readiness_fluctuation(
    watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence
) -> None:
    _judge("RT-3", "triggers", watched, metric_source, evidence)


@pytest.mark.check("RT-4")
def test_trigger_push_failures(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    _judge("RT-4", "triggers", watched, metric_source, evidence)


@pytest.mark.check("RV-4")
def test_metrics_stable_after_rollback(
    watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence
) -> None:
    failures: list[CheckFailed] = []
    for check_id in sorted(watched["objectives"]):
        try:
            _judge(check_id, "objectives", watched, metric_source, evidence)
        except CheckFailed as error:
            failures.append(error)
    if failures:
        worst = failures[0]
        raise CheckFailed(worst.category, "after rollback: " + "; ".join(f.reason for f in failures))
