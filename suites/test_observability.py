"""Observability (runbook 2.2, 4, 6): logs, OTLP, Grafana dashboards, saved searches, annotation."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.contract.client import ContractClient
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.probes import elasticsearch, grafana, kibana, otlp

DASHBOARDS = ("Backend / API", "MongoDB", "Push/Notifications")
SAVED_SEARCHES = ("Auth 401/429", "MongoDB Ping Fehler", "Push-Zustellung fehlgeschlagen")


def _logs_auth(wg_env: Environment) -> Any:
    api_key = wg_env.get("logs.api_key", None)
    if api_key:
        return str(api_key)
    user = wg_env.get("logs.username", None)
    return (str(user), str(wg_env.get("logs.password"))) if user else None


@pytest.mark.check("SG-8")
def test_logs_flow_and_this_runs_marker_is_found(
    wg_env: Environment, backend: ContractClient, wg_run: RunContext, evidence: Evidence
) -> None:
    url = str(wg_env.get("logs.url"))
    pattern = str(wg_env.get("logs.index_pattern", f"backend-{wg_env.name}-*"))
    auth = _logs_auth(wg_env)
    timeout = float(wg_env.get("logs.timeout_s", 5))
    recent = elasticsearch.count_recent(
        url, pattern, since_minutes=int(wg_env.get("logs.recent_minutes", 15)), auth=auth, timeout=timeout
    )
    evidence.json("recent log documents", recent.evidence())
    backend.health()  # the canary: a request carrying this run's id
    marker = elasticsearch.find_run_marker(
        url,
        pattern,
        wg_run.run_id,
        field=str(wg_env.get("logs.run_id_field", "run_id")),
        within_s=float(wg_env.get("logs.marker_within_s", 60)),
        auth=auth,
        timeout=timeout,
    )
    evidence.json("run marker", marker.evidence())


@pytest.mark.check("SG-9")
def test_otlp_export_accepted_with_token_and_rejected_without(
    wg_env: Environment, wg_run: RunContext, evidence: Evidence
) -> None:
    result = otlp.check_export(
        str(wg_env.get("otlp.endpoint")),
        str(wg_env.get("otlp.headers")),
        timeout=float(wg_env.get("otlp.timeout_s", 5)),
        run_id=wg_run.run_id,
    )
    evidence.json("OTLP export", result.evidence())


@pytest.mark.check("SG-10")
def test_grafana_dashboards_load(wg_env: Environment, evidence: Evidence) -> None:
    url, token = str(wg_env.get("grafana.url")), str(wg_env.get("grafana.token"))
    timeout = float(wg_env.get("grafana.timeout_s", 5))
    loaded = grafana.dashboards_load(
        url, list(wg_env.get("grafana.dashboards", list(DASHBOARDS))), token=token, timeout=timeout
    )
    evidence.json("dashboards", loaded.evidence())
    if wg_env.get("grafana.screenshots", False):
        for dashboard in loaded.dashboards:
            if dashboard.uid:
                image = grafana.render_panel_png(url, dashboard.uid, 1, token=token, timeout=timeout)
                if image.png:
                    evidence.png(f"dashboard {dashboard.title}", image.png)
                else:
                    evidence.text(f"dashboard {dashboard.title}", image.note or "no image")


@pytest.mark.check("PD-5")
def test_saved_searches_exist(wg_env: Environment, evidence: Evidence) -> None:
    found = kibana.saved_searches(
        str(wg_env.get("logs.dashboards_url")),
        list(wg_env.get("logs.saved_searches", list(SAVED_SEARCHES))),
        auth=_logs_auth(wg_env),
        timeout=float(wg_env.get("logs.timeout_s", 5)),
        api=str(wg_env.get("logs.dashboards_api", "kibana")),
        es_url=str(wg_env.get("logs.url", "")) or None,
    )
    evidence.json("saved searches", found.evidence())


@pytest.mark.check("PS-1")
def test_release_annotation_posted(wg_env: Environment, wg_run: RunContext, evidence: Evidence) -> None:
    annotation = grafana.post_release_annotation(
        str(wg_env.get("grafana.url")),
        token=str(wg_env.get("grafana.token")),
        version=wg_run.version,
        commit=wg_run.commit,
        environment=wg_env.name,
        dashboard_uid=wg_env.get("grafana.annotation_dashboard_uid", None),
        tags=("wimmelgate", wg_run.run_id),
        timeout=float(wg_env.get("grafana.timeout_s", 5)),
    )
    evidence.json("release annotation", annotation.evidence())
