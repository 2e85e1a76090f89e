"""GL-2, GL-3, DR-1, DR-2 end to end: fetch through the probes, then judge.

A ``run_*`` function turns an unreachable store into a failed `BackupResult` with the
probe's category, so a test only calls ``run_...(...).raise_for_failure()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pytest_wimmelgate.domain.backups.checks import (
    check_daily_backups,
    check_last_restore,
    check_newest_backup,
    check_weekly_restore,
)
from pytest_wimmelgate.domain.backups.model import BackupResult, RestoreRecords
from pytest_wimmelgate.domain.backups.settings import BackupSettings
from pytest_wimmelgate.domain.backups.store import list_backups, restore_records_mongo, restore_records_s3
from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes import s3
from pytest_wimmelgate.probes.s3 import S3Location


def _client(settings: BackupSettings, location: S3Location, environ: Mapping[str, str]) -> Any:
    return s3.client_from_environ(location, environ, settings.access_key_variable, settings.secret_key_variable)


def _guard(check_id: str, fetch: Callable[[], BackupResult]) -> BackupResult:
    try:
        return fetch()
    except ProbeError as exc:
        return BackupResult(check_id, False, exc.reason, exc.category, dict(exc.evidence))


def run_newest_backup(settings: BackupSettings, now: datetime, environ: Mapping[str, str]) -> BackupResult:
    """GL-2 end to end: list the backups, then `check_newest_backup`."""

    def fetch() -> BackupResult:
        client = _client(settings, settings.location, environ)
        listing = list_backups(client, settings.location, now, horizon=settings.max_age + timedelta(days=1))
        return check_newest_backup(listing, now, settings.max_age)

    return _guard("GL-2", fetch)


def run_daily_backups(settings: BackupSettings, now: datetime, environ: Mapping[str, str]) -> BackupResult:
    """DR-1 end to end."""

    def fetch() -> BackupResult:
        client = _client(settings, settings.location, environ)
        listing = list_backups(client, settings.location, now, horizon=timedelta(days=settings.days + 2))
        return check_daily_backups(listing, now, settings.days, settings.timezone)

    return _guard("DR-1", fetch)


def fetch_restore_records(settings: BackupSettings, now: datetime, environ: Mapping[str, str]) -> RestoreRecords:
    """The restore records from the configured store; raises ProbeError."""
    if settings.restore_mongo is not None:
        variable, database, collection = settings.restore_mongo
        uri = (environ.get(variable) or "").strip()
        if not uri:
            raise ProbeError(Category.CONFIG, f"restore records: variable {variable} not set")
        return restore_records_mongo(uri, database, collection, now, settings.location.timeout_s)
    assert settings.restore_location is not None
    client = _client(settings, settings.restore_location, environ)
    return restore_records_s3(client, settings.restore_location, now)


def run_last_restore(settings: BackupSettings, now: datetime, environ: Mapping[str, str]) -> BackupResult:
    """GL-3 end to end."""
    return _guard(
        "GL-3",
        lambda: check_last_restore(fetch_restore_records(settings, now, environ), now, settings.restore_max_age),
    )


def run_weekly_restore(settings: BackupSettings, now: datetime, environ: Mapping[str, str]) -> BackupResult:
    """DR-2 end to end."""
    return _guard(
        "DR-2",
        lambda: check_weekly_restore(fetch_restore_records(settings, now, environ), now, settings.weeks),
    )
