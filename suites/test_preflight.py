"""Preflight T-24h (runbook 2.1, 8): PF-1 … PF-4 (EV-1 runs from test_env_check)."""

from __future__ import annotations

import pytest

from pytest_wimmelgate.config.sections import RunSettings
from pytest_wimmelgate.config.sections.operations import StatuspageSettings
from pytest_wimmelgate.config.sections.release import ChangelogSettings
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.domain import artifact_identity, changelog, migrations, operations


@pytest.fixture(scope="session")
def changelog_settings(wg_settings: RunSettings) -> ChangelogSettings:
    """Where the changelog is (``changelog``)."""
    settings: ChangelogSettings = wg_settings.get("changelog")
    return settings


@pytest.fixture(scope="session")
def statuspage(wg_settings: RunSettings) -> StatuspageSettings:
    """The Statuspage API, the page and its required incident templates (``statuspage``)."""
    settings: StatuspageSettings = wg_settings.get("statuspage")
    return settings


@pytest.mark.check("PF-1")
def test_version_and_commit_are_known_and_recorded(wg_run: RunContext, evidence: Evidence) -> None:
    result = artifact_identity.check_known(wg_run)
    evidence.judge("artifact", result)


@pytest.mark.check("PF-2")
def test_changelog_has_an_entry_for_the_version(
    changelog_settings: ChangelogSettings, wg_run: RunContext, evidence: Evidence
) -> None:
    result = changelog.check_entry(changelog_settings.path, wg_run.version)
    evidence.judge("changelog", result)


@pytest.mark.check("PF-3")
def test_every_migration_has_a_down_migration(
    migration_settings: migrations.MigrationSettings, evidence: Evidence
) -> None:
    settings = migration_settings
    result = migrations.check_down_migrations(settings.folder, settings.glob, settings.backup_plan)
    evidence.judge("migrations", result)


@pytest.mark.check("PF-4")
def test_statuspage_incident_templates_exist(statuspage: StatuspageSettings, evidence: Evidence) -> None:
    result = operations.check_incident_templates(statuspage)
    evidence.judge("incident templates", result)
