"""The ``alerting`` section parsed once into frozen settings, and where AL-1/AL-2 read from."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pytest_wimmelgate.config.environment import Text
from pytest_wimmelgate.domain.alerting.checks import check_alert_routing, check_rule_set
from pytest_wimmelgate.domain.alerting.settings import AlertingSettings, parse_alerting
from pytest_wimmelgate.errors import ConfigError, NotConfigured
from pytest_wimmelgate.metrics.settings import MetricSettings

SECTION = {
    "prometheus_url": Text.of("", ["SANDBOX_PROMETHEUS_URL"], absent=True),
    "rule_files": ["rules.yml"],
    "alertmanager_config_file": "alertmanager.yml",
    "rules": {"HTTP5xxRate": {"threshold": 2, "unit": "%", "window": "5m"}},
    "routing": {"forbid_anywhere": ["pagerduty"]},
}


def test_the_section_is_parsed_once_into_frozen_settings() -> None:
    settings = parse_alerting(SECTION, "env.yaml")
    assert settings.rules is not None and [r.name for r in settings.rules] == ["HTTP5xxRate"]
    assert settings.rules[0].threshold == 2 and settings.rules[0].window == "5m"
    assert settings.routing is not None and settings.routing.forbid_anywhere == ("pagerduty",)
    assert settings.rule_files == ("rules.yml",) and settings.alertmanager_config_file == "alertmanager.yml"
    assert settings.prometheus_url is None, "${VAR:-} left empty: no Prometheus named here"
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.rule_files = ()  # type: ignore[misc]


@pytest.mark.parametrize(
    ("section", "key_path"),
    [
        ({"rules": {"HTTP5xxRate": {"treshold": 2}}}, "alerting.rules.HTTP5xxRate.treshold"),
        ({"routing": {"routes": [{"labels": {}, "require": ["email"]}]}}, "alerting.routing.routes[0].labels"),
        ({"prometheus_url": "prometheus:9090"}, "alerting.prometheus_url"),
        ({"rule_file": ["rules.yml"]}, "alerting.rule_file"),
    ],
)
def test_a_mistake_names_the_file_and_key_path(section: dict[str, object], key_path: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_alerting(section, "env.yaml")
    assert str(error.value).startswith(f"env.yaml: {key_path}: ")


def test_al1_without_rule_files_reads_the_prometheus_of_the_metrics_section_or_skips() -> None:
    settings = AlertingSettings(rules=parse_alerting(SECTION, "env.yaml").rules)
    with pytest.raises(NotConfigured, match=r"metrics\.prometheus_url"):
        check_rule_set(settings, Path("."), None)
    with pytest.raises(NotConfigured, match=r"metrics\.prometheus_url"):
        check_rule_set(settings, Path("."), MetricSettings(prometheus_url=None))
    result = check_rule_set(settings, Path("."), MetricSettings(prometheus_url="http://127.0.0.1:9", timeout_s=0.5))
    assert not result.ok and result.category is not None and "127.0.0.1:9" in result.reason, result


def test_al1_and_al2_skip_without_expectations_and_al2_without_a_source() -> None:
    with pytest.raises(NotConfigured, match=r"alerting\.rules"):
        check_rule_set(AlertingSettings(rule_files=("rules.yml",)), Path("."))
    with pytest.raises(NotConfigured, match=r"alerting\.routing"):
        check_alert_routing(AlertingSettings(alertmanager_config_file="am.yml"), Path("."))
    routing = parse_alerting(SECTION, "env.yaml").routing
    with pytest.raises(NotConfigured, match=r"alertmanager\.url"):
        check_alert_routing(AlertingSettings(routing=routing), Path("."), None)


def test_a_missing_alertmanager_file_fails_al2_as_configuration(tmp_path: Path) -> None:
    settings = AlertingSettings(routing=parse_alerting(SECTION, "env.yaml").routing, alertmanager_config_file="no.yml")
    result = check_alert_routing(settings, tmp_path)
    assert not result.ok and str(result.category) == "configuration missing"
    assert str(tmp_path / "no.yml") in result.reason
