"""Metric gates: post-deploy SLOs (runbook 4), rollback triggers (3), stable after rollback.

Values come from Prometheus (``metrics.prometheus_url``) or, where none is configured,
from active sampling of the backend; the report says which. With ``--wg-watch 30m`` each
objective is re-measured every interval and prints one line per round; a post-deploy
objective stops at its first breach, and the first breach of a rollback trigger ends
every watch of the run at once. The run's own faults (SG-3 …) never count against it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.config.sections import RunSettings
from pytest_wimmelgate.contract.client import ContractClient
from pytest_wimmelgate.contract.sessions import Sessions
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.errors import CheckFailed, NotConfigured, WimmelgateError
from pytest_wimmelgate.metrics import gate as metric_gate
from pytest_wimmelgate.metrics import progress, watch
from pytest_wimmelgate.metrics.fault_window import RunFaults
from pytest_wimmelgate.metrics.sampled_requests import sampled_requests
from pytest_wimmelgate.metrics.shared import watch_once
from pytest_wimmelgate.metrics.stopping import WatchStop
from pytest_wimmelgate.metrics.watch import WatchResult

Watched = dict[str, dict[str, WatchResult]]


@pytest.fixture(scope="session")
def metric_settings(wg_settings: RunSettings, wg_env: Environment, wg_run: RunContext) -> metric_gate.MetricSettings:
    """The ``metrics`` section as parsed at start, with ``--wg-watch``/``--wg-watch-interval`` laid over it."""
    parsed = wg_settings.get("metrics")
    settings = (
        parsed if isinstance(parsed, metric_gate.MetricSettings) else metric_gate.parse_metrics(parsed, wg_env.source)
    )
    return metric_gate.apply_watch_options(settings, wg_run.watch, wg_run.watch_interval, "--wg-watch")


@pytest.fixture(scope="session")
def sampling_session(
    request: pytest.FixtureRequest, wg_env: Environment
) -> Iterator[tuple[ContractClient, dict[str, Any] | None, str]]:
    """The contract client sampling goes through, the smoke session's values (None: no session), and why not.

    The session is opened here and ended (logout) when the process's tests are done.
    """
    client: ContractClient = request.getfixturevalue("backend_session_client")
    account = client.account or _smoke_account(wg_env)
    if account is None:
        yield client, None, "no smoke_account configured"
        return
    if client.account is None:
        client = ContractClient(client.settings, client.run_id, client.secrets, account)
    sessions = Sessions(client)
    try:
        session = sessions.open()
    except WimmelgateError as error:
        yield client, None, f"no smoke session: {getattr(error, 'reason', None) or error}"
        return
    yield client, session.values, ""
    with contextlib.suppress(WimmelgateError):
        sessions.end(session)


def _smoke_account(env: Environment) -> Any:
    """Interim: the ``smoke_account`` section when the run did not parse it (metric checks do not declare
    it, as a Prometheus run needs none); None when absent or not resolvable."""
    from pytest_wimmelgate.config.sections.targets import parse_smoke_account

    try:
        return parse_smoke_account(env.get("smoke_account"), env.source) if env.has("smoke_account") else None
    except WimmelgateError:
        return None


@pytest.fixture(scope="session")
def metric_source(
    metric_settings: metric_gate.MetricSettings, wg_run: RunContext, request: pytest.FixtureRequest
) -> metric_gate.MetricSource:
    """Prometheus, or active sampling of the backend's contract when no Prometheus is configured."""
    faults = RunFaults.of_run(Path(wg_run.run_dir))
    if metric_settings.prometheus_url:
        return metric_gate.MetricSource(metric_settings, None, faults)
    client, session, why = request.getfixturevalue("sampling_session")
    return metric_gate.MetricSource(metric_settings, sampled_requests(client, session, no_session=why), faults)


@pytest.fixture(scope="session")
def watch_output(pytestconfig: pytest.Config, wg_secrets: SecretSet) -> Iterator[Callable[[str], None]]:
    """Writes live watch lines to the terminal, past pytest's capture (also on xdist workers)."""
    fd = progress.terminal_fd(pytestconfig)
    yield progress.FdLines(fd, wg_secrets.redact)
    os.close(fd)


@pytest.fixture(scope="session")
def watched(
    metric_settings: metric_gate.MetricSettings,
    metric_source: metric_gate.MetricSource,
    wg_run: RunContext,
    wg_secrets: SecretSet,
    watch_output: Callable[[str], None],
) -> Watched:
    """Each metric group measured once per run (shared by xdist workers), every objective in parallel."""
    run_dir = Path(wg_run.run_dir)
    stop = metric_source.stop = WatchStop(run_dir)
    settings = metric_settings.watch

    def measure(group: str) -> dict[str, WatchResult]:
        targets = metric_settings.group(group)
        observer = None
        if settings.duration_s > 0:
            labels = {oid: o.sli.label for oid, o in targets.items()}
            observer = progress.ProgressLines(watch_output, settings, labels)
        return metric_gate.watch_group(
            targets,
            metric_source.measure,
            settings,
            stop=stop,
            observer=observer,
            rollback_triggers=group == "triggers",
            announce=watch_output,
        )

    class Groups(dict[str, dict[str, WatchResult]]):
        def __missing__(self, group: str) -> dict[str, WatchResult]:
            self[group] = watch_once(run_dir, group, lambda: measure(group), redact=wg_secrets.redact)
            return self[group]

    return Groups()


def _judge(check_id: str, group: str, watched: Watched, source: metric_gate.MetricSource, evidence: Evidence) -> None:
    results = watched[group]
    if check_id not in results:
        raise NotConfigured(f"metrics.{group}.{check_id}")
    result = results[check_id]
    evidence.parameter("measured by", source.mode)
    evidence.json(f"{check_id} measurements", result.evidence())
    evidence.text(f"{check_id} table", result.table())
    try:
        watch.raise_for(result)
    except watch.WatchStopped as stopped:
        pytest.skip(str(stopped))


@pytest.mark.check("PD-1")
def test_p95_latency(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    _judge("PD-1", "objectives", watched, metric_source, evidence)


@pytest.mark.check("PD-2")
def test_5xx_rate(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    _judge("PD-2", "objectives", watched, metric_source, evidence)


@pytest.mark.check("PD-3")
def test_readiness_failures(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    _judge("PD-3", "objectives", watched, metric_source, evidence)


@pytest.mark.check("PD-4")
def test_push_delivery_success(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    _judge("PD-4", "objectives", watched, metric_source, evidence)


@pytest.mark.check("RT-1")
def test_trigger_5xx_rate(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    _judge("RT-1", "triggers", watched, metric_source, evidence)


@pytest.mark.check("RT-2")
def test_trigger_p95_latency(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    _judge("RT-2", "triggers", watched, metric_source, evidence)


@pytest.mark.check("RT-3")
def test_trigger_readiness_fluctuation(
    watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence
) -> None:
    _judge("RT-3", "triggers", watched, metric_source, evidence)


@pytest.mark.check("RT-4")
def test_trigger_push_failures(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    _judge("RT-4", "triggers", watched, metric_source, evidence)


@pytest.mark.check("RV-4")
def test_metrics_stable_after_rollback(
    watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence
) -> None:
    failures: list[CheckFailed] = []
    for check_id in sorted(watched["objectives"]):
        try:
            _judge(check_id, "objectives", watched, metric_source, evidence)
        except CheckFailed as error:
            failures.append(error)
    if failures:
        worst = failures[0]
        raise CheckFailed(worst.category, "after rollback: " + "; ".join(f.reason for f in failures))
