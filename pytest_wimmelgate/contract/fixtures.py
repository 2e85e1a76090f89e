"""Fixtures of the backend checks, for the shipped suites and a team's own checks alike.

Registered from `pytest_wimmelgate.plugin` (``pytest_plugins``). `backend` is this check's
`ContractClient`: its requests and answers are attached to the check's Allure result
(redacted) when the check ends. `smoke_session` is the smoke account's session of this
test process, ended when its tests are done; `cleanup` undoes what a check created, with
retries while a dependency recovers. What could not be removed becomes a run warning
(the ``pytest_wimmelgate_run_warnings`` hook); at the end of a gate run that used the smoke account, everything
tagged with the run id is swept (`ContractRun.pytest_sessionfinish`).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest

from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.config.sections import RunSettings
from pytest_wimmelgate.config.sections.targets import SmokeAccount
from pytest_wimmelgate.contract.cleanup import Cleanup, Leftover
from pytest_wimmelgate.contract.client import ContractClient, Flow
from pytest_wimmelgate.contract.model import BackendSettings
from pytest_wimmelgate.contract.sessions import Session, Sessions
from pytest_wimmelgate.contract.transcript import Transcript
from pytest_wimmelgate.core.run import RunContext

WARNING_PROPERTY = "wimmelgate-warning"
NOTE_PROPERTY = "wimmelgate-note"
SMOKE_PROPERTY = "wimmelgate-smoke-session"
PLUGIN_NAME = "wimmelgate-contract"
TRANSCRIPTS_KEY = pytest.StashKey[list[tuple[str, Transcript, SecretSet]]]()
_CURRENT_ITEM: contextvars.ContextVar[pytest.Item | None] = contextvars.ContextVar("wimmelgate_item", default=None)


def smoke_account(settings: RunSettings) -> SmokeAccount | None:
    """The dedicated test account, when the environment names one."""
    account: SmokeAccount | None = settings.get("smoke_account") if settings.has("smoke_account") else None
    return account


def warn(item: pytest.Item | None, text: str) -> None:
    """A run warning (summary and report); carried by the item's reports, also from xdist workers."""
    target = item or _CURRENT_ITEM.get()
    if target is not None:
        target.user_properties.append((WARNING_PROPERTY, text))


@pytest.fixture(scope="session")
def backend_settings(wg_settings: RunSettings) -> BackendSettings:
    """The backend under test and its contract (the environment's ``backend`` section over the default)."""
    settings: BackendSettings = wg_settings.get("backend")
    return settings


@pytest.fixture(scope="session")
def backend_session_client(
    backend_settings: BackendSettings, wg_settings: RunSettings, wg_run: RunContext, wg_secrets: SecretSet
) -> ContractClient:
    """The client of this test process; checks use `backend`, which records their own transcript."""
    return ContractClient(backend_settings, wg_run.run_id, wg_secrets, smoke_account(wg_settings))


@pytest.fixture
def backend(
    backend_session_client: ContractClient, request: pytest.FixtureRequest, wg_secrets: SecretSet
) -> ContractClient:
    """The backend under test for this check; its requests and answers become the check's evidence."""
    transcript = Transcript()
    request.node.stash.setdefault(TRANSCRIPTS_KEY, []).append(("requests and answers", transcript, wg_secrets))
    return backend_session_client.for_check(transcript)


@pytest.fixture(scope="session")
def smoke_sessions(backend_session_client: ContractClient) -> Sessions:
    """Signup (when the contract has it), login and logout of the smoke account."""
    return Sessions(backend_session_client)


@pytest.fixture(scope="session")
def smoke_session(
    smoke_sessions: Sessions, backend_settings: BackendSettings, request: pytest.FixtureRequest
) -> Iterator[Session]:
    """The smoke account's session of this test process, ended (logout) when its tests are done."""
    session = smoke_sessions.open()
    item = _CURRENT_ITEM.get()
    if item is not None:
        item.user_properties.append((SMOKE_PROPERTY, "1"))
    yield session
    cleanup = Cleanup(backend_settings.cleanup)
    cleanup.add("session of the smoke account", lambda: smoke_sessions.end(session), kind="session")
    for leftover in cleanup.run():
        warn(None, leftover.warning())


@pytest.fixture
def smoke_flow(backend: ContractClient, smoke_sessions: Sessions, smoke_session: Session) -> Flow:
    """A flow of contract steps for this check that carries the smoke session's token."""
    return smoke_sessions.flow(smoke_session, backend)


@pytest.fixture
def readiness_values(backend_settings: BackendSettings, request: pytest.FixtureRequest) -> dict[str, Any]:
    """What the readiness request needs: the smoke session's token when it is a session step, else nothing."""
    step = backend_settings.contract.step(backend_settings.readiness.request)
    return dict(request.getfixturevalue("smoke_session").values) if step.session else {}


@pytest.fixture
def run_tag(wg_run: RunContext) -> str:
    """The tag every record a check creates carries: the run id."""
    return wg_run.run_id


@pytest.fixture
def cleanup(backend_settings: BackendSettings, request: pytest.FixtureRequest) -> Iterator[Cleanup]:
    """Undo what the check created at teardown, also after a failure; leftovers are run warnings."""
    undo = Cleanup(backend_settings.cleanup)
    yield undo
    for leftover in undo.run():
        warn(request.node, leftover.warning())


@pytest.fixture
def check_note(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record what a passed check could not verify; the summary and report show it."""

    def note(text: str) -> None:
        import allure

        request.node.user_properties.append((NOTE_PROPERTY, text))
        allure.dynamic.description(text)  # type: ignore[no-untyped-call]

    return note


class ContractRun:
    """Collects run warnings and notes from every report; sweeps the run's records at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.warnings: list[str] = []
        self.notes: list[str] = []
        self.smoke_used = False
        self.sweep_lines: list[str] = []

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        token = _CURRENT_ITEM.set(item)
        try:
            return (yield)
        finally:
            _CURRENT_ITEM.reset(token)
            _attach_transcripts(item)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, Any, Any]:
        token = _CURRENT_ITEM.set(item)
        try:
            return (yield)
        finally:
            _CURRENT_ITEM.reset(token)
            _attach_transcripts(item, "teardown")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, Any, Any]:
        token = _CURRENT_ITEM.set(item)
        try:
            return (yield)
        finally:
            _CURRENT_ITEM.reset(token)

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if hasattr(self.config, "workerinput"):
            return
        for key, value in report.user_properties:
            if key == WARNING_PROPERTY and value not in self.warnings:
                self.warnings.append(str(value))
            elif key == NOTE_PROPERTY and value not in self.notes:
                self.notes.append(f"{_check_id(report)}: {value}")
            elif key == SMOKE_PROPERTY:
                self.smoke_used = True

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(self.config, "workerinput") or not self.smoke_used:
            return
        from pytest_wimmelgate.contract.runsweep import sweep_run

        lines, leftovers = sweep_run(self.config)
        self.sweep_lines = lines
        self.warnings.extend(leftover.warning() for leftover in leftovers)

    @pytest.hookimpl
    def pytest_wimmelgate_run_warnings(self, config: pytest.Config) -> list[str]:
        return list(self.warnings)

    @pytest.hookimpl
    def pytest_wimmelgate_run_notes(self, config: pytest.Config) -> list[str]:
        return list(self.notes)

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from pytest_wimmelgate.plugin import STATE_KEY

        if self.sweep_lines:  # the warnings are in the verdict table
            secrets = getattr(self.config.stash.get(STATE_KEY, None), "secrets", None)
            line = f"wimmelgate cleanup sweep: {'; '.join(self.sweep_lines)}"
            terminalreporter.line(secrets.redact(line) if isinstance(secrets, SecretSet) else line)


@pytest.hookimpl
def pytest_configure(config: pytest.Config) -> None:
    if config.option.help or config.option.collectonly:
        return
    plugin = ContractRun(config)
    config.pluginmanager.register(plugin, PLUGIN_NAME)
    config.add_cleanup(lambda: config.pluginmanager.unregister(plugin, PLUGIN_NAME))


def _attach_transcripts(item: pytest.Item, phase: str = "") -> None:
    """Attach each transcript's exchanges not attached yet (the call's, then the teardown's)."""
    found = item.stash.get(TRANSCRIPTS_KEY, [])
    if not found:
        return
    from pytest_wimmelgate.core.evidence import Evidence

    for name, transcript, secrets in found:
        fresh = transcript.take()
        if fresh["requests"]:
            Evidence(secrets).json(f"{name} ({phase})" if phase else name, fresh)


def _check_id(report: pytest.TestReport) -> str:
    import json

    for key, value in report.user_properties:
        if key == "wimmelgate":
            try:
                return str(json.loads(str(value)).get("id") or report.nodeid)
            except ValueError:
                break
    return report.nodeid


__all__ = ["Leftover", "warn"]
