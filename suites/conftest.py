"""Fixtures of the gate suites: fault providers, the process environment, backup settings.

The backend fixtures (`backend`, `smoke_session`, `smoke_flow`, `cleanup`, `run_tag`) come
from the plugin (`pytest_wimmelgate.contract.fixtures`), so a team's own checks get them too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.domain import backups
from pytest_wimmelgate.faults import FaultProvider, make_provider
from pytest_wimmelgate.faults.journal import FaultJournal
from pytest_wimmelgate.plugin import sandbox_info


@pytest.fixture
def fault_provider(wg_env: Environment, wg_run: RunContext, request: pytest.FixtureRequest) -> FaultProvider:
    """The environment's way of blocking a dependency on purpose; its faults go to the run's journal."""
    marker = request.node.get_closest_marker("check")
    journal = FaultJournal(Path(wg_run.run_dir), check=str(marker.args[0]) if marker and marker.args else None)
    return make_provider(
        wg_env.get("faults", {}), source=wg_env.source, sandbox_info=sandbox_info(request.config), journal=journal
    )


@pytest.fixture(scope="session")
def wg_environ(wg_env: Environment) -> dict[str, str]:
    """Process environment plus the values this run provides (the sandbox's endpoints)."""
    import os

    return {**os.environ, **wg_env.variables}


@pytest.fixture(scope="session")
def backup_settings(wg_env: Environment) -> backups.BackupSettings:
    """Where backups and restore-test records live (GL-2, GL-3, DR-1, DR-2)."""
    return backups.parse_backup_settings(wg_env.get("backups", None), wg_env.source)
