"""Rollback validated (runbook 3): N-1 serves and is ready, its artifact is available,
applied migrations match N-1. Run it with ``--wg-version <N-1>``. PF-3, GL-3 and RV-4
belong to this gate too (see test_preflight, test_golive, test_metrics)."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_wimmelgate.config.sections import RunSettings
from pytest_wimmelgate.config.sections.release import ArtifactSettings
from pytest_wimmelgate.contract import checks
from pytest_wimmelgate.contract.client import ContractClient
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.domain import migrations, rollback


@pytest.fixture(scope="session")
def artifacts(wg_settings: RunSettings) -> ArtifactSettings:
    """Where release artifacts live: a URL template or an S3 store (``artifacts``)."""
    settings: ArtifactSettings = wg_settings.get("artifacts")
    return settings


@pytest.mark.check("RV-1")
def test_serving_version_is_n_minus_1_and_ready(
    backend: ContractClient, readiness_values: dict[str, Any], wg_run: RunContext, evidence: Evidence
) -> None:
    result = checks.serving_previous_release(backend, readiness_values, wg_run)
    evidence.judge("serving", result)


@pytest.mark.check("RV-2")
def test_artifact_n_minus_1_is_available(
    artifacts: ArtifactSettings, wg_run: RunContext, wg_environ: dict[str, str], evidence: Evidence
) -> None:
    result = rollback.check_artifact_available(artifacts, wg_run, wg_environ)
    evidence.judge("artifact", result)


@pytest.mark.check("RV-3")
def test_applied_migrations_match_n_minus_1(
    migration_settings: migrations.MigrationSettings,
    wg_environ: dict[str, str],
    pytestconfig: pytest.Config,
    evidence: Evidence,
) -> None:
    result = migrations.run_applied_match(migration_settings, wg_environ, pytestconfig.rootpath)
    evidence.judge("applied migrations", result)
