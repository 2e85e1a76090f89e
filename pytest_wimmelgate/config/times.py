"""The one parser of ISO 8601 instants, with one policy for a time without offset.

Every instant the plugin reads goes through this module; all results are aware UTC.

- **Input a person wrote** (``--wg-now``, ``WIMMELGATE_NOW``, an environment or approvals
  file): `parse_instant`. A time without offset is an error, because it is ambiguous (which
  zone, and which side of a DST change?): `ConfigError` naming the source and key path.
- **Data an external system wrote** (S3 ``LastModified`` and ``x-amz-meta-backup-time``, a
  timestamp in an object key, a restore record, a PagerDuty shift, a gate summary):
  `parse_external_instant` and `as_utc`. These systems write UTC; a time without offset is
  read as UTC. A text that is not ISO 8601 gives ``None``: the caller counts the record as
  unreadable, it does not fail the run.

Both accept ``Z`` as well as ``+01:00``, the basic format (``20261127T030000Z``) and
fractions of seconds. No error message quotes the text it rejects.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pytest_wimmelgate.errors import ConfigError

EXAMPLE = "2026-11-24T20:30:00+01:00"


def _parse(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        return None


def parse_instant(text: str, source: str, key_path: str = "") -> datetime:
    """An instant a person wrote; a time without offset or Z raises `ConfigError`."""
    moment = _parse(text) if isinstance(text, str) else None
    if moment is None:
        raise ConfigError(source, key_path, f"an ISO 8601 time like {EXAMPLE}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ConfigError(source, key_path, "a time with an offset or Z (a time without one is ambiguous)")
    return moment.astimezone(UTC)


def parse_external_instant(text: object) -> datetime | None:
    """An instant an external system wrote; no offset means UTC; not ISO 8601 gives None."""
    if not isinstance(text, str):
        return None
    moment = _parse(text)
    return None if moment is None else as_utc(moment)


def as_utc(moment: datetime) -> datetime:
    """An external system's datetime as aware UTC; a naive one is UTC (BSON, boto3)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
