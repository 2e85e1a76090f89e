"""SLIs, objectives from environment mappings, and judging values (no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_wimmelgate.errors import Category, CheckFailed, ConfigError
from pytest_wimmelgate.metrics import slo

STAGING = {
    "PD-1": {"sli": "latency_p95_ms", "comparison": "<", "limit": 400, "window": "5m"},
    "PD-2": {"sli": "error_rate_5xx_pct", "comparison": "<", "limit": 2, "window": "5m"},
    "PD-3": {"sli": "readiness_failure_pct", "comparison": "<", "limit": 0.5},
    "PD-4": {"sli": "push_success_pct", "comparison": ">", "limit": 90, "window": "10m"},
}


def test_objectives_from_the_environment_mapping() -> None:
    objectives = slo.objectives_from_mapping(STAGING)

    assert [o.id for o in objectives] == ["PD-1", "PD-2", "PD-3", "PD-4"]
    assert objectives[0].describe() == "p95 latency < 400 ms over 5m"
    assert objectives[2].window == slo.DEFAULT_WINDOW
    assert objectives[3].describe() == "push delivery success > 90 % over 10m"
    assert objectives[0].query == (
        "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) * 1000"
    )
    assert objectives[1].query == (
        '100 * (sum(rate(http_requests_total{status=~"5.."}[5m])) or vector(0)) / sum(rate(http_requests_total[5m]))'
    )
    assert "[10m]" in objectives[3].query and "$window" not in objectives[3].query


def test_entry_keyed_by_sli_name_and_query_override() -> None:
    (latency, custom) = slo.objectives_from_mapping(
        {
            "latency_p95_ms": {"comparison": "<", "limit": 300},
            "RT-9": {
                "sli": "queue_lag_s",
                "query": "max(queue_lag_seconds[${window}])",
                "unit": "s",
                "title": "queue lag",
                "comparison": "<=",
                "limit": 30,
                "window": "1m",
            },
        }
    )
    assert latency.sli == slo.DEFAULT_SLIS["latency_p95_ms"]
    assert custom.query == "max(queue_lag_seconds[1m])"
    assert custom.describe() == "queue lag <= 30 s over 1m"


@pytest.mark.parametrize(
    ("entry", "key_path", "expected"),
    [
        ({"sli": "latency_p95", "comparison": "<", "limit": 1}, "m.PD-1.sli", "one of"),
        ({"comparison": "<", "limit": 1}, "m.PD-1.sli", "an SLI name"),
        ({"sli": "latency_p95_ms", "comparison": "lt", "limit": 1}, "m.PD-1.comparison", "<"),
        ({"sli": "latency_p95_ms", "comparison": "<"}, "m.PD-1.limit", "a finite number"),
        ({"sli": "latency_p95_ms", "comparison": "<", "limit": "300ms"}, "m.PD-1.limit", "finite"),
        ({"sli": "latency_p95_ms", "comparison": "<", "limit": True}, "m.PD-1.limit", "finite"),
        ({"sli": "latency_p95_ms", "comparison": "<", "limit": float("nan")}, "m.PD-1.limit", ""),
        (
            {"sli": "latency_p95_ms", "comparison": "<", "limit": 1, "window": "5 min"},
            "m.PD-1.window",
            "a positive Prometheus duration",
        ),
        (
            {"sli": "latency_p95_ms", "comparison": "<", "limit": 1, "window": "0s"},
            "m.PD-1.window",
            "positive",
        ),
        (
            {"sli": "latency_p95_ms", "comparison": "<", "limit": 1, "query": ""},
            "m.PD-1.query",
            "a non-empty string",
        ),
        (
            {"sli": "latency_p95_ms", "comparison": "<", "limit": 1, "treshold": 2},
            "m.PD-1.treshold",
            "unknown key",
        ),
        ("300", "m.PD-1", "a mapping"),
    ],
)
def test_bad_entries_raise_config_error_with_key_path(entry: Any, key_path: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        slo.objectives_from_mapping({"PD-1": entry}, source="staging.yaml", key_path="m")
    assert info.value.source == "staging.yaml"
    assert info.value.key_path == key_path
    assert expected in info.value.expected


def test_empty_mapping_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        slo.objectives_from_mapping({})


def test_slis_from_mapping_overrides_and_adds() -> None:
    slis = slo.slis_from_mapping(
        {
            "latency_p95_ms": {"query": "my_p95_ms{window='$window'}"},
            "queue_lag_s": {"query": "max(lag[$window])", "unit": "s"},
        }
    )
    assert slis["latency_p95_ms"].unit == "ms"
    assert slis["latency_p95_ms"].query("1m") == "my_p95_ms{window='1m'}"
    assert slis["queue_lag_s"].query("2m") == "max(lag[2m])"
    with pytest.raises(ConfigError) as info:
        slo.slis_from_mapping({"new_one": {"query": "x"}})
    assert info.value.key_path == "metrics.slis.new_one"
    (objective,) = slo.objectives_from_mapping(
        {"Q-1": {"sli": "queue_lag_s", "comparison": "<", "limit": 5}}, slis=slis
    )
    assert objective.query == "max(lag[5m])"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h30m", 5400),
        ("1d", 86400),
        ("1w", 604800),
        ("250ms", 0.25),
        ("0", 0),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert slo.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "5 m", "1.5m", "-5m", "5M", "m", "30m1h"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        slo.parse_duration(text)


def _objective(comparison: str, limit: float) -> slo.Objective:
    return slo.Objective("PD-1", slo.DEFAULT_SLIS["latency_p95_ms"], comparison, limit, "5m")


def test_judge_reason_is_one_line_with_value_limit_window_query_endpoint() -> None:
    evaluation = slo.judge(_objective("<", 500), [612.4], endpoint="http://prom:9090")

    assert evaluation.verdict == slo.FAIL
    assert evaluation.reason.startswith("p95 latency 612.4 ms > limit 500 ms over 5m (query ")
    assert evaluation.reason.endswith(" at http://prom:9090)")
    assert "\n" not in evaluation.reason


def test_judge_boundaries_follow_the_comparison() -> None:
    assert slo.judge(_objective("<", 500), [500.0], endpoint="e").verdict == slo.FAIL
    assert (
        "500 ms = limit 500 ms over 5m, must be < limit"
        in slo.judge(_objective("<", 500), [500.0], endpoint="e").reason
    )
    assert slo.judge(_objective("<=", 500), [500.0], endpoint="e").verdict == slo.PASS
    assert slo.judge(_objective(">", 95), [95.0], endpoint="e").verdict == slo.FAIL
    assert slo.judge(_objective(">=", 95), [95.0], endpoint="e").verdict == slo.PASS


@pytest.mark.parametrize("values", [[], [float("nan")], [float("inf")], [float("-inf")]])
def test_empty_nan_and_inf_are_no_data(values: list[float]) -> None:
    evaluation = slo.judge(_objective("<", 500), values, endpoint="e")
    assert evaluation.verdict == slo.NO_DATA
    assert evaluation.value is None
    with pytest.raises(CheckFailed) as info:
        slo.raise_for(evaluation)
    assert info.value.category is Category.NO_DATA


def test_several_series_the_worst_decides() -> None:
    lower = slo.judge(_objective("<", 500), [120.0, float("nan"), 610.0], endpoint="e")
    assert lower.value == 610.0 and lower.verdict == slo.FAIL
    assert "worst of 3 series (1 without data)" in lower.reason
    higher = slo.judge(_objective(">", 90), [99.0, 85.0], endpoint="e")
    assert higher.value == 85.0 and higher.verdict == slo.FAIL


def test_evidence_is_json_friendly() -> None:
    import json

    evaluation = slo.judge(_objective("<", 500), [12.0], endpoint="e", raw={"status": "success"})
    evidence = evaluation.evidence()
    json.dumps(evidence)
    assert evidence["verdict"] == "pass" and evidence["limit"] == 500
    assert evidence["raw"] == {"status": "success"}
