"""Parse once, freeze, hand over: the environment sections a run reads, as typed settings.

Each section of an environment file has one parser, ``parse(node, source) -> settings``,
that turns the resolved section into a frozen object and raises `ConfigError` with the
file and key path on the first problem. At start the run parses exactly the sections its
selected checks read (`catalogue` ``uses=``) into `RunSettings`, which lives in
``config.stash`` and reaches the suites through the ``wg_settings`` fixture; xdist workers
parse the same resolved sections sent by the controller instead of reading files.
Parsers are named by import path and imported on first use, so a run never imports the
modules of systems it does not check.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.config.sections.run import RunRules, parse_run_rules
from pytest_wimmelgate.errors import NotConfigured

#: section name -> "module:function" of its parser
PARSERS: dict[str, str] = {
    "sandbox": "pytest_wimmelgate.config.sections.targets:parse_sandbox",
    "backend": "pytest_wimmelgate.contract.parse:parse_backend",
    "smoke_account": "pytest_wimmelgate.config.sections.targets:parse_smoke_account",
    "database": "pytest_wimmelgate.config.sections.targets:parse_database",
    "faults": "pytest_wimmelgate.config.sections.targets:parse_faults",
    "logs": "pytest_wimmelgate.config.sections.observability:parse_logs",
    "otlp": "pytest_wimmelgate.config.sections.observability:parse_otlp",
    "grafana": "pytest_wimmelgate.config.sections.observability:parse_grafana",
    "pagerduty": "pytest_wimmelgate.config.sections.operations:parse_pagerduty",
    "statuspage": "pytest_wimmelgate.config.sections.operations:parse_statuspage",
    "alertmanager": "pytest_wimmelgate.config.sections.operations:parse_alertmanager",
    "changelog": "pytest_wimmelgate.config.sections.release:parse_changelog",
    "artifacts": "pytest_wimmelgate.config.sections.release:parse_artifacts",
    "staging_evidence": "pytest_wimmelgate.config.sections.release:parse_staging_evidence",
    "variables": "pytest_wimmelgate.domain.envcheck:parse_rules",
    "calendar": "pytest_wimmelgate.domain.calendar:parse_calendar",
    "backups": "pytest_wimmelgate.domain.backups:parse_backup_settings",
    "migrations": "pytest_wimmelgate.domain.migrations:parse_migration_settings",
    "alerting": "pytest_wimmelgate.domain.alerting.settings:parse_alerting",
    "metrics": "pytest_wimmelgate.metrics.settings:parse_metrics",
}


def parser_of(section: str) -> Any:
    """The parser function of ``section``."""
    module, _, name = PARSERS[section].partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class RunSettings:
    """The typed settings of one run: the top-level rules plus each parsed section."""

    rules: RunRules
    sections: Mapping[str, Any] = field(default_factory=dict)
    #: the resolved sections they were parsed from (sent to xdist workers)
    resolved: Mapping[str, Any] = field(default_factory=dict, repr=False)
    #: sections present but left empty on purpose (``${VAR:-}``), with the key that is missing
    absent: Mapping[str, str] = field(default_factory=dict)
    #: the environment file they come from (for errors found while a check runs)
    source: str = ""

    def has(self, section: str) -> bool:
        return section in self.sections

    def get(self, section: str) -> Any:
        """The parsed section; `NotConfigured` (the check skips, fail-closed) when the file has none."""
        try:
            return self.sections[section]
        except KeyError:
            raise NotConfigured(self.absent.get(section, section)) from None


def parse_sections(env: Environment, sections: Iterable[str]) -> RunSettings:
    """Resolve and parse ``sections`` of ``env`` (those it has); the first problem is a `ConfigError`."""
    resolved: dict[str, Any] = {}
    for section in dict.fromkeys(sections):
        if section in PARSERS and env.has(section):
            resolved[section] = env.get(section)
    top = {key: env.get(key) for key in ("name", "protected", "runbook_url", "secrets", "waivers") if env.has(key)}
    return from_resolved(top, resolved, env.source, env.name)


def from_resolved(
    top: Mapping[str, Any],
    resolved: Mapping[str, Any],
    source: str,
    name: str,
    absent: Mapping[str, str] | None = None,
) -> RunSettings:
    """Parse already resolved sections (on the controller, or on a worker from what the controller sent).

    ``absent``: sections the controller found left empty on purpose; a worker takes its word.
    """
    rules = parse_run_rules(top, source, name)
    parsed: dict[str, Any] = {}
    absent = dict(absent or {})
    for section, node in resolved.items():
        if section in absent:
            continue
        try:
            parsed[section] = parser_of(section)(node, source)
        except NotConfigured as missing:
            absent[section] = missing.key_path
    return RunSettings(
        rules=rules, sections=parsed, resolved={"top": dict(top), **resolved}, absent=absent, source=source
    )
