"""Release calendar and change freeze (runbook 5), evaluated in Europe/Berlin: CW-1, CW-2."""

from __future__ import annotations

import pytest

from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.domain import approvals, calendar


@pytest.fixture(scope="session")
def release_calendar(wg_env: Environment) -> calendar.Calendar:
    """The environment's release windows and freeze."""
    return calendar.parse_calendar(wg_env.get("calendar", None), wg_env.source)


@pytest.mark.check("CW-1")
def test_inside_a_release_window(release_calendar: calendar.Calendar, wg_run: RunContext, evidence: Evidence) -> None:
    result = calendar.check_window(release_calendar, wg_run.clock, approvals.parse_approvals(wg_run.approvals))
    evidence.json("release window", result.evidence())
    result.raise_for_failure()


@pytest.mark.check("CW-2")
def test_outside_the_change_freeze(release_calendar: calendar.Calendar, wg_run: RunContext, evidence: Evidence) -> None:
    result = calendar.check_freeze(release_calendar, wg_run.clock, approvals.parse_approvals(wg_run.approvals))
    evidence.json("change freeze", result.evidence())
    result.raise_for_failure()
