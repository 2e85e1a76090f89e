"""Fixtures of the gate suites: the backend client, the smoke account, fault providers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.contract.client import BackendClient
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.domain import backups
from pytest_wimmelgate.faults import FaultProvider, make_provider
from pytest_wimmelgate.faults.journal import FaultJournal
from pytest_wimmelgate.plugin import sandbox_info


@pytest.fixture(scope="session")
def backend(wg_env: Environment, wg_run: RunContext) -> BackendClient:
    """The backend under test; every request carries this run's id."""
    return BackendClient(
        base_url=str(wg_env.get("backend.base_url")),
        run_id=wg_run.run_id,
        timeout_s=float(wg_env.get("backend.timeout_s", 5)),
        paths=wg_env.get("backend.paths", {}),
    )


@pytest.fixture(scope="session")
def smoke_token(backend: BackendClient, wg_env: Environment) -> str:
    """A token of the dedicated smoke test account."""
    return backend.login(str(wg_env.get("smoke_account.username")), str(wg_env.get("smoke_account.password")))


@pytest.fixture
def run_tag(wg_run: RunContext) -> str:
    """The tag every record a smoke check creates carries: the run id."""
    return wg_run.run_id


@pytest.fixture
def cleanup() -> Iterator[Callable[[Callable[[], None]], None]]:
    """Register deletions; they run in teardown, also after a failure, newest first."""
    undo: list[Callable[[], None]] = []
    yield undo.append
    errors = []
    for action in reversed(undo):
        try:
            action()
        except Exception as error:
            errors.append(error)
    if errors:
        raise errors[0]


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
