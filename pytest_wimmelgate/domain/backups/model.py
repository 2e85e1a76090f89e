"""What the backup checks judge: backup objects, restore records, and their times."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from pytest_wimmelgate.config.times import as_utc, parse_external_instant
from pytest_wimmelgate.domain.result import CheckResult

_KEY_TIME = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})[T_ ]?(\d{2})[:\-]?(\d{2})[:\-]?(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")


@dataclass(frozen=True)
class BackupResult(CheckResult):
    """Outcome of GL-2, GL-3, DR-1 or DR-2."""


@dataclass(frozen=True)
class BackupObject:
    """One backup object and the time it was taken."""

    key: str
    taken_at: datetime
    time_source: str  # "metadata", "key" or "last-modified"
    size: int


@dataclass(frozen=True)
class BackupListing:
    """What a prefix holds: backups, and what was set aside (with counts)."""

    where: str
    backups: tuple[BackupObject, ...]
    empty_objects: int = 0
    future_objects: int = 0

    def newest(self) -> BackupObject | None:
        return max(self.backups, key=lambda b: b.taken_at, default=None)


@dataclass(frozen=True)
class RestoreRecord:
    """One documented restore test."""

    restored_at: datetime
    result: str
    backup: str
    ticket: str
    origin: str  # S3 key or MongoDB _id

    @property
    def ok(self) -> bool:
        return self.result.strip().lower() == "ok"


@dataclass(frozen=True)
class RestoreRecords:
    where: str
    records: tuple[RestoreRecord, ...]
    unreadable: tuple[str, ...] = ()
    future: int = 0


def iso(value: datetime) -> str:
    """``2026-11-28T03:00:00Z``."""
    return as_utc(value).isoformat(timespec="seconds").replace("+00:00", "Z")


def describe_age(now: datetime, then: datetime) -> str:
    """``9.0 h`` below two days, else ``3.0 days``."""
    seconds = (now - then).total_seconds()
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def time_from_key(key: str) -> datetime | None:
    """The last ISO 8601 timestamp inside ``key`` (``2026-11-27T03:00:00Z``,
    ``20261127T030000Z``), as aware UTC (UTC if no offset); else None."""
    for match in reversed(list(_KEY_TIME.finditer(key))):
        year, month, day, hour, minute, second, fraction, offset = match.groups()
        text = f"{year}-{month}-{day}T{hour}:{minute}:{second}{fraction or ''}"
        if offset and offset != "Z":
            text += offset if ":" in offset else f"{offset[:3]}:{offset[3:]}"
        found = parse_external_instant(text)
        if found is not None:
            return found
    return None
