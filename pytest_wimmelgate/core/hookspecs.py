"""Hooks the gate run offers to other plugins (the contract fixtures, a team's own plugin).

A gate run's verdict is computed once, on the controller, in ``pytest_sessionfinish``;
these hooks are asked just before, after every check has reported.
"""

from __future__ import annotations

import pytest


@pytest.hookspec
def pytest_wimmelgate_run_warnings(config: pytest.Config) -> list[str]:
    """Warnings of the run as a whole, not of one check (e.g. records a cleanup could not delete).

    Each becomes a WARN finding of the verdict: listed in the summary, the report and the
    release note; a warning never turns a GO into a NO-GO.
    """
    raise NotImplementedError


@pytest.hookspec
def pytest_wimmelgate_run_notes(config: pytest.Config) -> list[str]:
    """Notes of passed checks as ``ID: text`` (e.g. what a check could not verify and why)."""
    raise NotImplementedError
