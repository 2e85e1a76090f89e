"""Health and readiness (runbook 2.2): SG-1, SG-2, and SG-3 with the database blocked.

Every request is a step of the backend contract (``backend`` section): the health
request, where version and commit are found, and the readiness request — a dedicated
endpoint or any request that touches the database.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.contract import health
from pytest_wimmelgate.contract.client import ContractClient
from pytest_wimmelgate.contract.model import BackendSettings
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.faults import FaultProvider


@pytest.mark.check("SG-1")
def test_health_reports_the_expected_release(
    backend: ContractClient, backend_settings: BackendSettings, wg_run: RunContext, evidence: Evidence
) -> None:
    answer = health.check_health(backend)
    found = health.release(backend, answer)
    evidence.json("release reported", {"request": found.label, "version": found.version, "commit": found.commit})
    health.require_release(
        found,
        backend,
        version=backend_settings.expect_version or (wg_run.version if wg_run.version_expected else None),
        commit=backend_settings.expect_commit or (wg_run.commit if wg_run.commit_expected else None),
    )


@pytest.mark.check("SG-2")
def test_readiness_is_200(backend: ContractClient, readiness_values: dict[str, Any], evidence: Evidence) -> None:
    answer = health.readiness(backend, readiness_values)
    evidence.json("readiness", answer.evidence())
    health.require_ready(answer, backend)


@pytest.mark.check("SG-3")
def test_readiness_follows_a_blocked_database(
    backend: ContractClient,
    fault_provider: FaultProvider,
    wg_env: Environment,
    readiness_values: dict[str, Any],
    evidence: Evidence,
) -> None:
    timeline = health.follows_blocked_database(
        backend,
        fault_provider,
        block_bound_s=float(wg_env.get("faults.block_bound_s", 10)),
        recovery_bound_s=float(wg_env.get("faults.recovery_bound_s", 30)),
        values=readiness_values,
    )
    evidence.json("readiness timeline", timeline)
    evidence.parameter("recovery time (s)", timeline["recovery_s"])
