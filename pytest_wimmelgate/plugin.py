"""pytest-wimmelgate: pytest hooks and thin fixtures; the logic lives in plain modules.

Start-up happens in two steps. ``pytest_configure`` only registers markers and, for a
gate run, takes the user's ``--junitxml``/``--alluredir`` away from pytest and
allure-pytest (so nothing is written unredacted). ``pytest_sessionstart`` then does the
work, once tests will run: options, environment, sandbox, run folder. Commands that run no
test (``--help``, ``--markers``, ``--fixtures``, ``--co``, ``--setup-plan``) start nothing
and write nothing.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_wimmelgate.catalogue import checks as catalogue
from pytest_wimmelgate.catalogue.marks import CatalogueMarks
from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.config.sections import RunSettings
from pytest_wimmelgate.core import options, selection
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.core.session import USER_ALLURE_DIR, USER_JUNIT, WORKER_KEY, GateSession
from pytest_wimmelgate.core.startup import GateStart, PassiveState
from pytest_wimmelgate.errors import WimmelgateError

SESSION_NAME = "wimmelgate-session"
STATE_KEY = pytest.StashKey[PassiveState | GateSession]()
pytest_plugins = ["pytest_wimmelgate.contract.fixtures"]  # backend, smoke_session, cleanup, …


@pytest.hookimpl
def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_wimmelgate.core import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@pytest.hookimpl
def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


# tryfirst: the junitxml and allure plugins read their output paths in their own
# pytest_configure; a gate run must redirect them before that.
@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for gate in _activate_catalogue(config).gates:
        runbook = f" (runbook §{', §'.join(gate.sections)})" if gate.sections else ""
        config.addinivalue_line("markers", f"{gate.name}: gate - {gate.description}{runbook}")
    config.addinivalue_line(
        "markers",
        f"{catalogue.DESTRUCTIVE_MARKER}: blocks a dependency on purpose; runs only when -m selects its gate, "
        "never on a protected environment without --wg-allow-destructive",
    )
    config.addinivalue_line(
        "markers", f"{catalogue.CHECK_MARKER}(id): ties a test to its catalogue check id, e.g. check('SG-3')"
    )
    if runs_no_test(config):
        if config.option.collectonly or getattr(config.option, "setupplan", False):
            config.pluginmanager.register(CatalogueMarks(), "wimmelgate-catalogue-marks")
        return
    config.add_cleanup(lambda: _give_back_signals(config))  # added first (tryfirst): runs after pytest's own
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and WORKER_KEY in workerinput:
        from pytest_wimmelgate.core.allure_seam import detach_user_alluredir

        detach_user_alluredir(config)  # the controller copies its redacted results there
        _start(config, lambda: GateStart.for_worker(config, json.loads(workerinput[WORKER_KEY])))
        return
    markexpr = config.option.markexpr or ""
    if workerinput is None and selection.is_gate_run(markexpr, list(config.args), config.rootpath):
        options.check_rootdir_not_taken(config)
        _redirect_outputs(config)
        config.pluginmanager.register(GateStarter(), "wimmelgate-starter")
        return
    config.stash[STATE_KEY] = PassiveState(config)


def _activate_catalogue(config: pytest.Config) -> catalogue.Catalogue:
    """The built-in catalogue plus the project's catalogue file, active until this run ends."""
    from pytest_wimmelgate.catalogue import project

    spec, origin = options.resolve(config, "wg_catalogue", dict(os.environ))
    try:
        path = project.locate(
            spec, origin, invocation_dir=config.invocation_params.dir, inipath=config.inipath, rootdir=config.rootpath
        )
        found = project.project_catalogue(path)
    except WimmelgateError as error:
        raise pytest.UsageError(str(error)) from None
    config.add_cleanup(catalogue.activate(found))
    return found


def _give_back_signals(config: pytest.Config) -> None:
    """The signal handlers of a run that was interrupted, given back once pytest has cleaned up."""
    signals = config.pluginmanager.get_plugin("wimmelgate-signals")
    if signals is not None:
        signals.restore()


def runs_no_test(config: pytest.Config) -> bool:
    """``--help``, ``--version``, ``--markers``, ``--fixtures``, ``--fixtures-per-test``, ``--co``, ``--setup-plan``."""
    option = config.option
    return any(
        getattr(option, name, False)
        for name in ("help", "version", "markers", "showfixtures", "show_fixtures_per_test", "collectonly", "setupplan")
    )


def _redirect_outputs(config: pytest.Config) -> None:
    """Point junitxml at a scratch file and keep the user's paths for redacted copies at the end."""
    from pytest_wimmelgate.core.allure_seam import detach_user_alluredir

    user_dir = detach_user_alluredir(config)
    if user_dir:
        config.stash[USER_ALLURE_DIR] = os.path.abspath(user_dir)
    if config.option.xmlpath:
        config.stash[USER_JUNIT] = os.path.abspath(config.option.xmlpath)
    # junitxml creates the file's folder only when it writes, at the end of the session
    config.option.xmlpath = str(Path(tempfile.gettempdir()) / f"wimmelgate-junit-{uuid.uuid4().hex}" / "junit.xml")


class GateStarter:
    """Starts a gate run on the controller once tests will run (before xdist starts its workers)."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if runs_no_test(session.config):  # --fixtures runs a session that runs no test
            return
        _start(session.config, lambda: GateStart.for_controller(session.config))


def _start(config: pytest.Config, make: Any) -> None:
    try:
        state = make()
    except WimmelgateError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[STATE_KEY] = state
    config.pluginmanager.register(state, SESSION_NAME)
    config.add_cleanup(lambda: config.pluginmanager.unregister(state, SESSION_NAME))


def _state(config: pytest.Config) -> PassiveState | GateSession:
    state = config.stash.get(STATE_KEY, None)
    if state is None:
        raise pytest.UsageError("wimmelgate is not configured for this run")
    return state


@pytest.fixture(scope="session")
def wg_env(pytestconfig: pytest.Config) -> Environment:
    """The selected environment file (for a team's own checks; the gate suites use ``wg_settings``)."""
    return _state(pytestconfig).env


@pytest.fixture(scope="session")
def wg_settings(pytestconfig: pytest.Config) -> RunSettings:
    """The typed settings of this run: each environment section its checks read, parsed once at start."""
    return _state(pytestconfig).settings


@pytest.fixture(scope="session")
def wg_run(pytestconfig: pytest.Config) -> RunContext:
    """Run id, version, commit, tester, clock and approvals of this gate run."""
    state = _state(pytestconfig)
    if not isinstance(state, GateSession):
        raise pytest.UsageError("wg_run needs a gate run: select a gate with -m <gate>")
    return state.context


@pytest.fixture(scope="session")
def wg_secrets(pytestconfig: pytest.Config) -> SecretSet:
    """The secret values this run redacts from every output; `SecretSet.add` adds captured ones."""
    return _state(pytestconfig).secrets


@pytest.fixture
def evidence(wg_secrets: SecretSet) -> Evidence:
    """Attach measured values, queries and raw answers to the check's Allure result."""
    return Evidence(wg_secrets)


@pytest.fixture(scope="session")
def wg_variables(pytestconfig: pytest.Config) -> dict[str, str]:
    """The target's variables from ``--wg-env-file`` (dotenv); empty without one (then the checks
    read the process environment, ``wg_environ``)."""
    return dict(_state(pytestconfig).target_variables)


@pytest.fixture(scope="session")
def wg_environ(wg_env: Environment) -> dict[str, str]:
    """Process environment (read once at start) plus the values this run provides (the sandbox's endpoints)."""
    return wg_env.values


@pytest.fixture
def wg_tmp(tmp_path: Path) -> Iterator[Path]:
    """A scratch folder for one check."""
    yield tmp_path


def sandbox_info(config: pytest.Config) -> dict[str, Any] | None:
    """The running sandbox's description (for the sandbox fault provider), if any."""
    state = _state(config)
    raw = state.sandbox_variables.get("SANDBOX_INFO") or os.environ.get("SANDBOX_INFO")
    return json.loads(raw) if raw else None
