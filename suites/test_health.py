"""Health and readiness (runbook 2.2): SG-1, SG-2, and SG-3 with the database blocked.

Every request is a step of the backend contract (``backend`` section): the health
request, where version and commit are found, and the readiness request — a dedicated
endpoint or any request that touches the database.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_wimmelgate.config.sections.targets import FaultSettings
from pytest_wimmelgate.contract import checks
from pytest_wimmelgate.contract.client import ContractClient
from pytest_wimmelgate.contract.model import BackendSettings
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.faults import FaultProvider


@pytest.mark.check("SG-1")
def test_health_reports_the_expected_release(
    backend: ContractClient, backend_settings: BackendSettings, wg_run: RunContext, evidence: Evidence
) -> None:
    result = checks.release_reported(
        backend,
        version=backend_settings.expect_version or (wg_run.version if wg_run.version_expected else None),
        commit=backend_settings.expect_commit or (wg_run.commit if wg_run.commit_expected else None),
    )
    evidence.judge("release reported", result)


@pytest.mark.check("SG-2")
def test_readiness_is_200(backend: ContractClient, readiness_values: dict[str, Any], evidence: Evidence) -> None:
    result = checks.ready(backend, readiness_values)
    evidence.judge("readiness", result)


@pytest.mark.check("SG-3")
def test_readiness_follows_a_blocked_database(
    backend: ContractClient,
    fault_provider: FaultProvider,
    fault_settings: FaultSettings,
    readiness_values: dict[str, Any],
    evidence: Evidence,
) -> None:
    result = checks.follows_blocked_database(
        backend,
        fault_provider,
        readiness_values,
        block_bound_s=fault_settings.block_bound_s,
        recovery_bound_s=fault_settings.recovery_bound_s,
    )
    evidence.judge("readiness timeline", result)
