"""Release calendar and change freeze (runbook 5), evaluated in Europe/Berlin: CW-1, CW-2."""

from __future__ import annotations

import pytest

from pytest_wimmelgate.config.sections import RunSettings
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.domain import approvals, calendar


@pytest.fixture(scope="session")
def release_calendar(wg_settings: RunSettings) -> calendar.Calendar:
    """The environment's release windows and freeze (``calendar``)."""
    settings: calendar.Calendar = wg_settings.get("calendar")
    return settings


@pytest.mark.check("CW-1")
def test_inside_a_release_window(
    release_calendar: calendar.Calendar,
    wg_run: RunContext,
    run_approvals: tuple[approvals.Approval, ...],
    evidence: Evidence,
) -> None:
    result = calendar.check_window(release_calendar, wg_run.clock, run_approvals)
    evidence.judge("release window", result)


@pytest.mark.check("CW-2")
def test_outside_the_change_freeze(
    release_calendar: calendar.Calendar,
    wg_run: RunContext,
    run_approvals: tuple[approvals.Approval, ...],
    evidence: Evidence,
) -> None:
    result = calendar.check_freeze(release_calendar, wg_run.clock, run_approvals)
    evidence.judge("change freeze", result)
