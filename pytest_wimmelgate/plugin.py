"""pytest-wimmelgate: pytest hooks and thin fixtures; the logic lives in plain modules."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_wimmelgate.catalogue import checks as catalogue
from pytest_wimmelgate.catalogue.marks import CatalogueMarks
from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.core import options
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.core.session import WORKER_KEY, GateSession
from pytest_wimmelgate.core.startup import GateStart, PassiveState
from pytest_wimmelgate.errors import WimmelgateError

SESSION_NAME = "wimmelgate-session"
STATE_KEY = pytest.StashKey[PassiveState | GateSession]()


@pytest.hookimpl
def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for gate in catalogue.GATES:
        config.addinivalue_line(
            "markers", f"{gate.name}: gate - {gate.description} (runbook §{', §'.join(gate.sections)})"
        )
    config.addinivalue_line(
        "markers",
        f"{catalogue.DESTRUCTIVE_MARKER}: blocks a dependency on purpose; never runs on a "
        "protected environment without --wg-allow-destructive",
    )
    config.addinivalue_line(
        "markers", f"{catalogue.CHECK_MARKER}(id): ties a test to its catalogue check id, e.g. check('SG-3')"
    )
    if config.option.help:
        return
    if config.option.collectonly:
        config.pluginmanager.register(CatalogueMarks(), "wimmelgate-catalogue-marks")
        return
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        options.check_rootdir_not_taken(config)
    state: PassiveState | GateSession
    try:
        if workerinput is not None and WORKER_KEY in workerinput:
            state = GateStart.for_worker(config, json.loads(workerinput[WORKER_KEY]))
        else:
            state = GateStart.for_controller(config)
    except WimmelgateError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[STATE_KEY] = state
    if isinstance(state, GateSession):
        config.pluginmanager.register(state, SESSION_NAME)
        config.add_cleanup(lambda: config.pluginmanager.unregister(state, SESSION_NAME))


def _state(config: pytest.Config) -> PassiveState | GateSession:
    state = config.stash.get(STATE_KEY, None)
    if state is None:
        raise pytest.UsageError("wimmelgate is not configured for this run")
    return state


@pytest.fixture(scope="session")
def wg_env(pytestconfig: pytest.Config) -> Environment:
    """The selected environment file, resolved on access (`Environment.get`)."""
    return _state(pytestconfig).env


@pytest.fixture(scope="session")
def wg_run(pytestconfig: pytest.Config) -> RunContext:
    """Run id, version, commit, tester, clock and approvals of this gate run."""
    state = _state(pytestconfig)
    if not isinstance(state, GateSession):
        raise pytest.UsageError("wg_run needs a gate run: select a gate with -m <gate>")
    return state.context


@pytest.fixture(scope="session")
def wg_secrets(pytestconfig: pytest.Config) -> SecretSet:
    """The secret values this run redacts from every output."""
    return _state(pytestconfig).secrets


@pytest.fixture
def evidence(wg_secrets: SecretSet) -> Evidence:
    """Attach measured values, queries and raw answers to the check's Allure result."""
    return Evidence(wg_secrets)


@pytest.fixture(scope="session")
def wg_variables(pytestconfig: pytest.Config) -> dict[str, str]:
    """The target's variables: ``--wg-env-file`` (dotenv) or the process environment."""
    return dict(_state(pytestconfig).target_variables)


@pytest.fixture
def wg_tmp(tmp_path: Path) -> Iterator[Path]:
    """A scratch folder for one check."""
    yield tmp_path


def sandbox_info(config: pytest.Config) -> dict[str, Any] | None:
    """The running sandbox's description (for the sandbox fault provider), if any."""
    state = _state(config)
    raw = state.sandbox_variables.get("SANDBOX_INFO") or os.environ.get("SANDBOX_INFO")
    return json.loads(raw) if raw else None
