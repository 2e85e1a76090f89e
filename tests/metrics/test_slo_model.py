"""SLIs, objectives from environment mappings, and judging values (no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_wimmelgate.errors import Category, CheckFailed, ConfigError
from pytest_wimmelgate.metrics import slo
from pytest_wimmelgate.metrics.settings import objectives_from_mapping, slis_from_mapping

STAGING = {
    "PD-1": {"sli": "latency_p95_ms", "comparison": "<", "limit": 400, "window": "5m"},
    "PD-2": {"sli": "error_rate_5xx_pct", "comparison": "<", "limit": 2, "window": "5m"},
    "PD-3": {"sli": "readiness_failure_pct", "comparison": "<", "limit": 0.5},
    "PD-4": {"sli": "push_success_pct", "comparison": ">", "limit": 90, "window": "10m"},
}


def test_objectives_from_the_environment_mapping() -> None:
    objectives = objectives_from_mapping(STAGING)

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
    (latency, custom) = objectives_from_mapping(
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
        objectives_from_mapping({"PD-1": entry}, source="staging.yaml", key_path="m")
    assert info.value.source == "staging.yaml"
    assert info.value.key_path == key_path
    assert expected in info.value.expected


def test_empty_mapping_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        objectives_from_mapping({})


def test_slis_from_mapping_overrides_and_adds() -> None:
    slis = slis_from_mapping(
        {
            "latency_p95_ms": {"query": "my_p95_ms{window='$window'}"},
            "queue_lag_s": {"query": "max(lag[$window])", "unit": "s"},
        }
    )
    assert slis["latency_p95_ms"].unit == "ms"
    assert slis["latency_p95_ms"].query("1m") == "my_p95_ms{window='1m'}"
    assert slis["queue_lag_s"].query("2m") == "max(lag[2m])"
    with pytest.raises(ConfigError) as info:
        slis_from_mapping({"new_one": {"query": "x"}})
    assert info.value.key_path == "metrics.slis.new_one"
    (objective,) = objectives_from_mapping({"Q-1": {"sli": "queue_lag_s", "comparison": "<", "limit": 5}}, slis=slis)
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


# ------------------------------------------------------------- enough events before a rate


def _readiness(limit: float = 0.5, **entry: Any) -> slo.Objective:
    (objective,) = objectives_from_mapping(
        {"PD-3": {"sli": "readiness_failure_pct", "comparison": "<", "limit": limit, "window": "5m", **entry}}
    )
    return objective


def test_a_rate_over_too_few_events_is_no_data_naming_the_count() -> None:
    """The fault matrix's finding: two readiness checks, one failed, are not "50 % failures"."""
    evaluation = slo.judge(_readiness(), [50.0], endpoint="http://prom:9090", events=2.0)

    assert evaluation.verdict == slo.NO_DATA and evaluation.value is None
    assert evaluation.reason.startswith(
        "readiness failures: no data: only 2 readiness checks over 5m; need at least 20 to judge a rate"
        " (measured 50 %, not judged) (query 100 * (sum(rate(readiness_checks_total"
    )
    assert "\n" not in evaluation.reason
    assert (evaluation.events, evaluation.min_events) == (2.0, 20)
    assert evaluation.events_query == "sum(increase(readiness_checks_total[5m]))"
    with pytest.raises(CheckFailed) as info:
        slo.raise_for(evaluation)
    assert info.value.category is Category.NO_DATA


def test_a_healthy_rate_is_no_data_too_when_its_events_are_too_few() -> None:
    assert slo.judge(_readiness(), [0.0], endpoint="e", events=19.0).verdict == slo.NO_DATA
    assert slo.judge(_readiness(), [0.0], endpoint="e", events=19.6).verdict == slo.PASS  # shown as 20


def test_a_rate_over_enough_events_is_judged_and_the_reason_names_the_count() -> None:
    failing = slo.judge(_readiness(), [5.1], endpoint="e", events=487.3)
    assert failing.verdict == slo.FAIL
    assert failing.reason.startswith("readiness failures 5.1 % > limit 0.5 % over 5m from 487 readiness checks (query ")
    assert failing.evidence()["events"] == 487 and failing.evidence()["min_events"] == 20
    assert slo.judge(_readiness(), [0.0], endpoint="e", events=20.0).verdict == slo.PASS


def test_min_events_is_set_per_objective() -> None:
    strict = _readiness(min_events=200)
    assert strict.min_events == 200
    evaluation = slo.judge(strict, [0.0], endpoint="e", events=150.0)
    assert evaluation.verdict == slo.NO_DATA
    assert "only 150 readiness checks over 5m; need at least 200 to judge a rate" in evaluation.reason
    assert _readiness(min_events="1").min_events == 1  # from a ${VAR} placeholder


def test_every_default_ratio_counts_its_denominator_and_latency_counts_nothing() -> None:
    counted = {name: sli.events for name, sli in slo.DEFAULT_SLIS.items() if sli.events}
    assert counted == {
        "error_rate_5xx_pct": "sum(increase(http_requests_total[$window]))",
        "readiness_failure_pct": "sum(increase(readiness_checks_total[$window]))",
        "push_success_pct": "sum(increase(push_deliveries_total[$window]))",
        "push_failure_pct": "sum(increase(push_deliveries_total[$window]))",
    }
    latency = _objective("<", 500)
    assert latency.min_events is None and latency.events_query == ""
    assert slo.judge(latency, [12.0], endpoint="e", events=1.0).verdict == slo.PASS  # no rule for a percentile


def test_an_objective_with_its_own_query_counts_what_its_events_query_counts() -> None:
    own = {"sli": "error_rate_5xx_pct", "comparison": "<", "limit": 2, "query": "100 * my_5xx[$window]"}
    (uncounted,) = objectives_from_mapping({"PD-2": own})
    assert uncounted.events_query == "" and uncounted.min_events is None  # it counted another metric
    (counted,) = objectives_from_mapping({"PD-2": {**own, "events": "sum(increase(my_all[$window]))"}})
    assert counted.events_query == "sum(increase(my_all[5m]))" and counted.min_events == 20
    evaluation = slo.judge(counted, [1.0], endpoint="e", events=3.0)
    assert "only 3 requests over 5m" in evaluation.reason


@pytest.mark.parametrize(
    ("entry", "key_path", "expected"),
    [
        ({"min_events": 0}, "m.PD-3.min_events", "a whole number of at least 1"),
        ({"min_events": 2.5}, "m.PD-3.min_events", "a whole number of at least 1"),
        ({"min_events": "many"}, "m.PD-3.min_events", "a whole number of at least 1"),
        ({"events": ""}, "m.PD-3.events", "a non-empty string"),
        ({"sli": "latency_p95_ms", "min_events": 50}, "m.PD-3.min_events", "latency_p95_ms counts none; give events"),
        ({"query": "100 * my_fail[$window]", "min_events": 50}, "m.PD-3.min_events", "give events"),
    ],
)
def test_bad_min_events_names_the_key(entry: dict[str, Any], key_path: str, expected: str) -> None:
    base = {"sli": "readiness_failure_pct", "comparison": "<", "limit": 0.5}
    with pytest.raises(ConfigError) as info:
        objectives_from_mapping({"PD-3": {**base, **entry}}, source="staging.yaml", key_path="m")
    assert (info.value.source, info.value.key_path) == ("staging.yaml", key_path)
    assert expected in info.value.expected


def test_an_sli_of_the_environment_may_count_its_events() -> None:
    slis = slis_from_mapping(
        {"queue_errors_pct": {"query": "100 * x[$window]", "unit": "%", "events": "sum(increase(jobs[$window]))"}}
    )
    (objective,) = objectives_from_mapping(
        {"Q-1": {"sli": "queue_errors_pct", "comparison": "<", "limit": 1, "window": "1m", "min_events": 50}},
        slis=slis,
    )
    assert objective.events_query == "sum(increase(jobs[1m]))" and objective.min_events == 50
    assert "only 7 events over 1m; need at least 50" in slo.judge(objective, [0.0], endpoint="e", events=7).reason
    overridden = slis_from_mapping({"readiness_failure_pct": {"query": "100 * mine[$window]"}})
    assert overridden["readiness_failure_pct"].events == ""
    titled = slis_from_mapping({"readiness_failure_pct": {"title": "probe failures"}})
    assert titled["readiness_failure_pct"].events == slo.DEFAULT_SLIS["readiness_failure_pct"].events


def test_an_evaluation_with_its_count_survives_the_round_trip_between_workers() -> None:
    evaluation = slo.judge(_readiness(), [50.0], endpoint="e", events=2.0)
    assert slo.Evaluation.from_dict(evaluation.to_dict()) == evaluation
