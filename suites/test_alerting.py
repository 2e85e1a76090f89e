"""Alerting (runbook 7): the minimal rule set with this environment's thresholds (AL-1)
and the routing (AL-2). Rules come from Prometheus ``/api/v1/rules`` or from rule files
(validated as promtool would); routing from Alertmanager ``/api/v2/status`` or a file."""

from __future__ import annotations

import pytest

from pytest_wimmelgate.config.sections import RunSettings
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.domain.alerting import checks
from pytest_wimmelgate.domain.alerting.settings import AlertingSettings


@pytest.fixture(scope="session")
def alerting(wg_settings: RunSettings) -> AlertingSettings:
    """The expected rules and routing, and where both are read (``alerting``)."""
    settings: AlertingSettings = wg_settings.get("alerting")
    return settings


@pytest.mark.check("AL-1")
def test_minimal_alert_rule_set(
    alerting: AlertingSettings, wg_settings: RunSettings, pytestconfig: pytest.Config, evidence: Evidence
) -> None:
    metrics = wg_settings.get("metrics") if wg_settings.has("metrics") else None  # its Prometheus, if no rule files
    result = checks.check_rule_set(alerting, pytestconfig.rootpath, metrics)
    evidence.judge("alert rules", result)


@pytest.mark.check("AL-2")
def test_alert_routing(
    alerting: AlertingSettings, wg_settings: RunSettings, pytestconfig: pytest.Config, evidence: Evidence
) -> None:
    api = wg_settings.get("alertmanager") if wg_settings.has("alertmanager") else None  # if no config file
    result = checks.check_alert_routing(alerting, pytestconfig.rootpath, api)
    evidence.judge("alertmanager route tree", result)
