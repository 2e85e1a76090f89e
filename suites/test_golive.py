"""Go-live decision (runbook 2.3, 2.4, 5): GL-1 … GL-6."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.domain import approvals, backups, release_evidence
from pytest_wimmelgate.errors import Category, CheckFailed
from pytest_wimmelgate.probes import alertmanager, pagerduty


@pytest.mark.check("GL-1")
def test_someone_is_on_call_now(wg_env: Environment, wg_run: RunContext, evidence: Evidence) -> None:
    oncall = pagerduty.oncall_now(
        wg_env.get("pagerduty.api_url", None),
        str(wg_env.get("pagerduty.schedule_id")),
        token=str(wg_env.get("pagerduty.token")),
        timeout=float(wg_env.get("pagerduty.timeout_s", 5)),
        now=wg_run.clock,
    )
    evidence.json("on call", oncall.evidence())


@pytest.mark.check("GL-2")
def test_newest_backup_is_younger_than_24h(
    backup_settings: backups.BackupSettings, wg_run: RunContext, wg_environ: dict[str, str], evidence: Evidence
) -> None:
    result = backups.run_newest_backup(backup_settings, wg_run.clock, wg_environ)
    evidence.json("newest backup", result.evidence())
    result.raise_for_failure()


@pytest.mark.check("GL-3")
def test_last_restore_test_is_younger_than_30_days(
    backup_settings: backups.BackupSettings, wg_run: RunContext, wg_environ: dict[str, str], evidence: Evidence
) -> None:
    result = backups.run_last_restore(backup_settings, wg_run.clock, wg_environ)
    evidence.json("last restore test", result.evidence())
    result.raise_for_failure()


@pytest.mark.check("GL-4")
def test_no_active_p1_or_p2_alert(wg_env: Environment, evidence: Evidence) -> None:
    alerts = alertmanager.active_alerts(
        str(wg_env.get("alertmanager.url")), timeout=float(wg_env.get("alertmanager.timeout_s", 5))
    )
    severities = tuple(wg_env.get("alertmanager.blocking_severities", ["P1", "P2"]))
    blocking = alertmanager.blocking_alerts(
        alerts, severities=severities, label=str(wg_env.get("alertmanager.severity_label", "severity"))
    )
    evidence.json("active alerts", [a.evidence() for a in alerts])
    if blocking:
        names = ", ".join(sorted({f"{a.name} ({a.labels.get('severity', '?')})" for a in blocking}))
        raise CheckFailed(Category.PRODUCT, f"{len(blocking)} active {'/'.join(severities)} alert(s): {names}")


@pytest.mark.check("GL-5")
def test_staging_gate_was_go_for_this_release(wg_env: Environment, wg_run: RunContext, evidence: Evidence) -> None:
    default_root = Path(wg_run.run_dir).parents[2]
    root = Path(str(wg_env.get("staging_evidence.release_dir", default_root)))
    result = release_evidence.check_staging_go(
        root, wg_run.version, wg_run.commit, environment=str(wg_env.get("staging_evidence.environment", "staging"))
    )
    evidence.json("staging gate evidence", result.evidence())
    result.raise_for_failure()


@pytest.mark.check("GL-6")
def test_go_no_go_approved_by_product_owner_and_release_captain(wg_run: RunContext, evidence: Evidence) -> None:
    result = approvals.check_go_no_go(approvals.parse_approvals(wg_run.approvals))
    evidence.json("approvals", result.evidence())
    result.raise_for_failure()
