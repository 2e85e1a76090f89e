"""Deep validation of the environment sections a run will read, before any check runs.

The JSON Schema checks shape; these parsers check meaning (rule names, calendars,
objectives). A bad section ends the run with exit 4 and its key path, instead of
failing checks one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pytest_wimmelgate.config.environment import Environment


def _variables(env: Environment) -> Any:
    from pytest_wimmelgate.domain.envcheck import parse_rules

    return parse_rules(env.get("variables"), env.source)


def _calendar(env: Environment) -> Any:
    from pytest_wimmelgate.domain.calendar import parse_calendar

    return parse_calendar(env.get("calendar"), env.source)


def _backups(env: Environment) -> Any:
    from pytest_wimmelgate.domain.backups import parse_backup_settings

    return parse_backup_settings(env.get("backups"), env.source)


def _migrations(env: Environment) -> Any:
    from pytest_wimmelgate.domain.migrations import parse_migration_settings

    return parse_migration_settings(env.get("migrations"), env.source)


def _metrics(env: Environment) -> Any:
    from pytest_wimmelgate.metrics import gate as metric_gate

    for group in metric_gate.GROUPS:
        if env.has(f"metrics.{group}"):
            metric_gate.objectives(env, group)
    return metric_gate.WatchSettings.from_mapping(env.get("metrics.watch", {}) or {}, env.source)


def _alerting(env: Environment) -> Any:
    from pytest_wimmelgate.domain import alertrules

    if env.has("alerting.rules"):
        alertrules.expected_rules(env.get("alerting.rules"), source=env.source)
    if env.has("alerting.routing"):
        alertrules.expected_routing(env.get("alerting.routing"), source=env.source)


VALIDATORS: dict[str, Callable[[Environment], Any]] = {
    "variables": _variables,
    "calendar": _calendar,
    "backups": _backups,
    "migrations": _migrations,
    "metrics": _metrics,
    "alerting": _alerting,
}


def validate_sections(env: Environment, sections: Iterable[str]) -> None:
    """Parse every present section among ``sections``; raises `ConfigError` on the first problem."""
    for section in sections:
        check = VALIDATORS.get(section)
        if check is not None and env.has(section):
            check(env)
