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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.config.sections import RunSettings
from pytest_wimmelgate.contract.client import ContractClient
from pytest_wimmelgate.contract.sessions import Sessions
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.domain.result import Attachment
from pytest_wimmelgate.errors import CheckFailed, NotConfigured, WimmelgateError
from pytest_wimmelgate.metrics import gate as metric_gate
from pytest_wimmelgate.metrics import progress, watch
from pytest_wimmelgate.metrics.fault_window import RunFaults
from pytest_wimmelgate.metrics.sampled_requests import sampled_requests
from pytest_wimmelgate.metrics.watch import WatchResult
from pytest_wimmelgate.metrics.shared_watch import watch_once
from pytest_wimmelgate.metrics.watch_stop import WatchStop

Watched = dict[str, dict[str, WatchResult]]


@pytest.fixture(scope="session")
def metric_settings(wg_settings: RunSettings, wg_run: RunContext) -> metric_gate.MetricSettings:
    """The ``metrics`` section as parsed at start, with ``--wg-watch``/``--wg-watch-interval`` laid over it."""
    parsed: metric_gate.MetricSettings = wg_settings.get("metrics")
    return metric_gate.apply_watch_options(parsed, wg_run.watch, wg_run.watch_interval, "--wg-watch")


@pytest.fixture(scope="session")
def sampling_session(request: pytest.FixtureRequest) -> Iterator[tuple[ContractClient, dict[str, Any] | None, str]]:
    """The contract client sampling goes through, the smoke session's values (None: no session), and why not.

    The session is opened here and ended (logout) when the process's tests are done.
    """
    client: ContractClient = request.getfixturevalue("backend_session_client")
    if client.account is None:
        yield client, None, "no smoke_account configured"
        return
    sessions = Sessions(client)
    try:
        session = sessions.open()
    except WimmelgateError as error:
        yield client, None, f"no smoke session: {getattr(error, 'reason', None) or error}"
        return
    yield client, session.values, ""
    with contextlib.suppress(WimmelgateError):
        sessions.end(session)


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


@dataclass(frozen=True)
class MetricVerdict:
    """The watch results of one metric check as ``evidence.judge`` reads them.

    Its evidence is the measurements (of each objective, for a check over several); a
    watch ended from outside (`watch.WatchStopped`) neither passes nor fails: the check skips.
    """

    check_id: str
    results: Mapping[str, WatchResult]
    mode: str
    note: str | None = None

    @property
    def parameters(self) -> dict[str, Any]:
        return {"measured by": self.mode}

    @property
    def attachments(self) -> tuple[Attachment, ...]:
        return tuple(Attachment(f"{oid} table", r.table()) for oid, r in self.results.items())

    def evidence(self) -> dict[str, Any]:
        if list(self.results) == [self.check_id]:
            return self.results[self.check_id].evidence()
        return {oid: r.evidence() for oid, r in self.results.items()}

    def raise_for_failure(self) -> None:
        __tracebackhide__ = True
        failures: list[CheckFailed] = []
        for result in self.results.values():
            try:
                watch.raise_for(result)
            except watch.WatchStopped as stopped:
                pytest.skip(str(stopped))
            except CheckFailed as error:
                failures.append(error)
        if len(failures) == 1 and list(self.results) == [self.check_id]:
            raise failures[0]
        if failures:
            raise CheckFailed(failures[0].category, "after rollback: " + "; ".join(f.reason for f in failures))


def measured_by(
    check_id: str,
    group: str,
    watched: Watched,
    source: metric_gate.MetricSource,
    objectives: tuple[str, ...] | None = None,
) -> MetricVerdict:
    """The watch results of ``objectives`` (default: the check's own) of ``group``."""
    results = watched[group]
    wanted = (check_id,) if objectives is None else objectives
    if not wanted:
        raise NotConfigured(f"metrics.{group}")
    for objective in wanted:
        if objective not in results:
            raise NotConfigured(f"metrics.{group}.{objective}")
    return MetricVerdict(check_id, {oid: results[oid] for oid in wanted}, source.mode)


@pytest.mark.check("PD-1")
def test_p95_latency(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    evidence.judge("PD-1 measurements", measured_by("PD-1", "objectives", watched, metric_source))


@pytest.mark.check("PD-2")
def test_5xx_rate(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    evidence.judge("PD-2 measurements", measured_by("PD-2", "objectives", watched, metric_source))


@pytest.mark.check("PD-3")
def test_readiness_failures(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    evidence.judge("PD-3 measurements", measured_by("PD-3", "objectives", watched, metric_source))


@pytest.mark.check("PD-4")
def test_push_delivery_success(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    evidence.judge("PD-4 measurements", measured_by("PD-4", "objectives", watched, metric_source))


@pytest.mark.check("RT-1")
def test_trigger_5xx_rate(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    evidence.judge("RT-1 measurements", measured_by("RT-1", "triggers", watched, metric_source))


@pytest.mark.check("RT-2")
def test_trigger_p95_latency(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    evidence.judge("RT-2 measurements", measured_by("RT-2", "triggers", watched, metric_source))


@pytest.mark.check("RT-3")
def test_trigger_readiness_fluctuation(
    watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence
) -> None:
    evidence.judge("RT-3 measurements", measured_by("RT-3", "triggers", watched, metric_source))


@pytest.mark.check("RT-4")
def test_trigger_push_failures(watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence) -> None:
    evidence.judge("RT-4 measurements", measured_by("RT-4", "triggers", watched, metric_source))


@pytest.mark.check("RV-4")
def test_metrics_stable_after_rollback(
    watched: Watched, metric_source: metric_gate.MetricSource, evidence: Evidence
) -> None:
    objectives = tuple(sorted(watched["objectives"]))
    evidence.judge("RV-4 measurements", measured_by("RV-4", "objectives", watched, metric_source, objectives))
