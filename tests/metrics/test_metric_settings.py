"""The ``metrics`` section parsed once at start, and the watch options laid over it."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_wimmelgate.errors import ConfigError
from pytest_wimmelgate.metrics.gate import apply_watch_options, parse_metrics

SECTION: dict[str, Any] = {
    "prometheus_url": "http://127.0.0.1:9090",
    "timeout_s": 5,
    "sampling": {"requests": 100, "concurrency": 4},
    "watch": {"duration": "0", "interval": "30s", "failure_limit": 0},
    "objectives": {"PD-1": {"sli": "latency_p95_ms", "comparison": "<", "limit": 400, "window": "5m"}},
    "triggers": {"RT-1": {"sli": "error_rate_5xx_pct", "comparison": "<=", "limit": 2, "window": "5m"}},
}


def test_the_whole_section_becomes_frozen_settings() -> None:
    settings = parse_metrics(SECTION, "env.yaml")

    assert settings.prometheus_url == "http://127.0.0.1:9090"
    assert settings.objectives["PD-1"].limit == 400 and settings.triggers["RT-1"].comparison == "<="
    assert settings.group("triggers") == settings.triggers
    assert (settings.watch.duration_s, settings.watch.interval_s, settings.watch.rounds) == (0, 30, 1)
    assert (settings.sampling.requests, settings.sampling.concurrency) == (100, 4)
    with pytest.raises(AttributeError):
        settings.timeout_s = 1  # type: ignore[misc]


def test_numbers_written_as_text_by_placeholders_are_numbers() -> None:
    section = {
        **SECTION,
        "timeout_s": "5",
        "sampling": {"requests": "50", "concurrency": "2", "rate_per_s": "25"},
        "watch": {"duration": "120", "interval": "10", "failure_limit": "1"},
        "objectives": {"PD-1": {"sli": "latency_p95_ms", "comparison": "<", "limit": "400"}},
    }
    settings = parse_metrics(section, "env.yaml")

    assert settings.timeout_s == 5.0
    assert (settings.sampling.requests, settings.sampling.concurrency, settings.sampling.rate_per_s) == (50, 2, 25.0)
    assert (settings.watch.duration_s, settings.watch.interval_s, settings.watch.failure_limit) == (120, 10, 1)
    assert settings.objectives["PD-1"].limit == 400.0


def test_min_events_is_read_next_to_the_limit_and_ratios_default_to_the_minimum() -> None:
    section = {
        **SECTION,
        "triggers": {
            "RT-1": {"sli": "error_rate_5xx_pct", "comparison": "<=", "limit": 2},
            "RT-3": {"sli": "readiness_failure_pct", "comparison": "<=", "limit": 0.5, "min_events": "200"},
        },
    }
    settings = parse_metrics(section, "env.yaml")

    assert settings.triggers["RT-1"].min_events == 20
    assert settings.triggers["RT-3"].min_events == 200
    assert settings.objectives["PD-1"].min_events is None  # a percentile, not a ratio


def test_an_empty_prometheus_url_means_active_sampling() -> None:
    assert parse_metrics({**SECTION, "prometheus_url": ""}, "env.yaml").prometheus_url is None


@pytest.mark.parametrize(
    ("change", "key_path"),
    [
        ({"timeout_s": "soon"}, "metrics.timeout_s"),
        ({"prometheus_url": "prometheus:9090"}, "metrics.prometheus_url"),
        ({"watch": {"duration": "ten minutes"}}, "metrics.watch.duration"),
        ({"watch": {"interval": "0"}}, "metrics.watch.interval"),
        ({"watch": {"failure_limit": -1}}, "metrics.watch.failure_limit"),
        ({"watch": {"duraton": "5m"}}, "metrics.watch.duraton"),
        ({"sampling": {"requests": 0}}, "metrics.sampling.requests"),
        ({"sampling": {"buckets_ms": [10, 5]}}, "metrics.sampling.buckets_ms"),
        ({"objectives": {"PD-1": {"sli": "latency_p95_ms", "comparison": "<", "limit": "lots"}}}, None),
        ({"windows": 1}, "metrics.windows"),
        (
            {"triggers": {"RT-1": {"sli": "error_rate_5xx_pct", "comparison": "<=", "limit": 2, "min_events": 0}}},
            "metrics.triggers.RT-1.min_events",
        ),
        ({"slis": {"error_rate_5xx_pct": {"events": 20}}}, "metrics.slis.error_rate_5xx_pct.events"),
    ],
)
def test_a_bad_value_names_the_file_and_key_path(change: dict[str, Any], key_path: str | None) -> None:
    with pytest.raises(ConfigError) as info:
        parse_metrics({**SECTION, **change}, "environments/x.yaml")
    assert info.value.source == "environments/x.yaml"
    assert info.value.key_path == (key_path or "metrics.objectives.PD-1.limit")


def test_watch_options_override_the_environment() -> None:
    settings = parse_metrics(SECTION, "env.yaml")

    watched = apply_watch_options(settings, "10m", "5s", "--wg-watch")
    assert (watched.watch.duration_s, watched.watch.interval_s, watched.watch.rounds) == (600, 5, 121)
    assert apply_watch_options(settings, "90", None).watch.duration_s == 90  # seconds, as a placeholder gives it
    assert apply_watch_options(settings, None, "").watch == settings.watch


@pytest.mark.parametrize(
    ("duration", "interval", "source", "message"),
    [
        ("abc", None, "--wg-watch", "--wg-watch: expected a duration like 0, 30s, 10m or 1h"),
        ("abc", None, "WIMMELGATE_WATCH", "WIMMELGATE_WATCH: --wg-watch: expected a duration like"),
        ("5m", "0s", "--wg-watch-interval", "--wg-watch-interval: expected a positive duration"),
        ("-5m", None, "", "--wg-watch: expected a duration"),
    ],
)
def test_a_bad_watch_option_is_one_line_naming_the_option(
    duration: str, interval: str | None, source: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        apply_watch_options(parse_metrics(SECTION, "env.yaml"), duration, interval, source)
    assert str(info.value).startswith(message), str(info.value)
    assert "\n" not in str(info.value)
