"""Prometheus and Alertmanager start only when a selected check reads them.

Real gate runs of the project's suites (`tests.gates.conftest.run_gate`) on their own
sandbox; the probe plugin (`tests.sandbox.sandbox_probe`) records the sandbox's info and
running pid files before the run's cleanup stops it. One check per run (``-k``) keeps it
short: what the sandbox starts depends on the gate marker (``-m``), not on ``-k``.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

import pytest

from pytest_wimmelgate.core import selection
from pytest_wimmelgate.sandbox.launcher import monitoring
from tests.gates.conftest import ROOT, check, newest_summary, run_gate
from tests.gates.metric_helpers import env_file, output, own_sandbox
from tests.sandbox.sandbox_probe import PROBE_ENV

pytestmark = pytest.mark.skipif(
    shutil.which("prometheus") is None or shutil.which("prometheus-alertmanager") is None,
    reason="Debian prometheus and prometheus-alertmanager are not installed",
)
CORE = {"backend", "mongodb", "s3"}


def _sandbox_of_gate_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str, overrides: dict[str, Any] | None = None
) -> tuple[dict[str, Any], pytest.RunResult]:
    """Run a gate on its own sandbox (monitoring allowed: ``auto``); what it started."""
    own_sandbox(monkeypatch, prometheus="auto", alertmanager="auto")
    tmp = pytester.path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))  # the run's sandbox workdir lands here
    probe = pytester.path / "probe.json"
    monkeypatch.setenv(PROBE_ENV, str(probe))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))))
    env = env_file(pytester, "probe", overrides, short=False)
    result = run_gate(
        pytester, "-p", "tests.sandbox.sandbox_probe", *args, "--wg-env", env, "-n", "0", "--wg-report", "off"
    )
    assert probe.exists(), output(result)
    sandboxes = json.loads(probe.read_text())
    assert len(sandboxes) == 1, (sandboxes, output(result))
    return sandboxes[0], result


def test_staging_gate_run_starts_neither_prometheus_nor_alertmanager(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, result = _sandbox_of_gate_run(
        pytester, monkeypatch, "-m", "staging_gate", "-k", "test_health_reports_the_expected_release"
    )
    assert sandbox["running"] == sorted(CORE), sandbox
    assert sandbox["pid_files"] == sorted(CORE), sandbox
    assert sandbox["prometheus_url"] is None and sandbox["alertmanager_url"] is None
    # the environment's ${SANDBOX_PROMETHEUS_URL:-} still resolves, and the check ran
    assert check(newest_summary(pytester), "SG-1")["outcome"] == "passed", output(result)


@pytest.mark.parametrize(
    ("marker", "test_name", "overrides", "monitoring_started"),
    [
        # no traffic: the metric warm-up is skipped (nothing would come), the process is what counts
        ("post_deploy", "test_p95_latency", {"sandbox": {"traffic_rps": 0}}, {"prometheus"}),
        ("alerting", "test_minimal_alert_rule_set", {}, {"prometheus", "alertmanager"}),
        ("golive", "test_no_active_p1_or_p2_alert", {}, {"alertmanager"}),
    ],
)
def test_gate_run_starts_the_monitoring_its_checks_read(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    marker: str,
    test_name: str,
    overrides: dict[str, Any],
    monitoring_started: set[str],
) -> None:
    sandbox, result = _sandbox_of_gate_run(pytester, monkeypatch, "-m", marker, "-k", test_name, overrides=overrides)
    assert sandbox["running"] == sorted(CORE | monitoring_started), (sandbox, output(result))
    assert (sandbox["prometheus_url"] is not None) == ("prometheus" in monitoring_started)
    assert (sandbox["alertmanager_url"] is not None) == ("alertmanager" in monitoring_started)


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ("staging_gate", ("off", "off")),
        ("post_deploy", ("auto", "off")),
        ("rollback_trigger", ("auto", "off")),
        ("alerting", ("auto", "auto")),
        ("golive", ("off", "auto")),
        ("prod_smoke", ("off", "auto")),
        ("preflight", ("off", "off")),
    ],
)
def test_monitoring_modes_follow_the_catalogue(marker: str, expected: tuple[str, str]) -> None:
    """The catalogue's ``uses=`` decide; the environment's mode is kept where a check reads it."""
    needed = selection.sections_used(selection.selected_checks(marker))
    assert monitoring.modes_for(needed, "auto", "auto") == expected


def test_environment_mode_off_wins_over_a_check_that_reads_monitoring() -> None:
    assert monitoring.modes_for(("alerting",), "off", "on") == ("off", "on")
    assert monitoring.modes_for(("metrics",), "on", "on") == ("on", "off")
