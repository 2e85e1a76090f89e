"""Preflight T-24h (runbook 2.1, 8): PF-1 … PF-4 (EV-1 runs from test_env_check)."""

from __future__ import annotations

import pytest

from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.domain import changelog, migrations
from pytest_wimmelgate.errors import Category, CheckFailed
from pytest_wimmelgate.probes import statuspage

TEMPLATES = ("API-Störung", "Push-Probleme", "DB-Failover")


@pytest.mark.check("PF-1")
def test_version_and_commit_are_known_and_recorded(wg_run: RunContext, evidence: Evidence) -> None:
    evidence.parameter("version", f"{wg_run.version} ({wg_run.version_source})")
    evidence.parameter("commit", f"{wg_run.commit} ({wg_run.commit_source})")
    unknown = [
        name
        for name, source in (("version", wg_run.version_source), ("commit", wg_run.commit_source))
        if source == "fallback"
    ]
    if unknown:
        raise CheckFailed(
            Category.CONFIG,
            f"artifact {' and '.join(unknown)} unknown: give --wg-version and --wg-commit (or the CI variables)",
        )


@pytest.mark.check("PF-2")
def test_changelog_has_an_entry_for_the_version(wg_env: Environment, wg_run: RunContext, evidence: Evidence) -> None:
    result = changelog.check_entry(str(wg_env.get("changelog.path")), wg_run.version)
    evidence.json("changelog", result.evidence())
    result.raise_for_failure()


@pytest.mark.check("PF-3")
def test_every_migration_has_a_down_migration(wg_env: Environment, evidence: Evidence) -> None:
    settings = migrations.parse_migration_settings(wg_env.get("migrations", None), wg_env.source)
    result = migrations.check_down_migrations(settings.folder, settings.glob, settings.backup_plan)
    evidence.json("migrations", result.evidence())
    result.raise_for_failure()


@pytest.mark.check("PF-4")
def test_statuspage_incident_templates_exist(wg_env: Environment, evidence: Evidence) -> None:
    found = statuspage.incident_templates(
        wg_env.get("statuspage.api_url", None),
        str(wg_env.get("statuspage.page_id")),
        list(wg_env.get("statuspage.templates", list(TEMPLATES))),
        token=str(wg_env.get("statuspage.token")),
        timeout=float(wg_env.get("statuspage.timeout_s", 5)),
    )
    evidence.json("incident templates", found.evidence())
