"""The Alertmanager probe against a real Alertmanager: GL-4 and the AL-2 read-back."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from pytest_wimmelgate.domain import alerting
from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes import alertmanager

STAGING_ROUTING = {
    "forbid_anywhere": ["pagerduty"],
    "routes": [
        {
            "labels": {"alertname": "Any", "severity": sev},
            "require": ["email", "slack"],
            "slack_channel": "#wimmelwelt-staging",
        }
        for sev in ("P1", "P2", "P3")
    ],
}


def drill_alert(run: str, severity: str, *, minutes: float = 5, **labels: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "labels": {"alertname": "WimmelgateDrill", "severity": severity, "run": run, **labels},
        "annotations": {"summary": f"drill {severity}"},
        "startsAt": (now - timedelta(seconds=1)).isoformat(),
        "endsAt": (now + timedelta(minutes=minutes)).isoformat(),
    }


@pytest.fixture
def run_id() -> str:
    """A label value that only this test's alerts carry."""
    return uuid.uuid4().hex


def test_active_p1_blocks(alertmanager_url: str, run_id: str) -> None:
    alertmanager.post_alerts(
        alertmanager_url,
        [drill_alert(run_id, "P1"), drill_alert(run_id, "P3", instance="b")],
        timeout=5,
    )

    alerts = alertmanager.active_alerts(alertmanager_url, filters={"run": run_id}, timeout=5)
    blocking = alertmanager.blocking_alerts(alerts)

    assert sorted(a.labels["severity"] for a in alerts) == ["P1", "P3"]
    assert [a.labels["severity"] for a in blocking] == ["P1"]
    assert blocking[0].state == "active"
    assert blocking[0].receivers == ("staging-team",)
    assert blocking[0].describe().startswith('WimmelgateDrill{run="')


def test_no_alerts_means_nothing_blocks(alertmanager_url: str, run_id: str) -> None:
    alerts = alertmanager.active_alerts(alertmanager_url, filters={"run": run_id}, timeout=5)
    assert alerts == []
    assert alertmanager.blocking_alerts(alerts) == []


def test_only_p3_means_nothing_blocks(alertmanager_url: str, run_id: str) -> None:
    alertmanager.post_alerts(alertmanager_url, [drill_alert(run_id, "P3")], timeout=5)
    alerts = alertmanager.active_alerts(alertmanager_url, filters=[f'run="{run_id}"'], timeout=5)
    assert len(alerts) == 1
    assert alertmanager.blocking_alerts(alerts) == []


def test_silenced_and_resolved_alerts_are_not_active(alertmanager_url: str, run_id: str) -> None:
    now = datetime.now(UTC)
    silence = {
        "matchers": [
            {"name": "run", "value": run_id, "isRegex": False},
            {"name": "severity", "value": "P2", "isRegex": False},
        ],
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(minutes=10)).isoformat(),
        "createdBy": "wimmelgate tests",
        "comment": "drill",
    }
    answer = requests.post(f"{alertmanager_url}/api/v2/silences", json=silence, timeout=5)
    assert answer.status_code == 200, answer.text
    resolved = drill_alert(run_id, "P1")
    resolved["startsAt"] = (now - timedelta(minutes=10)).isoformat()
    resolved["endsAt"] = (now - timedelta(minutes=1)).isoformat()
    alertmanager.post_alerts(alertmanager_url, [drill_alert(run_id, "P2"), resolved], timeout=5)

    alerts = alertmanager.active_alerts(alertmanager_url, filters={"run": run_id}, timeout=5)

    assert alerts == []


def test_status_config_reads_back_and_passes_staging_routing(alertmanager_url: str) -> None:
    status = alertmanager.status(alertmanager_url, timeout=5)

    assert status.version
    assert status.cluster_status == "disabled"
    assert status.config["route"]["receiver"] == "staging-team"
    assert alerting.check_routing(status.config, STAGING_ROUTING) == []
    production = {
        "routes": [
            {
                "labels": {"severity": "P1"},
                "require": ["pagerduty", "slack"],
                "slack_channel": "#wimmelwelt-prod",
            }
        ]
    }
    problems = [str(p) for p in alerting.check_routing(status.config, production)]
    assert problems == [
        "alert {severity=\"P1\"}: reaches 'staging-team' via route.routes[0] without pagerduty_configs",
        "alert {severity=\"P1\"}: reaches 'staging-team' via route.routes[0] without Slack"
        " channel '#wimmelwelt-prod' (channels: '#wimmelwelt-staging')",
    ]


def test_bad_filter_and_wrong_url_are_configuration_errors(alertmanager_url: str) -> None:
    with pytest.raises(ProbeError) as info:
        alertmanager.active_alerts(alertmanager_url, filters=["severity"], timeout=5)
    assert info.value.category is Category.CONFIG
    assert 'request rejected (HTTP 400): "bad matcher format: severity"' in info.value.reason
    with pytest.raises(ProbeError) as info:
        alertmanager.status(alertmanager_url + "/alertmanager", timeout=5)
    assert info.value.category is Category.CONFIG
    assert "HTTP 404" in info.value.reason


def test_unreachable_alertmanager_is_infrastructure(closed_url: str) -> None:
    with pytest.raises(ProbeError) as info:
        alertmanager.active_alerts(closed_url, timeout=2)
    assert info.value.category is Category.INFRASTRUCTURE


def test_prometheus_alert_reaches_alertmanager_and_blocks(prometheus_url: str, alertmanager_url: str) -> None:
    """End to end: the drill rule fires on the 10 % 5xx traffic, Prometheus sends it."""
    deadline = time.monotonic() + 20
    blocking: list[alertmanager.Alert] = []
    while time.monotonic() < deadline and not blocking:
        alerts = alertmanager.active_alerts(alertmanager_url, filters={"drill": "prometheus-e2e"}, timeout=5)
        blocking = alertmanager.blocking_alerts(alerts)
        time.sleep(0.25)

    assert [a.name for a in blocking] == ["WimmelgateDrillErrorRate"]
    assert blocking[0].labels["severity"] == "P1"


def test_blocking_alerts_compare_severity_loosely_and_skip_silenced() -> None:
    alerts = [
        alertmanager.Alert({"alertname": "A", "severity": " p1"}),
        alertmanager.Alert({"alertname": "B", "severity": "P2"}, silenced_by=("s1",)),
        alertmanager.Alert({"alertname": "C", "severity": "P2"}, state="suppressed"),
        alertmanager.Alert({"alertname": "D", "priority": "P2"}),
        alertmanager.Alert({"alertname": "E"}),
    ]
    assert [a.name for a in alertmanager.blocking_alerts(alerts)] == ["A"]
    assert [a.name for a in alertmanager.blocking_alerts(alerts, label="priority")] == ["D"]


def test_post_alerts_rejects_alert_without_labels(alertmanager_url: str) -> None:
    with pytest.raises(ValueError, match="labels"):
        alertmanager.post_alerts(alertmanager_url, [{"annotations": {}}], timeout=5)
