"""The observability checks (runbook 2.2, 4, 6) as `CheckResult`s: SG-8, SG-9, SG-10, PD-5, PS-1.

Each function states its criterion, calls the probe of its system (`pytest_wimmelgate.probes`),
and turns the probe's `ProbeError` into a failed result with its category and evidence
(`measured`). The settings are the parsed sections (`config.sections.observability`);
``check_id`` lets another check of the same system reuse a function with other settings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pytest_wimmelgate.domain.result import Attachment, CheckResult, Observed, measured
from pytest_wimmelgate.errors import NotConfigured

if TYPE_CHECKING:
    from pytest_wimmelgate.config.sections.observability import GrafanaSettings, LogsSettings, OtlpSettings
    from pytest_wimmelgate.probes.elastic_stack import Auth


def logs_auth(settings: LogsSettings) -> Auth:
    """The probes' credentials: the API key, else basic auth, else none."""
    if settings.api_key:
        return settings.api_key
    return (settings.username, settings.password or "") if settings.username else None


def index_pattern(settings: LogsSettings, environment: str) -> str:
    """The configured index pattern, by default ``backend-<environment>-*``."""
    return settings.index_pattern or f"backend-{environment}-*"


def check_logs_flow(
    settings: LogsSettings,
    environment: str,
    run_id: str,
    send_canary: Callable[[], object],
    *,
    check_id: str = "SG-8",
) -> CheckResult:
    """SG-8: recent log lines arrive in the index pattern, and the line of a request made
    now (``send_canary``, carrying ``run_id``) is found within ``marker_within_s``."""
    from pytest_wimmelgate.probes import elasticsearch

    if settings.url is None:
        raise NotConfigured("logs.url")
    url, pattern, auth = settings.url, index_pattern(settings, environment), logs_auth(settings)

    def probe(seen: Observed) -> None:
        recent = elasticsearch.count_recent(
            url, pattern, since_minutes=settings.recent_minutes, auth=auth, timeout=settings.timeout_s
        )
        seen.evidence["recent log documents"] = recent.evidence()
        send_canary()
        marker = elasticsearch.find_run_marker(
            url,
            pattern,
            run_id,
            field=settings.run_id_field,
            within_s=settings.marker_within_s,
            auth=auth,
            timeout=settings.timeout_s,
        )
        seen.evidence["run marker"] = marker.evidence()

    criterion = (
        f"log lines of the last {settings.recent_minutes} min in {pattern}, and this run's marker "
        f"({settings.run_id_field}={run_id}) within {settings.marker_within_s:g} s"
    )
    return measured(check_id, criterion, probe)


def check_otlp_export(settings: OtlpSettings, run_id: str, *, check_id: str = "SG-9") -> CheckResult:
    """SG-9: the collector accepts a span exported with the environment's headers and refuses
    one without credentials."""
    from pytest_wimmelgate.probes import otlp

    def probe(seen: Observed) -> None:
        result = otlp.check_export(settings.endpoint, settings.headers, timeout=settings.timeout_s, run_id=run_id)
        seen.evidence.update(result.evidence())

    return measured(check_id, "OTLP export accepted with the environment's token and refused without it", probe)


def check_dashboards(settings: GrafanaSettings, *, check_id: str = "SG-10") -> CheckResult:
    """SG-10: each dashboard is found by title and loads with at least one panel; with
    ``screenshots`` each dashboard's first panel is rendered as evidence."""
    from pytest_wimmelgate.probes import grafana

    def probe(seen: Observed) -> None:
        loaded = grafana.dashboards_load(
            settings.url, list(settings.dashboards), token=settings.token, timeout=settings.timeout_s
        )
        seen.evidence.update(loaded.evidence())
        if not settings.screenshots:
            return
        for dashboard in loaded.dashboards:
            if dashboard.uid:
                image = grafana.render_panel_png(
                    settings.url, dashboard.uid, 1, token=settings.token, timeout=settings.timeout_s
                )
                body = image.png if image.png else image.note or "no image"
                seen.attachments.append(Attachment(f"dashboard {dashboard.title}", body))

    return measured(check_id, f"Grafana dashboards load: {', '.join(settings.dashboards)}", probe)


def check_saved_searches(settings: LogsSettings, *, check_id: str = "PD-5") -> CheckResult:
    """PD-5: each saved search exists in Kibana / OpenSearch Dashboards (hits are informative)."""
    from pytest_wimmelgate.probes import kibana

    if settings.dashboards_url is None:
        raise NotConfigured("logs.dashboards_url")
    dashboards_url = settings.dashboards_url

    def probe(seen: Observed) -> None:
        found = kibana.saved_searches(
            dashboards_url,
            list(settings.saved_searches),
            auth=logs_auth(settings),
            timeout=settings.timeout_s,
            api="opensearch" if settings.dashboards_api == "opensearch" else "kibana",
            es_url=settings.url,
        )
        seen.evidence.update(found.evidence())

    return measured(check_id, f"saved searches exist: {', '.join(settings.saved_searches)}", probe)


def post_release_annotation(
    settings: GrafanaSettings, *, version: str, commit: str, environment: str, run_id: str, check_id: str = "PS-1"
) -> CheckResult:
    """PS-1: the "Release <version> (<commit>)" annotation is posted to Grafana."""
    from pytest_wimmelgate.probes import grafana

    def probe(seen: Observed) -> None:
        annotation = grafana.post_release_annotation(
            settings.url,
            token=settings.token,
            version=version,
            commit=commit,
            environment=environment,
            dashboard_uid=settings.annotation_dashboard_uid,
            tags=("wimmelgate", run_id),
            timeout=settings.timeout_s,
        )
        seen.evidence.update(annotation.evidence())

    return measured(check_id, f"Release annotation posted for {version} ({commit})", probe)
