"""Sections of the observability systems: logs (Elasticsearch/OpenSearch, Kibana), OTLP, Grafana."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytest_wimmelgate.config.sections.reader import Node

SAVED_SEARCHES = ("Auth 401/429", "MongoDB Ping Fehler", "Push-Zustellung fehlgeschlagen")
DASHBOARDS = ("Backend / API", "MongoDB", "Push/Notifications")


@dataclass(frozen=True)
class LogsSettings:
    """Where the backend's logs arrive (SG-8) and its saved searches live (PD-5)."""

    url: str | None
    index_pattern: str | None = None
    api_key: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 5.0
    recent_minutes: int = 15
    run_id_field: str = "run_id"
    marker_within_s: float = 60.0
    dashboards_url: str | None = None
    dashboards_api: str = "kibana"
    saved_searches: tuple[str, ...] = SAVED_SEARCHES


def parse_logs(tree: Any, source: str) -> LogsSettings:
    node = Node(tree, source, "logs")
    username = node.optional_text("username")
    return LogsSettings(
        url=node.url("url") if "url" in node else None,
        index_pattern=node.optional_text("index_pattern"),
        api_key=node.optional_text("api_key"),
        username=username,
        password=node.text("password") if username else None,
        timeout_s=node.seconds("timeout_s", 5),
        recent_minutes=node.whole("recent_minutes", 15, minimum=1),
        run_id_field=node.text("run_id_field", "run_id"),
        marker_within_s=node.seconds("marker_within_s", 60),
        dashboards_url=node.url("dashboards_url") if "dashboards_url" in node else None,
        dashboards_api=node.choice("dashboards_api", ("kibana", "opensearch"), "kibana"),
        saved_searches=node.texts("saved_searches", SAVED_SEARCHES),
    )


@dataclass(frozen=True)
class OtlpSettings:
    """The OTLP/HTTP collector and the headers carrying the environment's token (SG-9)."""

    endpoint: str
    headers: str = field(repr=False)
    timeout_s: float = 5.0


def parse_otlp(tree: Any, source: str) -> OtlpSettings:
    node = Node(tree, source, "otlp")
    return OtlpSettings(node.url("endpoint"), node.text("headers"), node.seconds("timeout_s", 5))


@dataclass(frozen=True)
class GrafanaSettings:
    """Grafana: dashboards that must load (SG-10), the release annotation (PS-1)."""

    url: str
    token: str = field(repr=False)
    timeout_s: float = 5.0
    dashboards: tuple[str, ...] = DASHBOARDS
    screenshots: bool = False
    annotation_dashboard_uid: str | None = None


def parse_grafana(tree: Any, source: str) -> GrafanaSettings:
    node = Node(tree, source, "grafana")
    return GrafanaSettings(
        url=node.url("url"),
        token=node.text("token"),
        timeout_s=node.seconds("timeout_s", 5),
        dashboards=node.texts("dashboards", DASHBOARDS),
        screenshots=node.boolean("screenshots", False),
        annotation_dashboard_uid=node.optional_text("annotation_dashboard_uid"),
    )
