"""GL-2, GL-3, DR-1, DR-2: backup freshness and restore tests (runbook 2.3, 5, 8).

The package, one idea per module:

- `settings` — the ``backups`` section → `BackupSettings` (`parse_backup_settings`);
- `store` — backups and restore records read through `pytest_wimmelgate.probes.s3` and
  `pytest_wimmelgate.probes.mongo`, with the backup time convention;
- `checks` — the ``check_*`` functions judging that data;
- `runs` — the ``run_*`` functions a suite calls: fetch, judge, and an unreachable store
  as a failed result;
- `model` — the data the checks judge.

Categories: unreachable S3/MongoDB → ``infrastructure unreachable``; a missing bucket or
refused credentials → ``configuration missing``; no backup object / no restore record →
``no data``; a backup or restore test that is too old, a gap in the daily backups, or a
newest restore test that failed → ``product defect``.
"""

from __future__ import annotations

from pytest_wimmelgate.domain.backups.checks import (
    check_daily_backups,
    check_last_restore,
    check_newest_backup,
    check_weekly_restore,
)
from pytest_wimmelgate.domain.backups.model import (
    BackupListing,
    BackupObject,
    BackupResult,
    RestoreRecord,
    RestoreRecords,
    time_from_key,
)
from pytest_wimmelgate.domain.backups.runs import (
    fetch_restore_records,
    run_daily_backups,
    run_last_restore,
    run_newest_backup,
    run_weekly_restore,
)
from pytest_wimmelgate.domain.backups.settings import SECTION, BackupSettings, parse_backup_settings
from pytest_wimmelgate.domain.backups.store import (
    HEAD_NEWEST,
    META_KEY,
    list_backups,
    restore_records_mongo,
    restore_records_s3,
)
from pytest_wimmelgate.probes.s3 import S3Location

__all__ = [
    "HEAD_NEWEST",
    "META_KEY",
    "SECTION",
    "BackupListing",
    "BackupObject",
    "BackupResult",
    "BackupSettings",
    "RestoreRecord",
    "RestoreRecords",
    "S3Location",
    "check_daily_backups",
    "check_last_restore",
    "check_newest_backup",
    "check_weekly_restore",
    "fetch_restore_records",
    "list_backups",
    "parse_backup_settings",
    "restore_records_mongo",
    "restore_records_s3",
    "run_daily_backups",
    "run_last_restore",
    "run_newest_backup",
    "run_weekly_restore",
    "time_from_key",
]
