"""The Prometheus probe and SLO evaluation against a real Prometheus scraping a real target."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from pytest_wimmelgate.domain import alerting
from pytest_wimmelgate.errors import Category, CheckFailed, ProbeError
from pytest_wimmelgate.metrics import slo, watch
from pytest_wimmelgate.metrics.settings import objectives_from_mapping
from pytest_wimmelgate.probes import prometheus

if TYPE_CHECKING:
    from tests.metrics.conftest import DrivenMix

W = "30s"


def objective(oid: str, sli: str, comparison: str, limit: float, **extra: object) -> slo.Objective:
    entry: dict[str, object] = {"sli": sli, "comparison": comparison, "limit": limit, "window": W}
    entry.update(extra)
    return objectives_from_mapping({oid: entry})[0]


# ---------------------------------------------------------------------------- probe


def test_instant_query_returns_vector_and_keeps_raw_json(prometheus_url: str) -> None:
    result = prometheus.query(prometheus_url, 'up{job="wimmelwelt"}', timeout=5)

    assert result.result_type == "vector"
    assert [s.value for s in result.samples] == [1.0]
    assert result.samples[0].labels["job"] == "wimmelwelt"
    assert result.raw["status"] == "success"
    assert result.evidence()["query"] == 'up{job="wimmelwelt"}'


def test_scalar_and_nan_results_parse(prometheus_url: str) -> None:
    assert prometheus.query(prometheus_url, "scalar(vector(2.5))", timeout=5).values() == [2.5]
    nan = prometheus.query(prometheus_url, "0/0", timeout=5)
    assert nan.result_type == "scalar"
    assert not nan.samples[0].is_number


def test_query_range_returns_series_with_points(prometheus_url: str) -> None:
    end = time.time()
    result = prometheus.query_range(prometheus_url, "sum(rate(http_requests_total[10s]))", end - 4, end, 1, timeout=5)
    assert result.result_type == "matrix"
    assert len(result.series) == 1
    points = result.series[0].points
    assert len(points) >= 2
    assert points[1][0] - points[0][0] == pytest.approx(1.0)
    assert all(value > 0 for _, value in points)


def test_bad_promql_is_a_configuration_error_naming_the_query(prometheus_url: str) -> None:
    with pytest.raises(ProbeError) as info:
        prometheus.query(prometheus_url, "sum(rate(http_requests_total[5m])", timeout=5)

    assert info.value.category is Category.CONFIG
    assert "bad_data" in info.value.reason
    assert "sum(rate(http_requests_total[5m])" in info.value.reason
    assert info.value.evidence["answer"]["status"] == "error"


def test_wrong_url_is_a_configuration_error(prometheus_url: str, alertmanager_url: str) -> None:
    """A path prefix that is not there (404) or a server that is not Prometheus at all."""
    with pytest.raises(ProbeError) as info:
        prometheus.query(prometheus_url + "/prometheus", "up", timeout=5)
    assert info.value.category is Category.CONFIG
    assert "no Prometheus HTTP API there (HTTP 404)" in info.value.reason
    with pytest.raises(ProbeError) as info:
        prometheus.query(alertmanager_url, "up", timeout=5)
    assert info.value.category is Category.CONFIG


def test_closed_port_is_infrastructure_unreachable(closed_url: str) -> None:
    with pytest.raises(ProbeError) as info:
        prometheus.query(closed_url, "up", timeout=2)
    assert info.value.category is Category.INFRASTRUCTURE
    assert "unreachable" in info.value.reason


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A socket that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def test_silent_prometheus_times_out_as_infrastructure(silent_server: str) -> None:
    started = time.monotonic()
    with pytest.raises(ProbeError) as info:
        prometheus.query(silent_server, "up", timeout=0.5)
    assert time.monotonic() - started < 5
    assert info.value.category is Category.INFRASTRUCTURE
    assert "no complete answer within 0.5 s" in info.value.reason or "timeout" in info.value.reason


def test_loaded_rules_are_parsed_and_checked(prometheus_url: str) -> None:
    groups = prometheus.rules(prometheus_url, timeout=5)

    by_name = {g.name: g for g in groups}
    assert sorted(by_name) == ["wimmelgate-drill", "wimmelwelt-minimal"]
    high = by_name["wimmelwelt-minimal"].rules[0]
    assert (high.kind, high.name, high.for_s, high.labels["severity"]) == (
        "alerting",
        "HighErrorRate",
        300.0,
        "P2",
    )
    rules = alerting.flatten(groups)
    staging = alerting.expected_rules(
        {
            "HighErrorRate": {"threshold": 2, "unit": "%", "window": "5m"},
            "ReadinessFailureRate": {"threshold": 0.5, "unit": "%", "window": "5m"},
        }
    )
    assert alerting.check_rules(rules, staging) == []

    production = alerting.expected_rules(
        {
            "HighErrorRate": {"threshold": 1, "unit": "%", "window": "5m"},
            "MongoLatencyP95": {"threshold": 400, "unit": "ms", "window": "5m"},
        }
    )
    problems = [str(p) for p in alerting.check_rules(rules, production)]
    assert len(problems) == 2
    assert problems[0].startswith("alert HighErrorRate: threshold 1 % not found")
    assert problems[1].startswith("alert MongoLatencyP95: missing")


# ------------------------------------------------------------------------------ SLO


def test_5xx_rate_over_limit_fails_with_value_limit_window_and_query(
    prometheus_url: str, driven_mix: DrivenMix
) -> None:
    evaluation = slo.evaluate(objective("RT-1", "error_rate_5xx_pct", "<=", 2), prometheus_url)

    assert evaluation.verdict == slo.FAIL
    assert evaluation.value == pytest.approx(driven_mix.error_5xx_pct, abs=1.0)
    assert evaluation.raw is not None and evaluation.raw["status"] == "success"
    assert "5xx rate 1" in evaluation.reason
    assert "% > limit 2 % over 30s" in evaluation.reason
    assert evaluation.query in evaluation.reason and prometheus_url in evaluation.reason
    with pytest.raises(CheckFailed) as info:
        slo.raise_for(evaluation)
    assert info.value.category is Category.SLO
    assert info.value.reason.startswith("RT-1: 5xx rate")
    assert info.value.evidence["value"] == evaluation.value


def test_p95_latency_from_the_histogram(prometheus_url: str, driven_mix: DrivenMix) -> None:
    under = slo.evaluate(objective("PD-1", "latency_p95_ms", "<", 700), prometheus_url)
    over = slo.evaluate(objective("RT-2", "latency_p95_ms", "<=", 500), prometheus_url)

    assert under.verdict == slo.PASS
    assert under.value == pytest.approx(driven_mix.p95_ms, abs=20)
    slo.raise_for(under)  # a pass raises nothing
    assert over.verdict == slo.FAIL
    assert "p95 latency 6" in over.reason and "ms > limit 500 ms over 30s" in over.reason


def test_readiness_and_push_ratios(prometheus_url: str, driven_mix: DrivenMix) -> None:
    readiness = slo.evaluate(objective("PD-3", "readiness_failure_pct", "<", 1), prometheus_url)
    prod_readiness = slo.evaluate(objective("PD-3", "readiness_failure_pct", "<", 0.1), prometheus_url)
    push = slo.evaluate(objective("PD-4", "push_success_pct", ">", 90), prometheus_url)
    push_failures = slo.evaluate(objective("RT-4", "push_failure_pct", "<=", 3), prometheus_url)

    assert readiness.verdict == slo.PASS
    assert readiness.value == pytest.approx(driven_mix.readiness_fail_pct, abs=0.1)
    assert prod_readiness.verdict == slo.FAIL
    assert push.verdict == slo.PASS
    assert push.value == pytest.approx(driven_mix.push_success_pct, abs=1.0)
    assert push_failures.verdict == slo.FAIL
    assert push_failures.value == pytest.approx(100 - driven_mix.push_success_pct, abs=1.0)


def test_a_ratio_is_judged_with_its_event_count_read_at_the_same_instant(prometheus_url: str) -> None:
    at = time.time()
    evaluation = slo.evaluate(objective("PD-3", "readiness_failure_pct", "<", 1), prometheus_url, now=at)

    assert evaluation.verdict == slo.PASS
    assert evaluation.events_query == "sum(increase(readiness_checks_total[30s]))"
    counted = prometheus.query(prometheus_url, evaluation.events_query, time=at, timeout=5).values()
    assert evaluation.events == round(counted[0]) and evaluation.events > 1000
    assert f"over 30s from {evaluation.events:.0f} readiness checks (query " in evaluation.reason
    assert evaluation.evidence()["min_events"] == slo.DEFAULT_MIN_EVENTS


def test_a_window_with_fewer_events_than_the_minimum_is_no_data_naming_the_count(prometheus_url: str) -> None:
    evaluation = slo.evaluate(
        objective("RT-3", "readiness_failure_pct", "<=", 0.5, min_events=10_000_000), prometheus_url
    )

    assert evaluation.verdict == slo.NO_DATA and evaluation.value is None
    found = re.search(
        r"only (\d+) readiness checks over 30s; need at least 10000000 to judge a rate", evaluation.reason
    )
    assert found and int(found.group(1)) == evaluation.events, evaluation.reason
    with pytest.raises(CheckFailed) as info:
        slo.raise_for(evaluation)
    assert info.value.category is Category.NO_DATA


def test_a_rejected_event_count_is_an_error_naming_that_query(prometheus_url: str) -> None:
    evaluation = slo.evaluate(
        objective(
            "PD-3",
            "readiness_failure_pct",
            "<",
            1,
            query=slo.DEFAULT_SLIS["readiness_failure_pct"].promql,
            events="sum(increase(readiness_checks_total[$window])",
        ),
        prometheus_url,
    )

    assert evaluation.verdict == slo.ERROR and evaluation.category is Category.CONFIG
    assert "sum(increase(readiness_checks_total[30s])" in evaluation.reason


def test_missing_metric_is_no_data_never_a_pass(prometheus_url: str) -> None:
    evaluation = slo.evaluate(
        objective("PD-9", "error_rate_5xx_pct", "<", 1, query="sum(rate(no_such_metric_total[$window]))"),
        prometheus_url,
    )

    assert evaluation.verdict == slo.NO_DATA
    assert evaluation.value is None
    assert "no data over 30s (empty result)" in evaluation.reason
    assert "no_such_metric_total[30s]" in evaluation.reason
    with pytest.raises(CheckFailed) as info:
        slo.raise_for(evaluation)
    assert info.value.category is Category.NO_DATA


def test_no_traffic_ratio_is_no_data_not_zero(prometheus_url: str) -> None:
    """0/0 over a series that exists but never moves: NaN, i.e. no data (spinnaker#5622)."""
    query = (
        '100 * (sum(rate(http_requests_total{path="/idle",status=~"5.."}[$window]))'
        ' or vector(0)) / sum(rate(http_requests_total{path="/idle"}[$window]))'
    )
    evaluation = slo.evaluate(objective("PD-2", "error_rate_5xx_pct", "<", 1, query=query), prometheus_url)

    assert evaluation.verdict == slo.NO_DATA
    assert "result is NaN" in evaluation.reason


def test_bad_query_evaluates_to_error_with_config_category(prometheus_url: str) -> None:
    evaluation = slo.evaluate(
        objective("PD-1", "latency_p95_ms", "<", 300, query="histogram_quantile(0.95,"),
        prometheus_url,
    )

    assert evaluation.verdict == slo.ERROR
    assert evaluation.category is Category.CONFIG
    with pytest.raises(CheckFailed) as info:
        slo.raise_for(evaluation)
    assert info.value.category is Category.CONFIG
    assert "Prometheus rejected query" in info.value.reason


def test_unreachable_prometheus_evaluates_to_infrastructure_error(closed_url: str) -> None:
    evaluation = slo.evaluate(objective("PD-1", "latency_p95_ms", "<", 300), closed_url, timeout=2)

    assert evaluation.verdict == slo.ERROR
    with pytest.raises(CheckFailed) as info:
        slo.raise_for(evaluation)
    assert info.value.category is Category.INFRASTRUCTURE


def test_evaluation_at_a_given_time(prometheus_url: str) -> None:
    at = time.time()
    evaluation = slo.evaluate(objective("PD-2", "error_rate_5xx_pct", "<", 50), prometheus_url, now=at)
    assert evaluation.verdict == slo.PASS
    assert evaluation.evaluated_at == pytest.approx(at, abs=0.01)


def test_watch_against_prometheus_stops_at_the_breach(prometheus_url: str) -> None:
    objectives = [
        objective("PD-1", "latency_p95_ms", "<", 700),
        objective("RT-1", "error_rate_5xx_pct", "<=", 2),
    ]
    result = watch.watch(
        objectives,
        lambda o: slo.evaluate(o, prometheus_url, timeout=3),
        interval_s=0.2,
        duration_s=2,
    )

    assert result.verdict == slo.FAIL
    assert result.stopped_early and result.rounds == 1
    assert [m.objective_id for m in result.measurements] == ["PD-1", "RT-1"]
    assert result.reason.startswith("RT-1: breached at t+0 s (round 1, ")
    assert re.search(r"Z\): 5xx rate 10(\.\d+)? % > limit 2 % over 30s", result.reason), result.reason
    with pytest.raises(CheckFailed) as info:
        watch.raise_for(result)
    assert info.value.category is Category.SLO


def test_watch_against_prometheus_passes_over_its_duration(prometheus_url: str) -> None:
    result = watch.watch(
        [objective("PD-4", "push_success_pct", ">", 90)],
        lambda o: slo.evaluate(o, prometheus_url, timeout=3),
        interval_s=0.3,
        duration_s=0.9,
    )

    assert result.verdict == slo.PASS, result.reason
    assert result.rounds == 4
    assert all(m.verdict == slo.PASS for m in result.measurements)
    assert "PD-4" in result.table()
