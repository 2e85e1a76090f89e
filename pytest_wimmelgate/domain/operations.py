"""The operations checks as `CheckResult`s: GL-1 on call (PagerDuty), GL-4 no blocking alert
(Alertmanager), PF-4 incident templates (Statuspage).

Each function states its criterion, calls the probe of its system and turns the probe's
`ProbeError` into a failed result with its category and evidence (`measured`). The settings
are the parsed sections (`config.sections.operations`); ``check_id`` lets another check of
the same system reuse a function with other settings.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pytest_wimmelgate.domain.result import CheckResult, Observed, measured
from pytest_wimmelgate.errors import Category, CheckFailed

if TYPE_CHECKING:
    from pytest_wimmelgate.config.sections.operations import (
        AlertmanagerSettings,
        PagerDutySettings,
        StatuspageSettings,
    )


def check_on_call(settings: PagerDutySettings, now: datetime, *, check_id: str = "GL-1") -> CheckResult:
    """GL-1: someone is on call for the schedule at ``now`` (the run's clock)."""
    from pytest_wimmelgate.probes import pagerduty

    def probe(seen: Observed) -> None:
        oncall = pagerduty.oncall_now(
            settings.api_url, settings.schedule_id, token=settings.token, timeout=settings.timeout_s, now=now
        )
        seen.evidence.update(oncall.evidence())

    return measured(check_id, f"someone is on call for PagerDuty schedule {settings.schedule_id} now", probe)


def check_no_blocking_alert(settings: AlertmanagerSettings, *, check_id: str = "GL-4") -> CheckResult:
    """GL-4: no active, unsilenced alert of a blocking severity (P1/P2 by default)."""
    from pytest_wimmelgate.probes import alertmanager

    severities = settings.blocking_severities

    def probe(seen: Observed) -> None:
        alerts = alertmanager.active_alerts(settings.url, timeout=settings.timeout_s)
        seen.evidence["active alerts"] = [a.evidence() for a in alerts]
        blocking = alertmanager.blocking_alerts(alerts, severities=severities, label=settings.severity_label)
        if blocking:
            names = ", ".join(sorted({f"{a.name} ({a.labels.get('severity', '?')})" for a in blocking}))
            raise CheckFailed(Category.PRODUCT, f"{len(blocking)} active {'/'.join(severities)} alert(s): {names}")

    return measured(check_id, f"no active {'/'.join(severities)} alert", probe)


def check_incident_templates(settings: StatuspageSettings, *, check_id: str = "PF-4") -> CheckResult:
    """PF-4: the Statuspage page has every required incident template."""
    from pytest_wimmelgate.probes import statuspage

    def probe(seen: Observed) -> None:
        found = statuspage.incident_templates(
            settings.api_url,
            settings.page_id,
            list(settings.templates),
            token=settings.token,
            timeout=settings.timeout_s,
        )
        seen.evidence.update(found.evidence())

    return measured(check_id, f"Statuspage incident templates exist: {', '.join(settings.templates)}", probe)
