"""Sections of the operations systems: PagerDuty (GL-1), Statuspage (PF-4), Alertmanager (GL-4, AL-2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytest_wimmelgate.config.sections.reader import Node

TEMPLATES = ("API-Störung", "Push-Probleme", "DB-Failover")


@dataclass(frozen=True)
class PagerDutySettings:
    api_url: str
    token: str = field(repr=False)
    schedule_id: str = ""
    timeout_s: float = 5.0


def parse_pagerduty(tree: Any, source: str) -> PagerDutySettings:
    node = Node(tree, source, "pagerduty")
    return PagerDutySettings(
        api_url=node.url("api_url", "https://api.pagerduty.com"),
        token=node.text("token"),
        schedule_id=node.text("schedule_id"),
        timeout_s=node.seconds("timeout_s", 5),
    )


@dataclass(frozen=True)
class StatuspageSettings:
    api_url: str
    token: str = field(repr=False)
    page_id: str = ""
    templates: tuple[str, ...] = TEMPLATES
    timeout_s: float = 5.0


def parse_statuspage(tree: Any, source: str) -> StatuspageSettings:
    node = Node(tree, source, "statuspage")
    return StatuspageSettings(
        api_url=node.url("api_url", "https://api.statuspage.io"),
        token=node.text("token"),
        page_id=node.text("page_id"),
        templates=node.texts("templates", TEMPLATES),
        timeout_s=node.seconds("timeout_s", 5),
    )


@dataclass(frozen=True)
class AlertmanagerSettings:
    url: str
    timeout_s: float = 5.0
    blocking_severities: tuple[str, ...] = ("P1", "P2")
    severity_label: str = "severity"


def parse_alertmanager(tree: Any, source: str) -> AlertmanagerSettings:
    node = Node(tree, source, "alertmanager")
    node.only(("url", "timeout_s", "blocking_severities", "severity_label"))
    return AlertmanagerSettings(
        url=node.url("url"),
        timeout_s=node.seconds("timeout_s", 5),
        blocking_severities=node.texts("blocking_severities", ("P1", "P2")),
        severity_label=node.text("severity_label", "severity"),
    )
