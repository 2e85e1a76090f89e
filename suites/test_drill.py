"""Emergency drills (runbook 8): backups, restore tests, DB failover, S3 blocked.

DR-3 and DR-4 are destructive: they never run on a protected environment without
``--wg-allow-destructive``. PF-4 (Statuspage templates) belongs to this gate too.
"""

from __future__ import annotations

import pytest

from pytest_wimmelgate.config.sections.targets import FaultSettings
from pytest_wimmelgate.contract import checks
from pytest_wimmelgate.contract.cleanup import Cleanup
from pytest_wimmelgate.contract.client import ContractClient, Flow
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.domain import backups
from pytest_wimmelgate.faults import FaultProvider


@pytest.mark.check("DR-1")
def test_a_backup_for_each_of_the_last_7_days(
    backup_settings: backups.BackupSettings, wg_run: RunContext, wg_environ: dict[str, str], evidence: Evidence
) -> None:
    result = backups.run_daily_backups(backup_settings, wg_run.clock, wg_environ)
    evidence.judge("daily backups", result)


@pytest.mark.check("DR-2")
def test_weekly_restore_test_documented(
    backup_settings: backups.BackupSettings, wg_run: RunContext, wg_environ: dict[str, str], evidence: Evidence
) -> None:
    result = backups.run_weekly_restore(backup_settings, wg_run.clock, wg_environ)
    evidence.judge("restore tests", result)


@pytest.mark.check("DR-3")
def test_database_failover_recovers(
    backend: ContractClient,
    smoke_flow: Flow,
    fault_provider: FaultProvider,
    fault_settings: FaultSettings,
    run_tag: str,
    cleanup: Cleanup,
    evidence: Evidence,
) -> None:
    result = checks.database_failover(
        backend, smoke_flow, fault_provider, cleanup, bound_s=fault_settings.recovery_bound_s, run_tag=run_tag
    )
    evidence.judge("failover timeline", result)


@pytest.mark.check("DR-4")
def test_uploads_fall_back_to_local_while_s3_is_blocked(
    backend: ContractClient,
    smoke_flow: Flow,
    fault_provider: FaultProvider,
    fault_settings: FaultSettings,
    run_tag: str,
    cleanup: Cleanup,
    evidence: Evidence,
) -> None:
    result = checks.storage_fallback(
        backend, smoke_flow, fault_provider, cleanup, bound_s=fault_settings.recovery_bound_s, run_tag=run_tag
    )
    evidence.judge("storage drill", result)
