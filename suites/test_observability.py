"""Observability (runbook 2.2, 4, 6): logs, OTLP, Grafana dashboards, saved searches, annotation."""

from __future__ import annotations

import pytest

from pytest_wimmelgate.config.sections import RunSettings
from pytest_wimmelgate.config.sections.observability import GrafanaSettings, LogsSettings, OtlpSettings
from pytest_wimmelgate.contract.client import ContractClient
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.domain import observability


@pytest.fixture(scope="session")
def logs(wg_settings: RunSettings) -> LogsSettings:
    """Elasticsearch/OpenSearch and Kibana/OpenSearch Dashboards (``logs``)."""
    settings: LogsSettings = wg_settings.get("logs")
    return settings


@pytest.fixture(scope="session")
def otlp(wg_settings: RunSettings) -> OtlpSettings:
    """The OTLP/HTTP collector and the environment's headers (``otlp``)."""
    settings: OtlpSettings = wg_settings.get("otlp")
    return settings


@pytest.fixture(scope="session")
def grafana(wg_settings: RunSettings) -> GrafanaSettings:
    """The Grafana API and the dashboards that must load (``grafana``)."""
    settings: GrafanaSettings = wg_settings.get("grafana")
    return settings


@pytest.mark.check("SG-8")
def test_logs_flow_and_this_runs_marker_is_found(
    logs: LogsSettings, wg_settings: RunSettings, backend: ContractClient, wg_run: RunContext, evidence: Evidence
) -> None:
    # the canary: a health request carrying this run's id, sent once recent logs are seen
    result = observability.check_logs_flow(logs, wg_settings.rules.name, wg_run.run_id, send_canary=backend.health)
    evidence.judge("logs", result)


@pytest.mark.check("SG-9")
def test_otlp_export_accepted_with_token_and_rejected_without(
    otlp: OtlpSettings, wg_run: RunContext, evidence: Evidence
) -> None:
    result = observability.check_otlp_export(otlp, wg_run.run_id)
    evidence.judge("OTLP export", result)


@pytest.mark.check("SG-10")
def test_grafana_dashboards_load(grafana: GrafanaSettings, evidence: Evidence) -> None:
    result = observability.check_dashboards(grafana)
    evidence.judge("dashboards", result)


@pytest.mark.check("PD-5")
def test_saved_searches_exist(logs: LogsSettings, evidence: Evidence) -> None:
    result = observability.check_saved_searches(logs)
    evidence.judge("saved searches", result)


@pytest.mark.check("PS-1")
def test_release_annotation_posted(
    grafana: GrafanaSettings, wg_settings: RunSettings, wg_run: RunContext, evidence: Evidence
) -> None:
    result = observability.post_release_annotation(
        grafana, version=wg_run.version, commit=wg_run.commit, environment=wg_settings.rules.name, run_id=wg_run.run_id
    )
    evidence.judge("release annotation", result)
