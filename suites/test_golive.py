"""Go-live decision (runbook 2.3, 2.4, 5): GL-1 … GL-6."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_wimmelgate.config.sections import RunSettings
from pytest_wimmelgate.config.sections.operations import AlertmanagerSettings, PagerDutySettings
from pytest_wimmelgate.config.sections.release import StagingEvidenceSettings
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.domain import approvals, backups, operations, release_evidence


@pytest.fixture(scope="session")
def pagerduty(wg_settings: RunSettings) -> PagerDutySettings:
    """The PagerDuty API and the on-call schedule (``pagerduty``)."""
    settings: PagerDutySettings = wg_settings.get("pagerduty")
    return settings


@pytest.fixture(scope="session")
def alertmanager(wg_settings: RunSettings) -> AlertmanagerSettings:
    """The Alertmanager API and the blocking severities (``alertmanager``)."""
    settings: AlertmanagerSettings = wg_settings.get("alertmanager")
    return settings


@pytest.fixture(scope="session")
def staging_evidence(wg_settings: RunSettings) -> StagingEvidenceSettings:
    """Where the staging gate's run folders are (``staging_evidence``; this release folder by default)."""
    if wg_settings.has("staging_evidence") or "staging_evidence" in wg_settings.absent:
        settings: StagingEvidenceSettings = wg_settings.get("staging_evidence")
        return settings
    return StagingEvidenceSettings()


@pytest.mark.check("GL-1")
def test_someone_is_on_call_now(pagerduty: PagerDutySettings, wg_run: RunContext, evidence: Evidence) -> None:
    result = operations.check_on_call(pagerduty, wg_run.clock)
    evidence.judge("on call", result)


@pytest.mark.check("GL-2")
def test_newest_backup_is_younger_than_24h(
    backup_settings: backups.BackupSettings, wg_run: RunContext, wg_environ: dict[str, str], evidence: Evidence
) -> None:
    result = backups.run_newest_backup(backup_settings, wg_run.clock, wg_environ)
    evidence.judge("newest backup", result)


@pytest.mark.check("GL-3")
def test_last_restore_test_is_younger_than_30_days(
    backup_settings: backups.BackupSettings, wg_run: RunContext, wg_environ: dict[str, str], evidence: Evidence
) -> None:
    result = backups.run_last_restore(backup_settings, wg_run.clock, wg_environ)
    evidence.judge("last restore test", result)


@pytest.mark.check("GL-4")
def test_no_active_p1_or_p2_alert(alertmanager: AlertmanagerSettings, evidence: Evidence) -> None:
    result = operations.check_no_blocking_alert(alertmanager)
    evidence.judge("active alerts", result)


@pytest.mark.check("GL-5")
def test_staging_gate_was_go_for_this_release(
    staging_evidence: StagingEvidenceSettings, wg_run: RunContext, evidence: Evidence
) -> None:
    root = Path(staging_evidence.release_dir) if staging_evidence.release_dir else Path(wg_run.run_dir).parents[2]
    result = release_evidence.check_staging_go(root, wg_run.version, wg_run.commit, staging_evidence.environment)
    evidence.judge("staging gate evidence", result)


@pytest.mark.check("GL-6")
def test_go_no_go_approved_by_product_owner_and_release_captain(
    run_approvals: tuple[approvals.Approval, ...], evidence: Evidence
) -> None:
    result = approvals.check_go_no_go(run_approvals)
    evidence.judge("approvals", result)
