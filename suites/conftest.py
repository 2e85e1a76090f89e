"""Fixtures of the gate suites: typed settings shared by several suites, the fault provider,
the run's approvals and the target's variables.

Every suite test reads the same way: typed settings (``wg_settings``, parsed once at start)
→ a domain function returning a `CheckResult` → ``evidence.judge`` (attach its evidence,
raise its verdict). The backend fixtures (`backend`, `smoke_session`, `smoke_flow`,
`cleanup`, `run_tag`) come from the plugin (`pytest_wimmelgate.contract.fixtures`), so a
team's own checks get them too; so does ``wg_environ``, the run's interpolation values.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_wimmelgate.config.sections import RunSettings
from pytest_wimmelgate.config.sections.targets import FaultSettings
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.domain import approvals, backups, migrations
from pytest_wimmelgate.faults import FaultProvider, make_provider
from pytest_wimmelgate.faults.journal import FaultJournal
from pytest_wimmelgate.plugin import sandbox_info


@pytest.fixture(scope="session")
def fault_settings(wg_settings: RunSettings) -> FaultSettings:
    """How destructive checks block a dependency and their bounds (``faults``; the sandbox's by default)."""
    if wg_settings.has("faults") or "faults" in wg_settings.absent:
        settings: FaultSettings = wg_settings.get("faults")
        return settings
    return FaultSettings()


@pytest.fixture
def fault_provider(
    fault_settings: FaultSettings, wg_settings: RunSettings, wg_run: RunContext, request: pytest.FixtureRequest
) -> FaultProvider:
    """The environment's way of blocking a dependency on purpose; its faults go to the run's journal."""
    marker = request.node.get_closest_marker("check")
    journal = FaultJournal(Path(wg_run.run_dir), check=str(marker.args[0]) if marker and marker.args else None)
    return make_provider(
        fault_settings.provider_settings(),
        source=wg_settings.source,
        sandbox_info=sandbox_info(request.config),
        journal=journal,
    )


@pytest.fixture(scope="session")
def backup_settings(wg_settings: RunSettings) -> backups.BackupSettings:
    """Where backups and restore-test records live (GL-2, GL-3, DR-1, DR-2)."""
    settings: backups.BackupSettings = wg_settings.get("backups")
    return settings


@pytest.fixture(scope="session")
def migration_settings(wg_settings: RunSettings) -> migrations.MigrationSettings:
    """The migration files and the applied-migrations record (PF-3, RV-3)."""
    settings: migrations.MigrationSettings = wg_settings.get("migrations")
    return settings


@pytest.fixture(scope="session")
def run_approvals(wg_run: RunContext) -> tuple[approvals.Approval, ...]:
    """The approvals given with ``--wg-approval ROLE:NAME`` (checked at start)."""
    return approvals.parse_approvals(wg_run.approvals)


@pytest.fixture(scope="session")
def target_variables(wg_variables: dict[str, str], wg_environ: dict[str, str]) -> dict[str, str]:
    """The target's variables the EV checks judge: ``--wg-env-file``, else the process environment
    (as read at start, with the values this run provides)."""
    return wg_variables or wg_environ
